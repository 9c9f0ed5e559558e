// Webhooks (webhook:admin): register, list, delete, and read deliveries.
import { Arg, Ctx, ID, Int, Mutation, Query, Resolver } from "type-graphql";
import { requireScope } from "../../auth/authorize.js";
import { encodeChangeCursor } from "../../feed/feed-cursor.js";
import { encodePosition } from "../../log/position.js";
import type { DeliveryRecord, WebhookRow } from "../../storage/webhook-store.js";
import { messageId } from "../../webhooks/message.js";
import type { GraphQLContext } from "../context.js";
import { pageSize } from "../paging.js";
import { CreateWebhookInput, WebhookCreatedType, WebhookDeliveryConnectionType, type WebhookDeliveryType, WebhookType } from "../types/webhook-types.js";

const WHOLE_EVENT = 999_999;

const presentWebhook = (w: WebhookRow): WebhookType => ({
  id: w.id,
  url: w.url,
  description: w.description,
  policyId: w.policyId,
  purposeIds: w.purposeIds,
  enabled: w.enabled,
  disabledReason: w.disabledReason,
  createdAt: w.createdAt,
  cursor: encodeChangeCursor(w.cursor.position, w.cursor.index ?? WHOLE_EVENT),
});

const presentDelivery = (d: DeliveryRecord): WebhookDeliveryType => ({
  messageId: messageId(d.webhookId, d.position, d.index),
  cursor: encodeChangeCursor(d.position, d.index),
  position: encodePosition(d.position),
  state: d.state,
  attempts: d.attempts,
  lastStatusCode: d.lastStatus,
  lastError: d.lastError,
  lastAttemptAt: d.lastAttemptAt,
  nextAttemptAt: d.nextAttemptAt,
});

@Resolver()
export class WebhookResolver {
  @Mutation(() => WebhookCreatedType, { description: "Registers a webhook for the consent changes committed from now on; the secret is shown only here (webhook:admin)." })
  async createWebhook(@Arg("input", () => CreateWebhookInput) input: CreateWebhookInput, @Ctx() ctx: GraphQLContext): Promise<WebhookCreatedType> {
    requireScope(ctx.caller, "webhook:admin");
    const { webhook, secret } = await ctx.services.webhooks.create({
      url: input.url,
      description: input.description ?? null,
      policyId: input.policyId ?? null,
      purposeIds: input.purposeIds ?? null,
    });
    return { webhook: presentWebhook(webhook), secret };
  }

  @Query(() => [WebhookType], { description: "Every webhook, oldest first (webhook:admin)." })
  async webhooks(@Ctx() ctx: GraphQLContext): Promise<WebhookType[]> {
    requireScope(ctx.caller, "webhook:admin");
    return (await ctx.services.webhooks.list()).map(presentWebhook);
  }

  @Mutation(() => Boolean, { description: "Removes a webhook; nothing more is sent to it. False when there was none (webhook:admin)." })
  async deleteWebhook(@Arg("id", () => ID) id: string, @Ctx() ctx: GraphQLContext): Promise<boolean> {
    requireScope(ctx.caller, "webhook:admin");
    return ctx.services.webhooks.delete(id);
  }

  @Query(() => WebhookDeliveryConnectionType, { description: "A webhook's deliveries, newest first: attempts, status codes, next try (webhook:admin)." })
  async webhookDeliveries(
    @Arg("id", () => ID) id: string,
    @Ctx() ctx: GraphQLContext,
    @Arg("first", () => Int, { nullable: true, defaultValue: 50 }) first?: number | null,
    @Arg("after", () => String, { nullable: true }) after?: string | null,
  ): Promise<WebhookDeliveryConnectionType> {
    requireScope(ctx.caller, "webhook:admin");
    const n = pageSize(first, 50);
    const { records, hasMore } = await ctx.services.webhooks.deliveries(id, n, after ?? null);
    const edges = records.map((d) => ({ cursor: encodeChangeCursor(d.position, d.index), node: presentDelivery(d) }));
    return { edges, pageInfo: { hasNextPage: hasMore, endCursor: edges.at(-1)?.cursor ?? null } };
  }
}
