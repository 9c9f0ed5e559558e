// The per-caller and per-subject limits as one interface, counted service-wide. With WORKERS=1 the
// serving process holds the counts itself (localLimits); with WORKERS > 1 the primary holds them and
// each worker asks over its IPC channel (src/workers/limits-host.ts, limits-client.ts). The rules
// (what is counted, each limit's message) live with their users: CallerLimits, the change feed's
// replay slots, WriteQuota, AddressRateLimit.
import { type AddressRatePort, AddressRateLimit } from "../auth/visitor-sessions.js";
import { WriteQuota, type WriteQuotaPort } from "../domain/write-quota.js";
import { type SlotTable, type Slots, localSlots } from "./slots.js";

export interface SharedLimits {
  slots: Slots;
  writeQuota: WriteQuotaPort;
  visitorSessions: AddressRatePort;
}

export interface LimitSettings {
  maxWritesPerSubjectPerMinute: number;
  visitorSessionsPerAddressPerMinute: number;
}

/** The limits of one process serving alone (WORKERS=1), and the primary's with WORKERS > 1. */
export function localLimits(settings: LimitSettings, clock: () => number): SharedLimits & { slots: SlotTable } {
  return {
    slots: localSlots(),
    writeQuota: new WriteQuota(settings.maxWritesPerSubjectPerMinute, clock),
    visitorSessions: new AddressRateLimit(settings.visitorSessionsPerAddressPerMinute, 60_000, clock),
  };
}
