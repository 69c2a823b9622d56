import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../functions/shared/platform/errors";
import { SETTINGS_VARIABLE } from "../functions/shared/platform/settings";
import { parseSettings, type Settings } from "../functions/shared/platform/settings-schema";

/**
 * One organisation's deployment: its name and its settings (everything that is not secret), read from
 * `config/<org>.json` and validated at synth by the one settings schema (functions/shared/platform/settings.ts).
 */
export interface OrgConfig extends Settings {
  /** Organisation name from `-c org=<name>`; names the stack and the secrets. */
  org: string;
}

/** A config file that cannot be used; the message names the file and the field. */
export class ConfigFileError extends Error {
  override name = "ConfigFileError";
}

const ORG_NAME = /^[a-z0-9][a-z0-9-]{0,30}$/;

function checkOrgName(org: string): void {
  if (!ORG_NAME.test(org)) {
    throw new ConfigFileError(
      `org "${org}" must be lowercase letters, digits and dashes (at most 31 characters)`,
    );
  }
}

/** Validates a parsed config file; every error names the source and the field. */
export function parseOrgConfig(org: string, raw: unknown, source: string): OrgConfig {
  checkOrgName(org);
  try {
    return { org, ...parseSettings(raw, source) };
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigFileError(error.message);
    throw error;
  }
}

/** Reads and validates `config/<org>.json` (relative to `dir`). */
export function loadOrgConfig(org: string, dir = join(__dirname, "..", "config")): OrgConfig {
  checkOrgName(org);
  const source = join(dir, `${org}.json`);
  let text: string;
  try {
    text = readFileSync(source, "utf8");
  } catch {
    throw new ConfigFileError(`No config for org "${org}": create ${source} (copy config/example.json)`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigFileError(`${source}: is not valid JSON (${(error as Error).message})`);
  }
  return parseOrgConfig(org, raw, source);
}

/** What every function's environment holds of the config: the validated settings, as one JSON value. */
export function functionEnvironment(config: OrgConfig): Record<string, string> {
  const { org: _, $schema: _schema, $comment: _comment, ...settings } = config;
  return { [SETTINGS_VARIABLE]: JSON.stringify(settings) };
}
