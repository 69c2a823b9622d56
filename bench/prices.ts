/** us-east-1 list prices, from https://aws.amazon.com/step-functions/pricing/, https://aws.amazon.com/lambda/pricing/,
 * https://aws.amazon.com/api-gateway/pricing/ and https://aws.amazon.com/secrets-manager/pricing/. */
export const PRICES = {
  stepFunctionsPerTransition: 0.025 / 1000,
  lambdaPerRequest: 0.2 / 1_000_000,
  lambdaPerGbSecond: { arm64: 0.0000133334, x86_64: 0.0000166667 },
  httpApiPerRequest: 1.0 / 1_000_000,
  secretsManagerPerCall: 0.05 / 10_000,
};

/** What one ticket uses, as counted on the local runner. */
export interface TicketUsage {
  transitions: number;
  invocations: number;
  /** Billed Lambda time times memory, all invocations together. */
  gbSeconds: number;
  secretReads: number;
}

/** Cost of one ticket in USD, by service. */
export function ticketCost(usage: TicketUsage, architecture: "arm64" | "x86_64") {
  const stepFunctions = usage.transitions * PRICES.stepFunctionsPerTransition;
  const lambda =
    usage.invocations * PRICES.lambdaPerRequest + usage.gbSeconds * PRICES.lambdaPerGbSecond[architecture];
  const httpApi = PRICES.httpApiPerRequest;
  const secretsManager = usage.secretReads * PRICES.secretsManagerPerCall;
  return {
    stepFunctions,
    lambda,
    httpApi,
    secretsManager,
    total: stepFunctions + lambda + httpApi + secretsManager,
  };
}
