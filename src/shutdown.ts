// How long a shutdown may take.

/** SIGTERM drains: in-flight requests finish, subscriptions close; past this the service exits 1 itself. */
export const SHUTDOWN_DEADLINE_MS = 10_000;
/** Beyond the graceful deadline: the watchdogs' margin before the forced exit (SIGKILL). */
export const GUARD_MARGIN_MS = 2_000;
