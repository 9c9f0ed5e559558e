// A clock a test moves by hand: the service reads it as "now" (startApp's `clock`), and whatever
// is timed against it (the due-changes scheduler) looks again each time the test moves it.

export class TestClock {
  /** The instant, epoch ms; a test may also set it outright (forward only, by convention). */
  t: number;
  private readonly listeners = new Set<() => void>();

  /** Starts at `start` (epoch ms; the real time by default) and stands still until moved. */
  constructor(start: number = Date.now()) {
    this.t = start;
  }

  /** The clock's instant, epoch ms: pass as the service's `clock`. */
  readonly now = (): number => this.t;

  /** Moves the clock forward by `ms` and tells every listener. */
  advance(ms: number): number {
    if (!(ms >= 0)) throw new Error(`a test clock only moves forward (asked for ${ms} ms)`);
    this.t += ms;
    for (const listener of [...this.listeners]) listener();
    return this.t;
  }

  /** Calls `listener` after every move; returns the way to stop: pass as the service's `clockMoved`. */
  readonly onMove = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };
}
