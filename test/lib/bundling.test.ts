import { App } from "aws-cdk-lib";
import type { NodejsFunctionProps } from "aws-cdk-lib/aws-lambda-nodejs";
import { deployedOptions } from "../../bench/bundles";
import { BUNDLING, esbuildOptions } from "../../lib/bundling";
import { parseOrgConfig } from "../../lib/config";
import { QaTicketStack } from "../../lib/qa-ticket-stack";

/** Props of every NodejsFunction the stack creates (the constructor is wrapped, nothing else changes). */
const created: NodejsFunctionProps[] = [];
jest.mock("aws-cdk-lib/aws-lambda-nodejs", () => {
  const actual = jest.requireActual("aws-cdk-lib/aws-lambda-nodejs");
  class Recording extends actual.NodejsFunction {
    constructor(scope: unknown, id: string, props: NodejsFunctionProps) {
      super(scope, id, props);
      created.push(props);
    }
  }
  return { ...actual, NodejsFunction: Recording };
});

describe("BUNDLING (lib/bundling.ts)", () => {
  it("is what every function of the stack is bundled with", () => {
    const config = parseOrgConfig(
      "acme",
      {
        qatech: { projectShortId: "proj_acme" },
        jira: { enabled: true, baseUrl: "https://acme.atlassian.net" },
      },
      "test config",
    );
    const app = new App({ context: { "aws:cdk:bundling-stacks": [] } });
    new QaTicketStack(app, "QaTicket-acme", { config });
    expect(created.length).toBeGreaterThan(1);
    for (const props of created) expect(props.bundling).toEqual(BUNDLING);
  });

  it("is what the benchmark bundles with, minus the source map", () => {
    const options = deployedOptions("webhook (linear)", "out.js");
    expect(options).toMatchObject(esbuildOptions());
    expect(options).toMatchObject({
      bundle: true,
      minify: BUNDLING.minify,
      target: BUNDLING.target,
      format: BUNDLING.format,
      keepNames: BUNDLING.keepNames,
      external: BUNDLING.externalModules,
    });
    expect(options.sourcemap).toBeUndefined();
  });
});
