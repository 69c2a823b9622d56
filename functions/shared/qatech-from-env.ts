import { QaTechClient, type QaTechClientOptions } from "./qatech";
import { getSecret } from "./secrets";
import { qatechSettings } from "./settings";

/** A QA.tech client from the settings and the QATECH_API_KEY secret; client timeout well under the Lambda's. */
export async function qatechClientFromEnv(
  options: Pick<QaTechClientOptions, "maxInlineRetryAfterSeconds"> = {},
): Promise<QaTechClient> {
  return new QaTechClient({
    ...qatechSettings(),
    apiKey: await getSecret("QATECH_API_KEY"),
    timeoutMs: 10_000,
    ...options,
  });
}
