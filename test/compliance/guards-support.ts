// The calls the guard tests make through the public API, as a client would, on a running test server.
import { createHash } from "node:crypto";
import type { Recipient } from "../../src/domain/catalog.js";
import type { GqlResult, TestServer } from "../support/harness.js";
import { recordConsentMutation } from "../support/common.js";

export const sha256 = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");

const r = (over: Partial<Recipient> & Pick<Recipient, "id" | "kind">): Recipient => ({
  name: over.id,
  country: null,
  privacyPolicyUrl: null,
  countryProtectionSystem: null,
  measures: null,
  recipientPurpose: null,
  equivalentMeasures: false,
  ...over,
});

/** Recipients the tests publish: abroad or not, with or without equivalent measures, joint users or not. */
export const R = {
  partnerSg: r({ id: "partner-sg", kind: "THIRD_PARTY", country: "SG", name: "Partner Pte. Ltd." }),
  processorDe: r({ id: "processor-de", kind: "PROCESSOR", country: "DE" }),
  processorSg: r({ id: "processor-sg", kind: "PROCESSOR", country: "SG" }),
  processorSgEm: r({ id: "processor-sg-em", kind: "PROCESSOR", country: "SG", equivalentMeasures: true }),
  jointSg: r({ id: "joint-sg", kind: "JOINT_USER", country: "SG" }),
  jointJp: r({ id: "joint-jp", kind: "JOINT_USER", country: "JP" }),
  futureSg: r({ id: "future-sg", kind: "THIRD_PARTY", country: "SG" }),
};

export type PurposeIn = {
  id: string;
  title: string;
  description?: string | null;
  mode: string;
  basis: string;
  dataCategories: string[];
  recipients: Recipient[];
  consentTtlDays?: number | null;
};

export const PUBLISH = `mutation($input: PublishPolicyVersionInput!) { publishPolicyVersion(input: $input) { number digest } }`;
export const TRANSFER = `mutation($input: ThirdPartyTransferInput!) { recordThirdPartyTransfer(input: $input) { id direction basis dataCategories counterparty { id equivalentMeasures } provider { name address representative acquisition } } }`;
export const RECORD = recordConsentMutation(`subject { status } receipt`);

/** A client of one running server: tokens, calls and the log's length. */
export class Client {
  constructor(readonly srv: TestServer) {}

  get ledger() {
    return this.srv.app.services.ledger;
  }

  /** The log's length: a refusal appends nothing. */
  async position(): Promise<number> {
    return (await this.ledger.head())?.position ?? 0;
  }

  async as<T>(sub: string, scope: string, query: string, variables: Record<string, unknown> = {}): Promise<GqlResult<T>> {
    return this.srv.gql<T>(query, variables, await this.srv.token(sub, scope));
  }

  /** The purposes of the latest version of the shipped policy, as the API lists them. */
  async purposes(): Promise<PurposeIn[]> {
    const res = await this.as<{ policy: { versions: { purposes: PurposeIn[] }[] } }>(
      "reader",
      "consent:read",
      `{ policy(id: "clavis-privacy") { versions { purposes { id title description mode basis dataCategories consentTtlDays recipients { id name kind country privacyPolicyUrl countryProtectionSystem measures recipientPurpose equivalentMeasures } } } } }`,
    );
    return res.data!.policy.versions.at(-1)!.purposes;
  }

  /** Publishes the next version of the shipped policy through the API; `change` edits the latest purposes. */
  async publish(
    change: (ps: PurposeIn[]) => PurposeIn[],
    opts: { requiresConsent?: boolean; effectiveAt?: number; documentText?: string; digest?: string; title?: string } = {},
  ): Promise<GqlResult<{ publishPolicyVersion: { number: number; digest: string } }>> {
    const purposes = change(await this.purposes());
    const text = opts.documentText;
    const input = {
      policyId: "clavis-privacy",
      title: opts.title ?? "プライバシーポリシー",
      effectiveAt: new Date(opts.effectiveAt ?? this.ledger.now() - 1).toISOString(),
      requiresConsent: opts.requiresConsent ?? false,
      documentDigest: opts.digest ?? (text !== undefined ? sha256(text) : sha256(`version ${Math.random()}`)),
      ...(text !== undefined ? { documentText: text } : {}),
      purposes,
    };
    return this.as("dpo", "policy:write", PUBLISH, { input });
  }

  /** The latest version in effect now, the one a banner shows. */
  async current(): Promise<number> {
    return (await this.as<{ policy: { currentVersion: { number: number } } }>("reader", "consent:read", `{ policy(id: "clavis-privacy") { currentVersion { number } } }`)).data!.policy.currentVersion.number;
  }

  transfer(input: Record<string, unknown>) {
    return this.as<{ recordThirdPartyTransfer: Record<string, unknown>[] }>("svc", "transfer:write", TRANSFER, {
      input: { direction: "PROVIDED", purposeId: null, dataCategories: ["profile"], ...input },
    });
  }

  record(subject: string, input: Record<string, unknown>) {
    return this.as<{ recordConsent: { subject: { status: string }; receipt: string } }>(subject, "consent:self", RECORD, { input });
  }

  async permission(subject: string, purpose: string): Promise<{ permitted: boolean; reason: string }> {
    const res = await this.as<{ permission: { permitted: boolean; reason: string } }>("svc", "consent:read", `query($s: ID!, $p: ID!) { permission(subjectId: $s, purposeId: $p) { permitted reason } }`, {
      s: subject,
      p: purpose,
    });
    if (res.errors) throw new Error(JSON.stringify(res.errors));
    return res.data!.permission;
  }

  /** The subject's history as an auditor reads it (types only, so no evidence is opened and nothing is noted). */
  async types(subject: string): Promise<string[]> {
    const res = await this.as<{ subject: { history: { edges: { node: { type: string } }[] } } }>("auditor", "ledger:read", `query($s: ID!) { subject(id: $s) { history(first: 500) { edges { node { type } } } } }`, {
      s: subject,
    });
    return res.data!.subject.history.edges.map((e) => e.node.type);
  }

  async openRequest(subject: string, kind: string, scope = "consent:self", sub = subject) {
    return this.as<{ openDataRequest: { id: string; status: string } }>(sub, scope, `mutation($input: OpenDataRequestInput!) { openDataRequest(input: $input) { id status } }`, {
      input: { subjectId: subject, kind },
    });
  }
}
