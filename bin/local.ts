// `npm start`: the local runner on http://127.0.0.1:${PORT:-3000}, configured from the environment or .env, on
// top of an organisation's config file when one is given (`npm start -- --org <org>`, or QA_TICKET_CONFIG).
// Ctrl-C (SIGINT) or SIGTERM stops it cleanly: running executions are aborted, the port is released, and the
// process exits. package.json runs it as `exec node --import tsx`, one process that receives npm's signal
// itself, so no child is left holding the port.
import { existsSync } from "node:fs";
import { functionLogger } from "../functions/shared/platform/log";
import { CONFIG_VARIABLE, configFromArgs } from "../local/config-file";
import { overridingVariables } from "../local/env";
import { startLocalRunner } from "../local/runner";

/** Longest a clean stop may take before the process exits anyway (a hung peer, a stuck close). */
const STOP_TIMEOUT_MS = 10_000;

if (existsSync(".env")) process.loadEnvFile(".env");
const log = functionLogger("local-runner");

const starting = (async () => {
  // `--org acme` is QA_TICKET_CONFIG=config/acme.json; the runner reads the file from its environment.
  Object.assign(process.env, configFromArgs(process.argv.slice(2), process.env));
  const file = process.env[CONFIG_VARIABLE]?.trim();
  if (file) log.info("local runner config", { file, overriddenBy: overridingVariables(process.env) });
  return startLocalRunner({ log });
})();

starting.then(
  (runner) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      // A second Ctrl-C means "now".
      if (stopping) process.exit(130);
      stopping = true;
      log.info("local runner stopping", { signal });
      setTimeout(() => {
        log.warn("local runner did not stop in time; exiting", { timeoutMs: STOP_TIMEOUT_MS });
        process.exit(1);
      }, STOP_TIMEOUT_MS).unref();
      runner.close().then(() => {
        log.info("local runner stopped", { signal });
        process.exit(0);
      });
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  },
  (error: Error) => {
    console.error(`qa-ticket local runner could not start: ${error.message}`);
    process.exit(1);
  },
);
