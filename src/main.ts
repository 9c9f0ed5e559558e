// The service's entry point: `npm start`.
import "reflect-metadata";
import { startApp, createLogger } from "./app.js";
import { ConfigError, loadConfig } from "./config.js";

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
    const force = setTimeout(() => {
      logger.error("shutdown took longer than 10 s; exiting");
      process.exit(1);
    }, 10_000);
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
