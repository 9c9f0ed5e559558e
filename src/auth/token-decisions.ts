// Verified tokens remembered by their own text: one Map lookup per request instead of a signature
// check (or a hash of the token). Bounded twice: by entries and by the characters of the tokens held,
// so a flood of long tokens cannot grow it past its budget. Each decision carries the instant until
// which it holds (the token's exp, or sooner: the key set's max age); past it the lookup misses and
// the token is verified again, so expiry and key removal are decided by the verifier alone.
import type { Caller } from "./scopes.js";

/** How many characters of token text the decisions may hold together (tokens are ASCII: one byte each). */
export const DEFAULT_DECISION_CHARS = 8 * 1024 * 1024;

interface Decision {
  readonly caller: Caller;
  /** Epoch ms from which the token is verified again. */
  readonly until: number;
}

/** A least-recently-used map of token text to the caller it was verified as; Map keeps insertion order, so the first key is the oldest. */
export class TokenDecisions {
  private readonly map = new Map<string, Decision>();
  private chars = 0;

  constructor(
    private readonly maxEntries: number,
    private readonly maxChars: number = DEFAULT_DECISION_CHARS,
  ) {}

  /** The caller `token` was verified as, when that decision still holds at `now` (epoch ms); a lapsed one is dropped. */
  get(token: string, now: number): Caller | undefined {
    const d = this.map.get(token);
    if (d === undefined) return undefined;
    if (d.until <= now) {
      this.delete(token);
      return undefined;
    }
    // Most recently used last.
    this.map.delete(token);
    this.map.set(token, d);
    return d.caller;
  }

  /** Remembers a verified caller until `until` (epoch ms); a token longer than the whole budget is not kept. */
  set(token: string, caller: Caller, until: number): void {
    if (this.maxEntries <= 0 || token.length > this.maxChars) return;
    this.delete(token);
    this.map.set(token, { caller, until });
    this.chars += token.length;
    while (this.map.size > this.maxEntries || this.chars > this.maxChars) this.delete(this.map.keys().next().value!);
  }

  delete(token: string): void {
    if (this.map.delete(token)) this.chars -= token.length;
  }

  get size(): number {
    return this.map.size;
  }

  /** Characters of token text held. */
  get heldChars(): number {
    return this.chars;
  }
}
