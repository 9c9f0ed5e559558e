// The service process, started by its supervisor (main.ts): configuration, the app, and a graceful stop on a signal.
import "reflect-metadata";
import { startApp, createLogger } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { armExitGuard } from "./exit-guard.js";
import { GUARD_MARGIN_MS, SHUTDOWN_DEADLINE_MS } from "./shutdown.js";

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (e) {
    if (e instanceof ConfigError) {
      process.stderr.write(`${JSON.stringify({ level: 60, time: Date.now(), msg: e.message })}\n`);
      process.exit(1);
    }
    throw e;
  }
  const logger = createLogger(config.logLevel);
  const app = await startApp(config, { logger });
  let stopping = false;
  const stop = (signal: string) => {
    // A terminal's Ctrl-C reaches the service twice (directly, and passed on by the supervisor): one stop.
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "shutting down: draining requests and subscriptions");
    // A timer on this thread would not fire while a write to a dead or stalled log pipe blocks it.
    armExitGuard(SHUTDOWN_DEADLINE_MS + GUARD_MARGIN_MS, `shutdown took longer than ${(SHUTDOWN_DEADLINE_MS + GUARD_MARGIN_MS) / 1000} s; killed`);
    const force = setTimeout(() => {
      logger.error(`shutdown took longer than ${SHUTDOWN_DEADLINE_MS / 1000} s; exiting`);
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS);
    force.unref();
    app.close().then(
      () => {
        logger.info("stopped cleanly");
        process.exit(0);
      },
      (e: unknown) => {
        logger.error({ err: e }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
  // The supervisor never leaves before the service, unless it was killed outright (SIGKILL, the OOM
  // killer): then the service is killed with it, as a single process would have been.
  const orphaned = () => process.kill(process.pid, "SIGKILL");
  process.on("disconnect", orphaned);
  process.channel?.unref();
  if (process.send !== undefined && !process.connected) orphaned();
}

main().catch((e: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 60, time: Date.now(), msg: `failed to start: ${e instanceof Error ? e.message : String(e)}` })}\n`);
  process.exit(1);
});
