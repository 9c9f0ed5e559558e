// The officer's reads: the event feed, integrity, the signed head, exports, queues.
import { Arg, Ctx, ID, Int, Query, Resolver } from "type-graphql";
import { signHead } from "../../receipts/signed-head.js";
import { buildSubjectExport } from "../../rights/subject-export.js";
import { chainReport } from "../../rights/verify-offline.js";
import type { DataRequestStatus } from "../../domain/subject.js";
import { checkId } from "../../domain/decide.js";
import { isEventType } from "../../domain/events.js";
import { requireScope, subjectFor } from "../../auth/authorize.js";
import type { GraphQLContext } from "../context.js";
import { decodeCursor } from "../../log/position.js";
import { DataRequestStatusEnum } from "../enums.js";
import { pageSize, typeFilter } from "../paging.js";
import { noteAccess, presentDataRequestFor, setAccessReason } from "../access-log.js";
import { presentPage } from "../present.js";
import { JSONScalar } from "../scalars.js";
import { EventConnectionType } from "../types/event-types.js";
import { DataRequestType, LedgerIntegrityType, SignedHeadType } from "../types/subject-types.js";

@Resolver()
export class LedgerResolver {
  @Query(() => EventConnectionType, { description: "The global event feed, oldest first (ledger:read)." })
  async events(
    @Ctx() ctx: GraphQLContext,
    @Arg("first", () => Int, { nullable: true, defaultValue: 100 }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after?: string | null,
    @Arg("types", () => [String], { nullable: true }) types?: string[] | null,
    @Arg("subjectId", () => ID, { nullable: true }) subjectId?: string | null,
    @Arg("reason", () => String, { nullable: true, description: "Why personal evidence is read; kept in the PersonalDataAccessed events." }) reason?: string | null,
  ): Promise<EventConnectionType> {
    requireScope(ctx.caller, "ledger:read");
    setAccessReason(ctx, reason);
    const n = pageSize(first, 100);
    const wanted = typeFilter(types);
    // No event of a type the ledger does not know exists: answer without scanning the log for one.
    if (wanted && !wanted.some(isEventType)) return { edges: [], pageInfo: { hasNextPage: false, endCursor: null } };
    const filter = { ...(subjectId != null ? { subjectId } : {}), ...(wanted ? { types: wanted } : {}) };
    const { ledger } = ctx.services;
    return presentPage(ledger, await ledger.events(decodeCursor(after), n + 1, filter), n);
  }

  @Query(() => LedgerIntegrityType, { description: "Walks the whole hash chain and compares the read tables with a rebuild from it (ledger:read)." })
  async ledgerIntegrity(@Ctx() ctx: GraphQLContext): Promise<LedgerIntegrityType> {
    requireScope(ctx.caller, "ledger:read");
    const [r, readModels] = await Promise.all([ctx.services.ledger.integrity(), ctx.services.ledger.readModelCheck()]);
    return { ...chainReport(r), ok: r.ok && readModels.ok, readModelsOk: readModels.ok, differingReadModels: readModels.differingTables };
  }

  @Query(() => SignedHeadType, { description: "The chain's current head, signed (ledger:read)." })
  async ledgerHead(@Ctx() ctx: GraphQLContext): Promise<SignedHeadType> {
    requireScope(ctx.caller, "ledger:read");
    const { ledger, receipts } = ctx.services;
    return signHead(receipts, await ledger.head(), ledger.now());
  }

  @Query(() => JSONScalar, { description: "A subject's whole record as one JSON document (ledger:read, or oneself)." })
  async subjectExport(
    @Arg("subjectId", () => ID) subjectId: string,
    @Ctx() ctx: GraphQLContext,
    @Arg("reason", () => String, { nullable: true, description: "Why the record is read; kept in the PersonalDataAccessed event." }) reason?: string | null,
  ): Promise<Record<string, unknown>> {
    const id = subjectFor(ctx.caller, subjectId, ["ledger:read"]);
    setAccessReason(ctx, reason);
    // The read is in the log before the record is cut, so the export shows it too.
    await noteAccess(ctx, id, "subjectExport");
    return buildSubjectExport(ctx.services.ledger, id, { maxBytes: ctx.services.config.limits.maxResponseBytes });
  }

  @Query(() => [ID], { description: "Subjects who still have to accept the policy's latest version that requires consent, by id." })
  async reconsentPending(
    @Arg("policyId", () => ID) policyId: string,
    @Ctx() ctx: GraphQLContext,
    @Arg("first", () => Int, { nullable: true, defaultValue: 100 }) first: number | null,
    @Arg("after", () => String, { nullable: true }) after?: string | null,
  ): Promise<string[]> {
    requireScope(ctx.caller, "ledger:read", "consent:read");
    if (after != null) checkId("after", after);
    return ctx.services.ledger.reconsentPending(policyId, after ?? "", pageSize(first, 100));
  }

  @Query(() => [DataRequestType], { description: "The data-request queue (subject:admin or ledger:read)." })
  async dataRequests(
    @Ctx() ctx: GraphQLContext,
    @Arg("status", () => DataRequestStatusEnum, { nullable: true }) status?: DataRequestStatus | null,
    @Arg("overdue", () => Boolean, { nullable: true }) overdue?: boolean | null,
    @Arg("first", () => Int, { nullable: true, defaultValue: 100, description: "Page size, at most 1000; the queue is ordered by dueAt, then id." })
    first?: number | null,
    @Arg("after", () => ID, { nullable: true, description: "The id of the last request of the previous page." }) after?: string | null,
  ): Promise<DataRequestType[]> {
    requireScope(ctx.caller, "subject:admin", "ledger:read");
    if (after != null) checkId("after", after);
    const { ledger } = ctx.services;
    const page = { first: pageSize(first, 100), after: after ?? null };
    return Promise.all((await ledger.dataRequests(status ?? null, overdue ?? null, page)).map((r) => presentDataRequestFor(ctx, r)));
  }
}
