/** Jest runs the TypeScript sources through ts-jest (CommonJS). @linear/sdk, marklassian, marked and uuid ship
 * ESM only, so they are transformed too instead of being skipped like the rest of node_modules. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.(t|j|mj)s$": ["ts-jest", { tsconfig: { allowJs: true, module: "commonjs" } }],
  },
  transformIgnorePatterns: ["node_modules/(?!(@linear/sdk|marklassian|marked|uuid)/)"],
  moduleFileExtensions: ["ts", "js", "mjs", "json"],
  setupFiles: ["<rootDir>/test/setup.ts"],
  testTimeout: 30000,
};
