import { ConfigError } from "../../functions/shared/platform/errors";
import { SETTINGS_VARIABLE } from "../../functions/shared/platform/settings";
import { parseSettings } from "../../functions/shared/platform/settings-schema";

type Section = Record<string, unknown>;

/**
 * The environment variable the stack gives every function, for settings that differ from the defaults by
 * `changes` (one level deep per section), validated by the one settings schema.
 */
export function settingsEnv(changes: Record<string, Section | unknown> = {}): Record<string, string> {
  const raw: Record<string, unknown> = { qatech: {}, ...changes };
  return { [SETTINGS_VARIABLE]: JSON.stringify(parseSettings(raw, "test settings")) };
}

/** The message the settings schema refuses `raw` with (`qatech: {}` unless given); fails if it accepts it. */
export function settingsProblem(raw: Record<string, unknown>): string {
  try {
    parseSettings({ qatech: {}, ...raw }, "test settings");
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return error.message;
  }
  throw new Error("expected the settings to be refused");
}
