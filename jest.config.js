/** Jest runs the TypeScript sources through ts-jest (CommonJS). @linear/sdk ships ESM only, so it is
 * transformed too instead of being skipped like the rest of node_modules. */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.(t|j|mj)s$": ["ts-jest", { tsconfig: { allowJs: true, module: "commonjs" } }],
  },
  transformIgnorePatterns: ["node_modules/(?!@linear/sdk)"],
  moduleFileExtensions: ["ts", "js", "mjs", "json"],
  setupFiles: ["<rootDir>/test/setup.ts"],
  testTimeout: 30000,
};
