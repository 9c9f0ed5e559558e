// Personal evidence read back: sealed members opened with the subject's key while it exists,
// `{ erased: true }` after erasure; each subject's key read once per call.
import type { LedgerEvent, Personal } from "../domain/events.js";
import type { DataRequestState } from "../domain/subject.js";
import { openEventData, openWith } from "../evidence/seal.js";
import type { StoragePort } from "../storage/storage-port.js";

export class EvidenceReads {
  constructor(private readonly storage: StoragePort) {}

  /** reveal for many events, each subject's key read once. */
  async revealAll(events: readonly LedgerEvent[]): Promise<Record<string, unknown>[]> {
    const keys = new Map<string, Promise<Uint8Array | null>>();
    const keyOf = (subjectId: string) => {
      let k = keys.get(subjectId);
      if (!k) keys.set(subjectId, (k = this.storage.evidenceKey(subjectId)));
      return k;
    };
    return Promise.all(
      events.map(async (e) => {
        const data = e.data as Record<string, unknown>;
        if (e.subjectId === null || !hasPersonal(data)) return { ...data };
        return openEventData(data, await keyOf(e.subjectId), e.subjectId);
      }),
    );
  }

  /** How a request's requester was identified: the sealed method while the key exists, else its non-personal label. */
  async identityCheck(r: DataRequestState): Promise<string | null> {
    if (r.identityLabel === null && r.status !== "IDENTITY_VERIFIED" && r.status !== "FULFILLED") return null;
    const verified = await this.storage.readAll(0, Number.MAX_SAFE_INTEGER, { subjectId: r.subjectId, types: ["DataRequestIdentityVerified"] });
    const e = verified.find((x) => x.type === "DataRequestIdentityVerified" && x.data.requestId === r.id);
    if (!e || e.type !== "DataRequestIdentityVerified") return r.identityLabel;
    const method = await this.openPersonal(r.subjectId, e.data.method);
    return typeof method === "string" ? method : (e.data.label ?? r.identityLabel);
  }

  async openPersonal<T>(subjectId: string, p: Personal<T> | null): Promise<T | { erased: true } | null> {
    return openWith(p && "sealed" in p ? await this.storage.evidenceKey(subjectId) : null, subjectId, p);
  }
}

const hasPersonal = (data: Record<string, unknown>): boolean =>
  Object.values(data).some((v) => v !== null && typeof v === "object" && ("sealed" in v || "erased" in v));
