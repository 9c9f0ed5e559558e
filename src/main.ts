// The service's entry point: `npm start`.
import "reflect-metadata";
import { startApp, createLogger } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";
import { armExitGuard } from "./exit-guard.js";

const SHUTDOWN_DEADLINE_MS = 10_000;
/** Beyond the graceful deadline: the guard's margin for the forced exit itself. */
const GUARD_MARGIN_MS = 2_000;

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
  const stop = (signal: string) => {
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
  process.once("SIGTERM", () => stop("SIGTERM"));
  process.once("SIGINT", () => stop("SIGINT"));
}

main().catch((e: unknown) => {
  process.stderr.write(`${JSON.stringify({ level: 60, time: Date.now(), msg: `failed to start: ${e instanceof Error ? e.message : String(e)}` })}\n`);
  process.exit(1);
});
