// `npm run doctor -- --org <name>`: is this deployment healthy? A table of checks, each failed one with its
// fix (tools/doctor/doctor.ts); exits 1 when a check fails, so CI can run it after a deploy.
import { parseArgs } from "node:util";
import { redactSecrets } from "../functions/shared/platform/redact";
import { formatDoctorTable, runDoctor } from "../tools/doctor/doctor";
import { defaultAwsClients } from "../tools/ops/aws";

async function main(): Promise<number> {
  const { values } = parseArgs({ options: { org: { type: "string" }, help: { type: "boolean" } } });
  if (values.help || !values.org) {
    console.log("npm run doctor -- --org <name>   (AWS credentials as for cdk deploy)");
    return values.help ? 0 : 2;
  }
  const { rows, ok } = await runDoctor({ org: values.org, clients: defaultAwsClients() });
  console.log(formatDoctorTable(rows));
  console.log(ok ? "\nall checks pass" : "\nsome checks fail: apply the fixes above, then run doctor again");
  return ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    // Typically AWS: no credentials, no region, or no permission to read the stack or the secrets.
    // Every credential doctor read is registered: a peer's error text cannot show one.
    console.error(`doctor stopped: ${error.name}: ${redactSecrets(error.message)}`);
    process.exit(1);
  },
);
