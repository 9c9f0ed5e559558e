// Webhooks: registrations, the secret shown once, and the record of their deliveries.
import { Field, ID, InputType, Int, ObjectType, registerEnumType } from "type-graphql";
import type { DeliveryState } from "../../storage/webhook-store.js";
import { DateTimeScalar } from "../scalars.js";
import { PageInfoType } from "./event-types.js";

export const WebhookDeliveryStateEnum = { PENDING: "PENDING", DELIVERED: "DELIVERED", FAILED: "FAILED" } as const;
registerEnumType(WebhookDeliveryStateEnum, {
  name: "WebhookDeliveryState",
  description: "PENDING: not yet acknowledged, tried again at nextAttemptAt; DELIVERED: a 2xx answer; FAILED: given up, the webhook was disabled.",
});

@InputType("CreateWebhookInput")
export class CreateWebhookInput {
  @Field(() => String, { description: "https: (http: only with WEBHOOK_ALLOW_HTTP=true); its addresses must be public unless WEBHOOK_ALLOW_PRIVATE=true." })
  url!: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => ID, { nullable: true, description: "Only changes of this policy." }) policyId?: string | null;
  @Field(() => [ID], { nullable: true, description: "Only changes of these purposes." }) purposeIds?: string[] | null;
}

@ObjectType("Webhook", { description: "A receiver of consent changes, POSTed one by one in position order and signed the Standard Webhooks way." })
export class WebhookType {
  @Field(() => ID) id!: string;
  @Field(() => String) url!: string;
  @Field(() => String, { nullable: true }) description!: string | null;
  @Field(() => ID, { nullable: true }) policyId!: string | null;
  @Field(() => [ID], { nullable: true }) purposeIds!: string[] | null;
  @Field(() => Boolean, { description: "False once disabled (a 410 answer, or no 2xx answer for the whole retry schedule)." }) enabled!: boolean;
  @Field(() => String, { nullable: true }) disabledReason!: string | null;
  @Field(() => DateTimeScalar) createdAt!: number;
  @Field(() => String, { description: "The last change the receiver acknowledged (a consentChanged cursor)." }) cursor!: string;
}

@ObjectType("WebhookCreated")
export class WebhookCreatedType {
  @Field(() => WebhookType) webhook!: WebhookType;
  @Field(() => String, { description: "The signing secret (`whsec_` + base64), shown this once only." }) secret!: string;
}

@ObjectType("WebhookDelivery", { description: "One message to a webhook and how its attempts went." })
export class WebhookDeliveryType {
  @Field(() => ID, { description: "The `webhook-id` header, the same on every attempt." }) messageId!: string;
  @Field(() => String, { description: "The change's cursor." }) cursor!: string;
  @Field(() => String) position!: string;
  @Field(() => WebhookDeliveryStateEnum) state!: DeliveryState;
  @Field(() => Int) attempts!: number;
  @Field(() => Int, { nullable: true, description: "The last attempt's HTTP status; null when no answer came." }) lastStatusCode!: number | null;
  @Field(() => String, { nullable: true, description: "Why the last attempt got no answer (time-out, refused connection, refused address)." })
  lastError!: string | null;
  @Field(() => DateTimeScalar, { nullable: true }) lastAttemptAt!: number | null;
  @Field(() => DateTimeScalar, { nullable: true, description: "When the next attempt is due (PENDING only)." }) nextAttemptAt!: number | null;
}

@ObjectType("WebhookDeliveryEdge")
export class WebhookDeliveryEdgeType {
  @Field(() => String) cursor!: string;
  @Field(() => WebhookDeliveryType) node!: WebhookDeliveryType;
}

@ObjectType("WebhookDeliveryConnection")
export class WebhookDeliveryConnectionType {
  @Field(() => [WebhookDeliveryEdgeType]) edges!: WebhookDeliveryEdgeType[];
  @Field(() => PageInfoType) pageInfo!: PageInfoType;
}
