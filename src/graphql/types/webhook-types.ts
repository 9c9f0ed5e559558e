// Webhooks: registrations, the secret shown once, and the record of their deliveries.
import { Field, ID, InputType, registerEnumType } from "type-graphql";
import { connectionTypes } from "./connection.js";
import { flag, id, int, listOf, nullable, object, objectType, oneOf, text, timestamp } from "./fields.js";

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

export const WebhookType = objectType("Webhook", "A receiver of consent changes, POSTed one by one in position order and signed the Standard Webhooks way.", {
  id: id(),
  url: text(),
  description: nullable(text()),
  policyId: nullable(id()),
  purposeIds: nullable(listOf(id())),
  enabled: flag("False once disabled (a 410 answer, or no 2xx answer for the whole retry schedule)."),
  disabledReason: nullable(text()),
  createdAt: timestamp(),
  cursor: text("The last change the receiver acknowledged (a consentChanged cursor)."),
});
export type WebhookType = InstanceType<typeof WebhookType>;

export const WebhookCreatedType = objectType("WebhookCreated", undefined, {
  webhook: object(WebhookType),
  secret: text("The signing secret (`whsec_` + base64), shown this once only."),
});
export type WebhookCreatedType = InstanceType<typeof WebhookCreatedType>;

export const WebhookDeliveryType = objectType("WebhookDelivery", "One message to a webhook and how its attempts went.", {
  messageId: id("The `webhook-id` header, the same on every attempt."),
  cursor: text("The change's cursor."),
  position: text(),
  state: oneOf(WebhookDeliveryStateEnum),
  attempts: int(),
  lastStatusCode: nullable(int("The last attempt's HTTP status; null when no answer came.")),
  lastError: nullable(text("Why the last attempt got no answer (time-out, refused connection, refused address).")),
  lastAttemptAt: nullable(timestamp()),
  nextAttemptAt: nullable(timestamp("When the next attempt is due (PENDING only).")),
});
export type WebhookDeliveryType = InstanceType<typeof WebhookDeliveryType>;

export const { Edge: WebhookDeliveryEdgeType, Connection: WebhookDeliveryConnectionType } = connectionTypes("WebhookDelivery", WebhookDeliveryType);
export type WebhookDeliveryConnectionType = InstanceType<typeof WebhookDeliveryConnectionType>;
