// A worker's side of the service's per-caller and per-subject counts (WORKERS > 1): every question
// goes to the primary, which holds the counts for all workers (limits-host.ts).
import { LedgerError } from "../domain/errors.js";
import type { SharedLimits } from "../limits/shared-limits.js";
import type { LimitAnswer, LimitAsk } from "./limits-host.js";

export function limitsOverChannel(ask: (question: LimitAsk) => Promise<LimitAnswer>): SharedLimits {
  return {
    slots: {
      take: async (kind, key, max) => (await ask({ op: "take", kind, key, max })).ok,
      wait: async (kind, key, max) => void (await ask({ op: "wait", kind, key, max })),
      // Answered once the primary has the slot back (see Slots.give).
      give: async (kind, key) => void (await ask({ op: "give", kind, key })),
    },
    writeQuota: {
      async take(subjectId, always) {
        const answer = await ask({ op: "quota", subjectId, always });
        if (!answer.ok && answer.error) throw new LedgerError(answer.error.code, answer.error.message, answer.error.details);
      },
    },
    visitorSessions: { take: async (address) => (await ask({ op: "visitor", address })).ok },
  };
}
