// Child process of the scale bench: fills a ledger to N events and reports its RSS and file size.
import "reflect-metadata";
import { join } from "node:path";
import { openLedger, populate } from "./populate.js";
import { dbFileBytes, tempDir, sqlite } from "./util.js";

export interface ScaleReport {
  events: number;
  peakRssBytes: number;
  endRssBytes: number;
  fileBytes: number;
  appendSeconds: number;
  verifySeconds: number;
}

async function main(): Promise<void> {
  const target = Number(process.argv[2]);
  const t = tempDir();
  try {
    const path = join(t.dir, "ledger.db");
    const ledger = await openLedger(path);
    let peak = process.memoryUsage.rss();
    const started = performance.now();
    const events = await populate(ledger, target, 512, () => {
      peak = Math.max(peak, process.memoryUsage.rss());
    });
    const appendSeconds = (performance.now() - started) / 1000;
    const v0 = performance.now();
    const report = (await ledger.integrity()); // a whole-log read at full size, the worst a running service does
    const verifySeconds = (performance.now() - v0) / 1000;
    if (!report.ok || report.eventCount < events) throw new Error("the chain does not verify");
    peak = Math.max(peak, process.memoryUsage.rss());
    sqlite(ledger).store.db.pragma("wal_checkpoint(TRUNCATE)");
    const endRssBytes = process.memoryUsage.rss();
    // maxRSS is the kernel's high-water mark, in KiB: it also catches peaks between samples.
    const peakRssBytes = Math.max(peak, process.resourceUsage().maxRSS * 1024);
    await ledger.close();
    const out: ScaleReport = { events: report.eventCount, peakRssBytes, endRssBytes, fileBytes: dbFileBytes(path), appendSeconds, verifySeconds };
    process.send?.(out);
  } finally {
    t.cleanup();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
