import type { BundlingOptions } from "aws-cdk-lib/aws-lambda-nodejs";
import { OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import type { BuildOptions } from "esbuild";

/**
 * How every Lambda function is bundled, in one place: lib/constructs/ticket-function.ts deploys with it and
 * bench/bundles.ts measures with it (esbuildOptions below), so the benchmark measures what is deployed.
 * Bundled locally with esbuild, AWS SDK included (externalModules empty, as AWS recommends for cold starts),
 * minified with source maps; keepNames keeps error class names readable in stack traces. Dynamic imports
 * stay lazy.
 */
export const BUNDLING = {
  minify: true,
  sourceMap: true,
  target: "node24",
  format: OutputFormat.CJS,
  externalModules: [] as string[],
  keepNames: true,
} as const satisfies BundlingOptions;

/**
 * BUNDLING as esbuild JS API options (what NodejsFunction passes to esbuild), minus the source map, which
 * does not change the .js size.
 */
export function esbuildOptions(): BuildOptions {
  return {
    bundle: true,
    minify: BUNDLING.minify,
    platform: "node",
    target: BUNDLING.target,
    format: BUNDLING.format,
    keepNames: BUNDLING.keepNames,
    external: [...BUNDLING.externalModules],
  };
}
