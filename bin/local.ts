// `npm start`: the local runner on http://127.0.0.1:${PORT:-3000}, configured from the environment or .env.
import { existsSync } from "node:fs";
import { startLocalRunner } from "../lib/local/runner";

if (existsSync(".env")) process.loadEnvFile(".env");

startLocalRunner().then(
  (runner) => {
    const stop = () => runner.close().then(() => process.exit(0));
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  },
  (error: Error) => {
    console.error(`qa-ticket local runner could not start: ${error.message}`);
    process.exit(1);
  },
);
