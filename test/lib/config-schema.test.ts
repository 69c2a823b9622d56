import { readFileSync } from "node:fs";
import { CONFIG_SCHEMA_PATH, configJsonSchema } from "../../lib/config-schema";

describe("config/schema.json", () => {
  it("is the JSON Schema of the settings as they are (run `npm run schema` after changing them)", () => {
    expect(readFileSync(CONFIG_SCHEMA_PATH, "utf8")).toBe(configJsonSchema());
  });

  it("describes every setting, for editors and docs/configuration.md's table", () => {
    const schema = JSON.parse(configJsonSchema()) as { properties: Record<string, Node> };
    type Node = { description?: string; properties?: Record<string, Node> };
    const undescribed: string[] = [];
    const visit = (path: string, node: Node) => {
      if (!path.includes("$") && !node.description) undescribed.push(path);
      for (const [key, child] of Object.entries(node.properties ?? {}))
        visit(path ? `${path}.${key}` : key, child);
    };
    for (const [key, child] of Object.entries(schema.properties)) visit(key, child);

    expect(undescribed.filter((path) => !path.startsWith("qatech.applicationOverrides"))).toEqual([]);
  });
});
