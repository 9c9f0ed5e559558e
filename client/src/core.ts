// The consent ledger's client: read a subject's state, record choices and notices, check permissions.
// No framework and no GraphQL runtime: typed documents (graphql-codegen, from schema.graphql) sent over fetch.
import {
  type ClientConsentFragment,
  type ClientPurposeFragment,
  ClientPermissionDocument,
  ClientRecordConsentDocument,
  type ClientRecordConsentMutation,
  ClientStateDocument,
  type ConsentModeType,
  type EvidenceInput,
  type TypedDocumentString,
} from "./gql/graphql.js";

export type { ConsentModeType, ConsentMode, ConsentStatus, DecisionReason, EvidenceInput } from "./gql/graphql.js";
export type Purpose = ClientPurposeFragment;
export type Consent = ClientConsentFragment;

/** A bearer token, or a function that answers one (called before every request, so it may renew). */
export type TokenSource = string | (() => string | Promise<string>);

export interface ClientOptions {
  /** The service's base URL, e.g. `https://consent.example.jp` (the API is at `/graphql`). */
  endpoint: string;
  token?: TokenSource;
  /** Defaults to the global fetch (browsers, Node 18+). */
  fetch?: typeof fetch;
}

/** An error the service answered, with its code (BAD_USER_INPUT, FORBIDDEN, ...). */
export class ConsentError extends Error {
  override readonly name = "ConsentError";
  constructor(
    message: string,
    readonly code: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** One purpose of the policy in effect, with the subject's state for it. */
export interface PurposeState extends Purpose {
  permitted: boolean;
  status: Consent["status"];
}

/** Where a subject stands with one policy: the version in effect, whether it answered it, and each purpose. */
export interface ConsentState {
  subjectId: string;
  policyId: string;
  /** The version in effect now: the one to show and to record choices under. */
  version: number;
  /** The version the subject last accepted; null when it never answered. */
  acceptedVersion: number | null;
  /** True when the subject has answered the version in effect. */
  answered: boolean;
  purposes: PurposeState[];
}

export interface Choice {
  policyId?: string;
  policyVersion: number;
  acceptPolicy?: boolean;
  grant?: string[];
  withdraw?: string[];
  evidence?: EvidenceInput;
  idempotencyKey?: string;
}

export interface NoticeShown {
  policyId?: string;
  policyVersion: number;
  channel: string;
  locale: string;
  noticeId?: string;
}

export interface VisitorSession {
  subjectId: string;
  token: string;
  expiresAt: string;
  /** Whether the browser sent `Sec-GPC: 1` with the request. */
  gpc: boolean;
}

const trim = (endpoint: string) => endpoint.replace(/\/+$/, "");

/** Opens a visitor session (no account): POST /visitor-session; with `renew`, the same visitor again. */
export async function openVisitorSession(endpoint: string, opts: { renew?: string; fetch?: typeof fetch } = {}): Promise<VisitorSession> {
  const res = await (opts.fetch ?? fetch)(`${trim(endpoint)}/visitor-session`, {
    method: "POST",
    headers: opts.renew ? { authorization: `Bearer ${opts.renew}` } : {},
  });
  const body = (await res.json()) as VisitorSession & { errors?: { message: string; extensions?: { code?: string } }[] };
  if (!res.ok) throw new ConsentError(body.errors?.[0]?.message ?? `HTTP ${res.status}`, body.errors?.[0]?.extensions?.code ?? "HTTP", res.status);
  return body;
}

// Not in every schema the client may meet yet: sent as text, typed by hand (NoticeShownInput).
const RECORD_NOTICE = `mutation ClientRecordNotice($input: NoticeShownInput!) { recordNoticeShown(input: $input) { id position type } }`;

/** The sha256 graphql-codegen gives a generated document (`persistedDocuments`), as `sha256:<hex>`. */
const documentIdOf = (document: { __meta__?: Record<string, unknown> | undefined } | string): string | undefined => {
  const hash: unknown = typeof document === "string" ? undefined : document.__meta__?.["hash"];
  return typeof hash === "string" ? hash : undefined;
};

export class ConsentClient {
  readonly endpoint: string;
  private readonly fetch: typeof fetch;
  constructor(private readonly opts: ClientOptions) {
    this.endpoint = trim(opts.endpoint);
    this.fetch = opts.fetch ?? ((...a) => fetch(...a));
  }

  /** The current bearer token, if any. */
  async token(): Promise<string | undefined> {
    const t = this.opts.token;
    return typeof t === "function" ? await t() : t;
  }

  /** Sends one typed operation; throws ConsentError with the service's code on any error. */
  async request<R, V>(document: TypedDocumentString<R, V> | string, variables?: V): Promise<R> {
    const token = await this.token();
    const res = await this.fetch(`${this.endpoint}/graphql`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      // A shipped operation is named by its hash too: the server runs its trusted copy (and refuses
      // other texts when it trusts nothing else); a server that does not know the hash runs the text.
      body: JSON.stringify({ documentId: documentIdOf(document), query: document.toString(), variables }),
    });
    let body: { data?: R; errors?: { message: string; extensions?: { code?: string } }[] };
    try {
      body = (await res.json()) as typeof body;
    } catch {
      throw new ConsentError(`HTTP ${res.status}`, "HTTP", res.status);
    }
    const e = body.errors?.[0];
    if (e) throw new ConsentError(e.message, e.extensions?.code ?? "UNKNOWN", res.status);
    return body.data as R;
  }

  /** The caller's state under a policy (default: the base policy), with the version in effect and its purposes. */
  async state(policyId?: string): Promise<ConsentState> {
    const { me } = await this.request(ClientStateDocument, { policyId: policyId ?? null });
    // Without a policy named, the base policy: the one `consents` answers for by default.
    const id = policyId ?? me.consents[0]?.policyId;
    const standing = me.policyStandings.find((s) => s.policy.id === id);
    const current = standing?.policy.currentVersion;
    if (!standing || !current) throw new ConsentError(`no version of ${policyId ?? "the base policy"} is in effect`, "UNKNOWN_POLICY", 200);
    const byPurpose = new Map(me.consents.map((c) => [c.purpose.id, c]));
    const accepted = standing.acceptedVersion?.number ?? null;
    return {
      subjectId: me.id,
      policyId: standing.policy.id,
      version: current.number,
      acceptedVersion: accepted,
      answered: accepted !== null && accepted >= current.number && !standing.needsReconsent,
      purposes: current.purposes.map((p) => {
        const c = byPurpose.get(p.id);
        return { ...p, permitted: c?.permitted ?? false, status: c?.status ?? "NOT_ASKED" };
      }),
    };
  }

  /** Records an acceptance, grants and withdrawals as one call; answers the signed receipt. */
  async record(choice: Choice): Promise<ClientRecordConsentMutation["recordConsent"]> {
    return (await this.request(ClientRecordConsentDocument, { input: { ...choice } })).recordConsent;
  }

  /** Records that a notice (a banner, a page) was shown to the caller. */
  async recordNotice(notice: NoticeShown): Promise<{ id: string; position: string; type: string }> {
    return (await this.request<{ recordNoticeShown: { id: string; position: string; type: string } }, { input: NoticeShown }>(RECORD_NOTICE, { input: notice })).recordNoticeShown;
  }

  /** Whether `subjectId`'s data may be processed for `purposeId` now (a service's check: consent:read, or oneself). */
  async permitted(subjectId: string, purposeId: string, opts: { policyId?: string; recipientId?: string } = {}): Promise<boolean> {
    const r = await this.request(ClientPermissionDocument, { subjectId, purposeId, policyId: opts.policyId ?? null, recipientId: opts.recipientId ?? null });
    return r.permission.permitted;
  }
}

export const createConsentClient = (opts: ClientOptions): ConsentClient => new ConsentClient(opts);

/** Google Consent Mode v2: every type the purposes list, `granted` exactly when a purpose listing it is permitted. */
export function consentModeState(purposes: readonly Pick<PurposeState, "consentModeTypes" | "permitted">[], allDenied = false): Partial<Record<ConsentModeType, "granted" | "denied">> {
  const out: Partial<Record<ConsentModeType, "granted" | "denied">> = {};
  for (const p of purposes) for (const t of p.consentModeTypes) if (out[t] !== "granted") out[t] = !allDenied && p.permitted ? "granted" : "denied";
  return out;
}
