// `npm run schema`: writes config/schema.json, the JSON Schema of the config file, from the one settings
// schema, so editors complete and check config/<org>.json. A unit test keeps the file up to date.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import * as z from "zod/mini";
import { SettingsSchema } from "../functions/shared/platform/settings-schema";

/** The JSON Schema of the config file, as `config/schema.json` holds it. */
export function configJsonSchema(): string {
  const schema = z.toJSONSchema(SettingsSchema, { io: "input", unrepresentable: "any" });
  const titled = {
    ...schema,
    title: "qa-ticket organisation config",
    description:
      "config/<org>.json: everything qa-ticket needs that is not secret. Deploy with: npx cdk deploy -c org=<org>",
  };
  return `${JSON.stringify(titled, null, 2)}\n`;
}

/** Where the schema lives, next to the organisations' files. */
export const CONFIG_SCHEMA_PATH = join(__dirname, "..", "config", "schema.json");

if (require.main === module) {
  writeFileSync(CONFIG_SCHEMA_PATH, configJsonSchema());
  console.log(`wrote ${CONFIG_SCHEMA_PATH}`);
}
