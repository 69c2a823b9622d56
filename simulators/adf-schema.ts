import fullSchema from "@atlaskit/adf-schema/json-schema/v1/full.json";
import Ajv from "ajv-draft-04";

// strict: false because Atlassian's schema carries keywords and unions Ajv's strict mode refuses.
const validate = new Ajv({ allErrors: true, strict: false }).compile(fullSchema);

/** Lists why `doc` is not valid ADF per Atlassian's published JSON schema; empty when it is valid. */
export function validateAdf(doc: unknown): string[] {
  if (validate(doc)) return [];
  // Each anyOf branch reports its own failure; the deepest paths are the ones that explain the problem.
  const errors = [...(validate.errors ?? [])].sort((a, b) => depth(b.instancePath) - depth(a.instancePath));
  const messages = errors.map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`);
  return [...new Set(messages)].slice(0, 10);
}

function depth(path: string): number {
  return path.split("/").length;
}
