// The spec's TypeScript types are generated from the schema; this fails while they are stale.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderSpecTypes, TYPES_PATH } from "../../compiler/spec/gen-types.js";

describe("spec types", () => {
  it("compiler/spec/types.generated.ts is what the schema produces (npm run gen:types)", async () => {
    expect(readFileSync(TYPES_PATH, "utf8")).toBe(await renderSpecTypes());
  });
});
