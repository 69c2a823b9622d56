import { basename, dirname, extname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ConfigError } from "../functions/shared/platform/errors";
import { ConfigFileError, loadOrgConfig, ORG_NAME, type OrgConfig } from "../lib/config";

/**
 * The organisation's config file for the local runner: the one `cdk deploy` takes (config/<org>.json), read
 * and validated by the stack's own loader (lib/config.ts, which imports no aws-cdk-lib). The runner's
 * variables go on top of it (local/env.ts).
 */

/** The variable naming the config file, e.g. `QA_TICKET_CONFIG=config/acme.json` (relative to the working directory). */
export const CONFIG_VARIABLE = "QA_TICKET_CONFIG";

/** Where `--org <org>` looks: the repository's config/, as `cdk deploy -c org=<org>` does. */
export const CONFIG_DIR = join(__dirname, "..", "config");

/** `npm start`'s usage line. */
export const LOCAL_USAGE = "npm start [-- --org <org>]   (or QA_TICKET_CONFIG=config/<org>.json npm start)";

/**
 * `npm start`'s arguments as variables: `--org acme` is `QA_TICKET_CONFIG=<config dir>/acme.json`. An unknown
 * argument, or an --org naming another file than a QA_TICKET_CONFIG already set, is refused by name.
 */
export function configFromArgs(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  configDir = CONFIG_DIR,
): Record<string, string> {
  let org: string | undefined;
  try {
    ({ org } = parseArgs({ args: [...args], options: { org: { type: "string" } } }).values);
  } catch (error) {
    throw new ConfigError(`${(error as Error).message}; usage: ${LOCAL_USAGE}`);
  }
  if (org === undefined) return {};
  if (!ORG_NAME.test(org))
    throw new ConfigError(
      `--org "${org}" must be lowercase letters, digits and dashes (at most 31 characters)`,
    );
  const file = join(configDir, `${org}.json`);
  const given = env[CONFIG_VARIABLE]?.trim();
  if (given && resolve(given) !== resolve(file))
    throw new ConfigError(
      `--org ${org} reads ${file}, but ${CONFIG_VARIABLE} names ${given}: give one of them (.env may set ${CONFIG_VARIABLE})`,
    );
  return { [CONFIG_VARIABLE]: file };
}

/** The config file at `path`, validated as the stack validates it; every error names the file (and the field). */
export function readConfigFile(path: string): OrgConfig {
  const org = basename(path, ".json");
  if (extname(path) !== ".json" || !ORG_NAME.test(org))
    throw new ConfigFileError(
      `${CONFIG_VARIABLE}=${path}: must be an organisation's config file, <org>.json (lowercase letters, ` +
        "digits and dashes), as in config/",
    );
  return loadOrgConfig(org, dirname(path));
}
