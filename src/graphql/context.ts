// What every resolver receives: the caller and the application's services.
import type { SharedLimits } from "../limits/shared-limits.js";
import type { Logger } from "pino";
import type { Caller } from "../auth/scopes.js";
import type { Config } from "../config.js";
import type { Ledger } from "../ledger.js";
import type { TransparencyLog } from "../log/transparency-log.js";
import type { ReceiptSigner } from "../receipts/signer.js";
import type { AppliedPosition } from "../feed/applied-position.js";
import type { ChangeFeed } from "../feed/change-feed.js";
import type { Webhooks } from "../webhooks/webhooks.js";
import type { OperationCost } from "./operation-cost.js";

export interface Services {
  config: Config;
  ledger: Ledger;
  receipts: ReceiptSigner;
  logger: Logger;
  /** The live feed behind the subscriptions. */
  changes: ChangeFeed;
  /** Checkpoints and proofs over the log's Merkle tree. */
  transparency: TransparencyLog;
  /** Webhook registrations and their deliveries. */
  webhooks: Webhooks;
  /** The log position this replica has applied (reads that must include a position wait on it). */
  applied: AppliedPosition;
  /** The per-caller and per-subject counts, the service's (shared by every worker); each process's own when left out. */
  limits?: SharedLimits;
}

export interface GraphQLContext {
  caller: Caller | null;
  services: Services;
  requestId: string;
  /** The admitted operation's price (set by the request pipeline before execution). */
  cost?: OperationCost;
  /** A mutation's writes: the position its last event took (null until it appends one). */
  written?: { position: number | null };
}
