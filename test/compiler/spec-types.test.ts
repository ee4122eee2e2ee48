// The spec's TypeScript types and its validator are generated from the schema; this fails while either is
// stale (npm run gen:types writes both).
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderSpecTypes, renderSpecValidator, TYPES_PATH, VALIDATOR_PATH } from "../../compiler/spec/gen-types.js";

describe("spec types", () => {
  it("compiler/spec/types.generated.ts is what the schema produces (npm run gen:types)", async () => {
    expect(readFileSync(TYPES_PATH, "utf8")).toBe(await renderSpecTypes());
  });

  it("compiler/spec/validate.generated.mjs is ajv's standalone validator of the schema (npm run gen:types)", async () => {
    expect(readFileSync(VALIDATOR_PATH, "utf8")).toBe(await renderSpecValidator());
  });
});
