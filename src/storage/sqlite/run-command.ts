// One command inside the SQLite write transaction: the application's command flow, each of its steps
// answered synchronously on the writer's connection (see storage/command-steps.ts).
import type { Catalog } from "../../domain/catalog.js";
import { type CommandProgram, type SyncStepRunner, driveSync } from "../command-steps.js";
import type { WriteTx } from "../event-store.js";
import type { CommandOutcome, CommandRequest } from "../storage-port.js";
import type { KeyVault } from "./key-vault.js";
import type { SqliteProjections } from "./projections.js";
import type { SqliteEventStore } from "./sqlite-event-store.js";

export interface CommandContext {
  store: SqliteEventStore;
  projections: SqliteProjections;
  vault: KeyVault;
  /** The catalogue as committed; publications earlier in the same group commit are not in it yet. */
  catalog: () => Catalog;
  /** The catalogue as the write transaction sees it, uncommitted publications included. */
  loadCatalog: () => Catalog;
  /** The command flow this writer runs. */
  commands: CommandProgram;
}

/** Runs `request` in the open write transaction `tx`; a throw rolls back this command only. */
export function runCommand(ctx: CommandContext, tx: WriteTx, request: CommandRequest): CommandOutcome {
  return driveSync(ctx.commands.handle(request), sqliteSteps(ctx, tx));
}

/** Each step on the writer's connection. One writer runs one transaction: locks are versions read. */
export function sqliteSteps(ctx: CommandContext, tx: WriteTx): SyncStepRunner {
  const { store, projections, vault } = ctx;
  return {
    lock: ({ streams }) => streams.map((s) => tx.streamVersion(s)),
    replay: ({ stream, idempotency }) => tx.replay(stream, idempotency) ?? null,
    history: ({ stream, through }) => store.readStream(stream).filter((e) => e.position <= through),
    state: ({ subjectId }) => projections.subject(subjectId),
    catalog: ({ view }) => (view === "committed" ? ctx.catalog() : ctx.loadCatalog()),
    viewAt: ({ subjectId, asOf }) => projections.viewAt(subjectId, asOf),
    dueEffects: ({ now, limit }) => projections.dueEffects(now, limit),
    dueExpiries: ({ now, limit }) => projections.dueExpiries(now, limit),
    // Read in this transaction by the only writer: nothing can have changed it since.
    stillDue: () => true,
    evidenceKey: ({ subjectId }) => vault.keyFor(subjectId),
    append: ({ stream, expectedVersion, events }) => tx.append(stream, expectedVersion, events),
    erase: ({ subjectId, stream }) => {
      vault.destroy(subjectId);
      tx.forget(stream);
    },
    remember: ({ stream, idempotency, events }) => tx.remember(stream, idempotency, events),
  };
}
