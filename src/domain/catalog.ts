// Policies, their versions and purposes; the applicable-version rule.
import { LedgerError } from "./errors.js";
import type { LedgerEvent } from "./events.js";
import type { Controller, DataCategoryLabel, PolicyVersion, PolicyVersionSpec, Purpose } from "./policy-version.js";
import type { Instant } from "./time.js";

export {
  CONSENT_MODES,
  CONSENT_MODE_TYPES,
  LEGAL_BASES,
  RECIPIENT_KINDS,
  type ConsentMode,
  type LegalBasis,
  type RecipientKind,
  type ConsentModeType,
  type Recipient,
  type Controller,
  type Purpose,
  type DataCategoryLabel,
  type PolicyVersionSpec,
  type PolicyVersion,
} from "./policy-version.js";

export interface Policy {
  id: string;
  title: string;
  overrides: string | null;
  /** Ordered by number: versions[i].number === i + 1. */
  versions: PolicyVersion[];
}

/** The instants a read is evaluated at: valid time and transaction time. */
export interface AsOf {
  at: Instant;
  knownAt: Instant;
  /** Asked as of the present (no instant given): the current read models answer, however long the read takes to start. */
  present?: boolean;
}

/** Where a subject stands with one policy . */
export interface Standing {
  acceptedVersion: number;
  applicable: PolicyVersion | null;
  pending: PolicyVersion | null;
  /** The first effective version above the accepted one that requires consent. */
  reconsentVersion: PolicyVersion | null;
}

/** Versions published by `knownAt` and in effect at `at`, oldest first. */
export function effectiveVersions(policy: Policy, asOf: AsOf): PolicyVersion[] {
  return policy.versions.filter((v) => v.publishedAt <= asOf.knownAt && v.effectiveAt <= asOf.at);
}

/**
 * The applicable-version rule: with `a` the latest accepted version, `r` the first effective
 * version above `a` that requires consent, the applicable version is the latest effective one
 * below `r`; pending is the latest effective one when it is not the applicable one.
 */
export function standingOf(policy: Policy, acceptedVersion: number, asOf: AsOf): Standing {
  const effective = effectiveVersions(policy, asOf);
  const reconsent = effective.find((v) => v.number > acceptedVersion && v.requiresConsent) ?? null;
  const below = reconsent ? effective.filter((v) => v.number < reconsent.number) : effective;
  const applicable = below.at(-1) ?? null;
  const latest = effective.at(-1) ?? null;
  return {
    acceptedVersion,
    applicable,
    pending: latest && latest !== applicable ? latest : null,
    reconsentVersion: reconsent,
  };
}

/** The highest effective version that requires consent: accepted below it means re-consent is due. */
export function reconsentThreshold(policy: Policy, asOf: AsOf): number {
  let threshold = 0;
  for (const v of effectiveVersions(policy, asOf)) if (v.requiresConsent) threshold = v.number;
  return threshold;
}

/** Version `number` of a policy (numbers count from 1 in publication order). */
// Stryker disable next-line ConditionalExpression: versions[number - 1] is undefined below 1 as well; the test states the intent
export const versionOf = (policy: Policy, number: number): PolicyVersion | undefined => (number >= 1 ? policy.versions[number - 1] : undefined);

/** The policies in force, built from publications. The ledger adds to its catalog only after a commit; past views come from `knownAt`. */
export class Catalog {
  private readonly byId = new Map<string, Policy>();

  static of(versions: Iterable<PolicyVersion>): Catalog {
    const c = new Catalog();
    for (const v of versions) c.add(v);
    return c;
  }

  /** Adds a publication; versions must arrive in number order. */
  add(v: PolicyVersion): void {
    const existing = this.byId.get(v.policyId);
    label(v, existing?.versions.at(-1));
    const versions = existing ? [...existing.versions, v] : [v];
    this.byId.set(v.policyId, { id: v.policyId, title: v.title, overrides: v.overrides, versions });
  }

  policies(): Policy[] {
    return [...this.byId.values()];
  }

  get(policyId: string): Policy | undefined {
    return this.byId.get(policyId);
  }

  /** The policy as it was known at `knownAt` (versions published later are left out). */
  knownAt(policyId: string, knownAt: Instant): Policy | undefined {
    const p = this.byId.get(policyId);
    if (!p) return undefined;
    const versions = p.versions.filter((v) => v.publishedAt <= knownAt);
    if (versions.length === 0) return undefined;
    if (versions.length === p.versions.length) return p;
    const last = versions.at(-1)!;
    return { id: p.id, title: last.title, overrides: last.overrides, versions };
  }

  /**
   * `policyId` left out means the operator's default policy (`defaultPolicyId`) once it is published
   * as a base policy: a later publication of another base policy cannot change that. Without one
   * it means the one policy that overrides nothing (BAD_USER_INPUT when there are several).
   */
  resolvePolicyId(policyId: string | null | undefined, defaultPolicyId: string | null = null): string {
    if (policyId != null) {
      if (!this.byId.has(policyId)) throw new LedgerError("UNKNOWN_POLICY", `policy ${policyId} is not published`);
      return policyId;
    }
    if (defaultPolicyId !== null && this.byId.get(defaultPolicyId)?.overrides === null) return defaultPolicyId;
    const roots = this.policies().filter((p) => p.overrides === null);
    if (roots.length === 1) return roots[0]!.id;
    if (roots.length === 0) throw new LedgerError("UNKNOWN_POLICY", "no policy is published");
    throw new LedgerError("BAD_USER_INPUT", "several base policies are published: name one with policyId", {
      policyIds: roots.map((p) => p.id),
    });
  }

  /** The policy `policyId` left out stands for, or undefined when there is none (or no single one). */
  defaultPolicy(defaultPolicyId: string | null = null): Policy | undefined {
    try {
      return this.byId.get(this.resolvePolicyId(null, defaultPolicyId));
    } catch {
      return undefined;
    }
  }

  /** The policy and those it overrides, most specific first. */
  chain(policyId: string): Policy[] {
    const out: Policy[] = [];
    const seen = new Set<string>();
    let id: string | null = policyId;
    while (id !== null && !seen.has(id)) {
      seen.add(id);
      const p = this.byId.get(id);
      if (!p) break;
      out.push(p);
      id = p.overrides;
    }
    return out;
  }

  /** Version `number` of a policy, if published. */
  version(policyId: string, number: number): PolicyVersion | undefined {
    const p = this.byId.get(policyId);
    return p && versionOf(p, number);
  }

  /** The version number a policy would get next. */
  nextNumber(policyId: string): number {
    return (this.byId.get(policyId)?.versions.length ?? 0) + 1;
  }
}

/** The labels the catalogue worked out for each version and purpose it holds (see label). */
const versionLabels = new WeakMap<PolicyVersionSpec, DataCategoryLabel[]>();
const purposeLabels = new WeakMap<Purpose, string[]>();

/**
 * Labels every data category a version's purposes name: its own label, else the one the version
 * before had (a version that adds purposes need not repeat the labels), else the id itself.
 */
function label(v: PolicyVersion, previous: PolicyVersion | undefined): void {
  const labels = new Map((previous ? dataCategoriesOf(previous) : []).map((c) => [c.id, c.label]));
  for (const c of v.dataCategories ?? []) labels.set(c.id, c.label);
  for (const p of v.purposes) purposeLabels.set(p, p.dataCategories.map((c) => labels.get(c) ?? c));
  versionLabels.set(v, [...new Set(v.purposes.flatMap((p) => p.dataCategories))].map((id) => ({ id, label: labels.get(id) ?? id })));
}

/** Every data category a version's purposes name, with its label (the id where none is given). */
export function dataCategoriesOf(v: PolicyVersionSpec): DataCategoryLabel[] {
  return versionLabels.get(v) ?? [...new Set(v.purposes.flatMap((p) => p.dataCategories))].map((id) => ({ id, label: v.dataCategories?.find((c) => c.id === id)?.label ?? id }));
}

/** The label of each of a purpose's data categories, in order (the ids for a purpose outside any catalogue). */
export const dataCategoryLabelsOf = (p: Purpose): string[] => purposeLabels.get(p) ?? p.dataCategories;

/** Whether any published version of the policy defines the purpose. */
export function definesPurpose(policy: Policy, purposeId: string): boolean {
  return policy.versions.some((v) => v.purposes.some((p) => p.id === purposeId));
}

export const findPurpose = (v: PolicyVersion | null, purposeId: string): Purpose | undefined =>
  v?.purposes.find((p) => p.id === purposeId);

/** The policy version a PolicyVersionPublished event published; its publishedAt is the event's transaction time. */
export function toPolicyVersion(e: LedgerEvent): PolicyVersion {
  if (e.type !== "PolicyVersionPublished") throw new Error(`not a publication: ${e.type}`);
  // Publications recorded before recipients carried Art. 28 details, or versions a controller, read those as null.
  const purposes = e.data.purposes.map((p) => ({
    ...p,
    recipients: p.recipients.map((r) => ({ countryProtectionSystem: null, measures: null, recipientPurpose: null, equivalentMeasures: false, ...r })),
  }));
  const controller = e.data.controller ? { representative: null, ...e.data.controller } : null;
  return { ...e.data, purposes, controller, documentText: e.data.documentText ?? null, publishedAt: e.recordedAt };
}

/** Whether a later version of the policy was already in effect at `at` (accepting `number` then is accepting a superseded version). */
export function supersededAt(policy: Policy, number: number, at: Instant): PolicyVersion | undefined {
  return policy.versions.find((v) => v.number > number && v.effectiveAt <= at);
}

/** The controller named by a version, else by the latest earlier version that names one. */
export function controllerOf(policy: Policy, number: number): Controller | null {
  for (let i = Math.min(number, policy.versions.length) - 1; i >= 0; i--) {
    const c = policy.versions[i]!.controller;
    if (c) return c;
  }
  return null;
}
