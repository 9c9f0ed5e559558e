// The service's entry point (`npm start`, `node dist/src/main.js`): a supervisor process that starts
// the service (serve.ts) as its child and owns its shutdown deadline.
import { fileURLToPath } from "node:url";
import { SHUTDOWN_DEADLINE_MS, GUARD_MARGIN_MS } from "./shutdown.js";
import { isSupervised, supervise } from "./supervisor.js";

if (isSupervised()) await import("./serve.js");
else supervise(fileURLToPath(import.meta.url), SHUTDOWN_DEADLINE_MS + GUARD_MARGIN_MS);
