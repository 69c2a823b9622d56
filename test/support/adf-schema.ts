import { validateAdf } from "../../simulators/adf-schema";

/** Fails the current test with the schema errors unless `doc` is valid ADF. */
export function expectValidAdf(doc: unknown): void {
  expect(validateAdf(doc)).toEqual([]);
}
