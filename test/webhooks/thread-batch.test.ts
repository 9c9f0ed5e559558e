// Requests to the delivery thread and its answers cross in batches: what is added in one turn of the
// event loop is sent once, together and in order, when that turn ends.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Batch } from "../../src/webhooks/thread-batch.js";

/** The end of the current turn of the event loop (the batch's flush is queued the same way, earlier). */
const turn = () => new Promise<void>((r) => setImmediate(r));

describe("a batch of messages between threads", () => {
  it("sends what one turn added as one batch, in order, and nothing for an empty turn", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.array(fc.integer(), { maxLength: 20 }), { maxLength: 6 }), async (turns) => {
        const sent: number[][] = [];
        const batch = new Batch<number>((items) => sent.push(items));
        for (const items of turns) {
          for (const i of items) batch.add(i);
          await turn();
        }
        expect(sent).toEqual(turns.filter((t) => t.length > 0));
      }),
      { numRuns: 50 },
    );
  });

  it("drops what was cleared before its turn ended, and sends what is added after", async () => {
    const sent: string[][] = [];
    const batch = new Batch<string>((items) => sent.push(items));
    batch.add("a");
    batch.add("b");
    batch.clear();
    batch.add("c");
    await turn();
    await turn();
    expect(sent).toEqual([["c"]]);
  });
});
