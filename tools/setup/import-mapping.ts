import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { type OrgConfig, stackName } from "../../lib/config";
import { QaTicketStack } from "../../lib/qa-ticket-stack";

/**
 * The logical id of each secret the organisation's stack declares, by the secret's name: what `cdk import`
 * needs to adopt secrets retained from an earlier deployment. Synthesized in-process, without bundling.
 */
export function secretLogicalIds(config: OrgConfig): Record<string, string> {
  const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
  const template = Template.fromStack(new QaTicketStack(app, stackName(config.org), { config }));
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties?: { Name?: string } }
  >;
  const ids: Record<string, string> = {};
  for (const [id, resource] of Object.entries(resources))
    if (resource.Type === "AWS::SecretsManager::Secret" && resource.Properties?.Name)
      ids[resource.Properties.Name] = id;
  return ids;
}
