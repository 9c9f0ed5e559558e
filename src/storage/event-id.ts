// Event ids: UUIDs whose first 48 bits are the millisecond they were made (RFC 9562 version 7).
//
// An id is as unique and as unguessable as a random (version 4) UUID for anyone reading it: 74 bits
// of it are random. Time-ordered, consecutive appends' ids sit side by side in the events table's
// unique index on `id`, so a group commit adds to the index's last page or two instead of dirtying a
// page at a random place for every event (about half the pages a recordConsent's commit writes).
import { randomFillSync } from "node:crypto";

/** Random bytes drawn in bulk: one fill per 256 ids. */
const pool = Buffer.alloc(16 * 256);
let poolAt = pool.length;
let lastMs = -1;
/** The 12-bit counter (rand_a) that orders ids made within one millisecond (RFC 9562 §6.2, method 1). */
let counter = 0;

/** A version 7 UUID for `now` (epoch ms), lowercase, as crypto.randomUUID writes them. */
export function timeOrderedUuid(now: number = Date.now()): string {
  if (poolAt === pool.length) {
    randomFillSync(pool);
    poolAt = 0;
  }
  const b = pool.subarray(poolAt, poolAt + 16);
  poolAt += 16;
  if (now > lastMs) {
    lastMs = now;
    // A random start below half the range, so the ids of one millisecond still have room to count up.
    counter = ((b[6]! & 0x07) << 8) | b[7]!;
  } else if (++counter > 0xfff) {
    // More ids in one millisecond than the counter holds (or the clock went back): borrow the next one.
    lastMs++;
    counter = 0;
  }
  const ms = lastMs;
  b[0] = Math.floor(ms / 2 ** 40) & 0xff;
  b[1] = Math.floor(ms / 2 ** 32) & 0xff;
  b[2] = (ms >>> 24) & 0xff;
  b[3] = (ms >>> 16) & 0xff;
  b[4] = (ms >>> 8) & 0xff;
  b[5] = ms & 0xff;
  b[6] = 0x70 | (counter >>> 8);
  b[7] = counter & 0xff;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
