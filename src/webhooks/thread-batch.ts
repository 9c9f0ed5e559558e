// Messages between the dispatcher and its delivery thread, gathered per turn of the sending thread's
// event loop: everything added before the turn ends crosses in one postMessage.

export class Batch<T> {
  private items: T[] = [];

  constructor(private readonly send: (items: T[]) => void) {}

  add(item: T): void {
    this.items.push(item);
    if (this.items.length === 1) setImmediate(() => this.flush());
  }

  /** Drops what was not sent yet (its sender already answered it otherwise). */
  clear(): void {
    this.items = [];
  }

  private flush(): void {
    const items = this.items;
    if (items.length === 0) return;
    this.items = [];
    this.send(items);
  }
}
