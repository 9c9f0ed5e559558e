// Registering, listing and removing webhooks, and reading their deliveries. A webhook's signing
// secret is shown once, when it is made, and stored wrapped under the evidence key-encryption key
// (bound to the webhook's id), so a copy of the database alone cannot sign or verify its messages.
import { randomBytes } from "node:crypto";
import { checkId, checkText } from "../domain/decide.js";
import { LedgerError, badInput } from "../domain/errors.js";
import { unwrapKey, wrapKey } from "../evidence/key-wrap.js";
import { KEY_BYTES } from "../evidence/seal.js";
import { decodeFeedCursor } from "../feed/feed-cursor.js";
import type { DeliveryRecord, WebhookRow, WebhookStore } from "../storage/webhook-store.js";
import { type AddressPolicy, WebhookAddressError, checkWebhookUrl, resolveChecked } from "./address-guard.js";
import type { Dispatcher } from "./dispatcher.js";
import { SECRET_PREFIX } from "./message.js";

export interface CreateWebhook {
  url: string;
  description: string | null;
  policyId: string | null;
  purposeIds: string[] | null;
}

/** Webhooks one ledger may hold: each has a queue, a cursor and a lease of its own. */
export const MAX_WEBHOOKS = 1_000;
const MAX_PURPOSE_IDS = 50;
const MAX_DESCRIPTION = 500;

const secretAad = (id: string): string => `webhook:${id}`;

export class Webhooks {
  constructor(
    private readonly store: WebhookStore,
    /** The delivering dispatcher, or (in a worker process) a relay to the one its primary runs. */
    private readonly dispatcher: Pick<Dispatcher, "refresh" | "forget">,
    private readonly opts: { kek: Uint8Array; policy: AddressPolicy; head: () => number; now: () => number },
  ) {}

  /** The signing secret of a stored webhook; throws when the key-encryption key does not open it. */
  secretOf(row: WebhookRow): Buffer {
    return unwrapKey(this.opts.kek, secretAad(row.id), row.secret);
  }

  /** Registers a webhook that receives every change committed from now on; returns it with its secret (`whsec_` + base64). */
  async create(input: CreateWebhook): Promise<{ webhook: WebhookRow; secret: string }> {
    let url: URL;
    try {
      url = checkWebhookUrl(input.url, this.opts.policy);
      await resolveChecked(url, this.opts.policy);
    } catch (e) {
      if (e instanceof WebhookAddressError) throw badInput(e.message, { field: "url" });
      throw e;
    }
    checkText("description", input.description, MAX_DESCRIPTION);
    if (input.policyId !== null) checkId("policyId", input.policyId);
    if (input.purposeIds !== null) {
      if (input.purposeIds.length > MAX_PURPOSE_IDS) throw badInput(`purposeIds has more than ${MAX_PURPOSE_IDS} items`, { field: "purposeIds" });
      for (const p of input.purposeIds) checkId("purpose id", p);
    }
    if ((await this.store.list()).length >= MAX_WEBHOOKS) throw badInput(`a ledger holds at most ${MAX_WEBHOOKS} webhooks; delete one first`);
    const id = `wh_${randomBytes(12).toString("hex")}`;
    const secret = randomBytes(KEY_BYTES);
    const row: WebhookRow = {
      id,
      url: url.href,
      description: input.description,
      policyId: input.policyId,
      purposeIds: input.purposeIds && input.purposeIds.length > 0 ? [...new Set(input.purposeIds)] : null,
      secret: wrapKey(this.opts.kek, secretAad(id), secret),
      enabled: true,
      disabledReason: null,
      createdAt: this.opts.now(),
      // Changes committed after this point; an earlier history is for consentChanged's replay.
      cursor: { position: this.opts.head(), index: null },
    };
    await this.store.create(row);
    await this.dispatcher.refresh();
    return { webhook: row, secret: `${SECRET_PREFIX}${secret.toString("base64")}` };
  }

  list(): Promise<WebhookRow[]> {
    return this.store.list();
  }

  /** Removes the webhook; once answered, this replica sends it nothing more. */
  async delete(id: string): Promise<boolean> {
    checkId("id", id);
    const removed = await this.store.delete(id);
    await this.dispatcher.forget(id);
    return removed;
  }

  /** A page of a webhook's deliveries, newest first; `after` is a delivery's cursor from an earlier page. */
  async deliveries(id: string, first: number, after: string | null): Promise<{ webhook: WebhookRow; records: DeliveryRecord[]; hasMore: boolean }> {
    checkId("id", id);
    const webhook = await this.store.get(id);
    if (!webhook) throw new LedgerError("NOT_FOUND", "no webhook has this id");
    const before = after === null ? null : decodeFeedCursor(after, true);
    if (before && !Number.isFinite(before.index)) throw badInput("after is not a delivery cursor");
    const records = await this.store.deliveries(id, first + 1, before);
    return { webhook, records: records.slice(0, first), hasMore: records.length > first };
  }
}
