// Turns of the main thread, shared fairly by everything that can run long on it: requests, replay
// pages, subscription messages, exports, a version coming into effect for many subjects.
//
// Work that awaits `nextTurn(weight)` joins one queue. Each turn of the event loop (a `setImmediate`,
// so after the I/O phase) lets waiters go, first come first served, until their weights fill the
// turn's budget (at least one goes); the budget adapts to how long the previous turn took, so that a
// turn lasts about `TURN_TARGET_MS` however heavy the waiters. A request weighs by its text (a
// document ten times longer costs about ten times more to parse, validate and price), so one huge
// document takes a turn of its own while hundreds of small ones share one.
// Between two turns the event loop reads sockets and answers what does not queue (`/healthz`,
// `/readyz`, `/metrics`), so those answer within a turn or two even when the thread is saturated;
// and a caller sending many heavy requests gets its place in the queue, not the whole thread.

/** How long a turn of granted work should last. */
export const TURN_TARGET_MS = 8;
/** The most weight let go in one turn: enough for full group commits of small requests. */
const MAX_BUDGET = 512;

/** A request's weight: one, plus one per KiB of its text. */
export const weightOf = (bytes: number): number => 1 + (bytes >> 10);

interface Waiter {
  resolve: () => void;
  weight: number;
}

const waiting: Waiter[] = [];
let head = 0;
let scheduled = false;
let budget = 32;
let turnStartedAt = 0;

/** Resolves in a later turn of the event loop, in the order asked; `weight` is what the work after it costs, in units of a small request. */
export function nextTurn(weight = 1): Promise<void> {
  return new Promise((resolve) => {
    waiting.push({ resolve, weight });
    if (!scheduled) {
      scheduled = true;
      turnStartedAt = performance.now();
      setImmediate(grant);
    }
  });
}

/** Waiters queued for a turn (for metrics and tests). */
export const waitingForTurn = (): number => waiting.length - head;

function grant(): void {
  const now = performance.now();
  // The turn just ended: the previous waiters' work, the I/O phase and the timers.
  const took = now - turnStartedAt;
  turnStartedAt = now;
  if (took > TURN_TARGET_MS) budget = Math.max(1, budget >> 1);
  else if (took < TURN_TARGET_MS / 2) budget = Math.min(MAX_BUDGET, budget * 2);
  const released: (() => void)[] = [];
  for (let spent = 0; head < waiting.length && (released.length === 0 || spent + waiting[head]!.weight <= budget); head++) {
    spent += waiting[head]!.weight;
    released.push(waiting[head]!.resolve);
  }
  if (head === waiting.length) {
    waiting.length = 0;
    head = 0;
  } else if (head > 1_024 && head * 2 > waiting.length) {
    waiting.splice(0, head);
    head = 0;
  }
  if (waitingForTurn() > 0) setImmediate(grant);
  else scheduled = false;
  // Their work runs as this callback returns (microtasks), before the next turn's I/O phase.
  for (const resolve of released) resolve();
}
