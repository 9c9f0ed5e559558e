// Suspension, resumption, leaving, erasure and the data-request steps.
import { Arg, Ctx, ID, Int, Mutation, Resolver } from "type-graphql";
import { actorFor, subjectFor } from "../../auth/authorize.js";
import type { GraphQLContext } from "../context.js";
import { presentDataRequestFor } from "../access-log.js";
import { presentSubject } from "../present.js";
import { scopedChange } from "./scoped-change.js";
import { OpenDataRequestInput } from "../types/inputs.js";
import { DataRequestType, SubjectType } from "../types/subject-types.js";

@Resolver()
export class LifecycleResolver {
  @Mutation(() => SubjectType, { description: "Stops all processing but that required by law (subject:admin)." })
  async suspendProcessing(@Arg("subjectId", () => ID) subjectId: string, @Ctx() ctx: GraphQLContext, @Arg("reason", () => String, { nullable: true }) reason?: string | null) {
    return presentSubject((await scopedChange(ctx, "subject:admin", subjectId, (ledger, actor) => ledger.suspendProcessing(subjectId, reason ?? null, actor))).subject);
  }

  @Mutation(() => SubjectType, { description: "Ends a suspension (subject:admin)." })
  async resumeProcessing(@Arg("subjectId", () => ID) subjectId: string, @Ctx() ctx: GraphQLContext) {
    return presentSubject((await scopedChange(ctx, "subject:admin", subjectId, (ledger, actor) => ledger.resumeProcessing(subjectId, actor))).subject);
  }

  @Mutation(() => SubjectType, { description: "Leaves the service (退会): every purpose stops, required ones too. Oneself, or subject:admin." })
  async leaveService(@Ctx() ctx: GraphQLContext, @Arg("subjectId", () => ID, { nullable: true }) subjectId?: string | null) {
    const id = subjectFor(ctx.caller, subjectId, ["subject:admin"]);
    return presentSubject((await ctx.services.ledger.leaveService(id, actorFor(ctx.caller!, id))).subject);
  }

  @Mutation(() => SubjectType, { description: "Erases the subject's personal evidence for good; consent facts and the chain stay verifiable (subject:admin)." })
  async eraseSubject(@Arg("subjectId", () => ID) subjectId: string, @Ctx() ctx: GraphQLContext, @Arg("reason", () => String, { nullable: true }) reason?: string | null) {
    return presentSubject((await scopedChange(ctx, "subject:admin", subjectId, (ledger, actor) => ledger.eraseSubject(subjectId, reason ?? null, actor))).subject);
  }

  @Mutation(() => DataRequestType, { description: "Opens a disclosure, correction, deletion or suspension request (oneself, or subject:admin)." })
  async openDataRequest(@Arg("input", () => OpenDataRequestInput) input: OpenDataRequestInput, @Ctx() ctx: GraphQLContext) {
    const id = subjectFor(ctx.caller, input.subjectId, ["subject:admin"]);
    const { ledger } = ctx.services;
    const byOfficer = ctx.caller!.scopes.has("subject:admin");
    const r = await ledger.openDataRequest(id, { kind: input.kind, note: input.note ?? null, purposeIds: input.purposeIds ?? null, byOfficer }, actorFor(ctx.caller!, id));
    return presentDataRequestFor(ctx, r);
  }

  @Mutation(() => DataRequestType, { description: "Records how the requester's identity was verified (subject:admin)." })
  async verifyDataRequestIdentity(@Arg("id", () => ID) id: string, @Arg("method", () => String) method: string, @Ctx() ctx: GraphQLContext) {
    return presentDataRequestFor(ctx, await scopedChange(ctx, "subject:admin", null, (ledger, actor) => ledger.verifyDataRequestIdentity(id, method, actor)));
  }

  @Mutation(() => DataRequestType, { description: "Closes a request; fulfilling DELETION erases, SUSPENSION suspends (subject:admin)." })
  async closeDataRequest(
    @Arg("id", () => ID) id: string,
    @Arg("fulfilled", () => Boolean) fulfilled: boolean,
    @Ctx() ctx: GraphQLContext,
    @Arg("note", () => String, { nullable: true }) note?: string | null,
  ) {
    return presentDataRequestFor(ctx, await scopedChange(ctx, "subject:admin", null, (ledger, actor) => ledger.closeDataRequest(id, fulfilled, note ?? null, actor)));
  }

  @Mutation(() => DataRequestType, { description: "Moves a request's due date later by `days`, with the reason recorded (subject:admin)." })
  async extendDataRequest(
    @Arg("id", () => ID) id: string,
    @Arg("days", () => Int) days: number,
    @Arg("reason", () => String) reason: string,
    @Ctx() ctx: GraphQLContext,
  ) {
    return presentDataRequestFor(ctx, await scopedChange(ctx, "subject:admin", null, (ledger, actor) => ledger.extendDataRequest(id, days, reason, actor)));
  }

  @Mutation(() => SubjectType, {
    description: "Merges `from` (e.g. an anonymous device id) into `into`: per purpose the later choice wins; `from` becomes MERGED and its reads answer for `into` (consent:write).",
  })
  async mergeSubjects(@Arg("from", () => ID) from: string, @Arg("into", () => ID) into: string, @Ctx() ctx: GraphQLContext) {
    return presentSubject(await scopedChange(ctx, "consent:write", null, (ledger, actor) => ledger.mergeSubjects(from, into, actor)));
  }
}
