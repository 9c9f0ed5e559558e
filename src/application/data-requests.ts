// The officers' reads of data requests: one by id, and the queue by due date, paged.
import { LedgerError } from "../domain/errors.js";
import type { DataRequestState, DataRequestStatus } from "../domain/subject.js";
import type { DataRequestPage, StoragePort } from "../storage/storage-port.js";

/** The officers' queue read without paging arguments: one page this long. */
export const MAX_QUEUE_PAGE = 1_000;

export class DataRequests {
  constructor(
    private readonly storage: StoragePort,
    private readonly clock: () => number,
  ) {}

  /** A data request by id; NOT_FOUND for an unknown id. */
  async get(requestId: string): Promise<DataRequestState> {
    const r = await this.storage.dataRequest(requestId);
    if (!r) throw new LedgerError("NOT_FOUND", "no such data request");
    return r;
  }

  /**
   * The officers' queue by due date (then id): a page of `first` requests after the request `after`
   * (its id; BAD_USER_INPUT for an unknown one).
   */
  async queue(status: DataRequestStatus | null, overdue: boolean | null, page: { first: number; after: string | null } = { first: MAX_QUEUE_PAGE, after: null }): Promise<DataRequestState[]> {
    let from: DataRequestPage["from"] = null;
    if (page.after !== null) {
      const r = await this.storage.dataRequest(page.after);
      if (!r) throw new LedgerError("BAD_USER_INPUT", "after names no data request", { field: "after" });
      from = { dueAt: r.dueAt, id: r.id };
    }
    return this.storage.dataRequests(status, overdue, this.clock(), { first: page.first, from });
  }
}
