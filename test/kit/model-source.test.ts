// The GPU kit's model source (kit/model-source.ts, bundled in place of runtime/model-source.ts): the
// prebuilt model of the spec's own generated file, found by the IR's model hash; a training-only --set
// keeps it, a --set that changes the architecture is refused in one line (the kit runs no compiler), and
// emitted code (a run's model, as `sample` and `eval` emit it) finds its prebuilt module by the hash it
// records.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { emitTypeScript as emitModelFile } from "../../compiler/emit.js";
import { lowerSpec } from "../../compiler/ir/lower.js";
import { loadSpec } from "../../compiler/spec/load.js";
import { importSource, resolveModel } from "../../kit/model-source.js";
import { UserError } from "../../runtime/errors.js";
import { PROJECT_ROOT } from "../helpers/project.js";

const load = (spec: string, sets: string[] = []) => loadSpec(join(PROJECT_ROOT, spec), { cwd: PROJECT_ROOT, sets });

describe("the kit's model source", () => {
  it("runs a spec's own prebuilt module, recording its generated file as the source", async () => {
    const r = await resolveModel(join(PROJECT_ROOT, "specs/12-baby-gpt.yaml"), load("specs/12-baby-gpt.yaml"), { compile: false, sets: [] });
    expect(r.module.meta.spec).toBe("specs/12-baby-gpt.yaml");
    expect(r.module.meta.modelHash).toBe(r.ir.modelHash);
    expect(r.source).toBe(readFileSync(join(PROJECT_ROOT, "generated/12-baby-gpt.ts"), "utf8"));
    expect(r.from).toMatch(/prebuilt in the kit/);
  });

  it("takes the spec's own module where two specs share an architecture", async () => {
    // 02-position and 03-adam differ in their optimizer alone.
    const a = load("specs/02-position.yaml");
    const b = load("specs/03-adam.yaml");
    expect(lowerSpec(a).modelHash).toBe(lowerSpec(b).modelHash);
    expect((await resolveModel(join(PROJECT_ROOT, "specs/03-adam.yaml"), b, { compile: false, sets: [] })).module.meta.spec).toBe("specs/03-adam.yaml");
    expect((await resolveModel(join(PROJECT_ROOT, "specs/02-position.yaml"), a, { compile: false, sets: [] })).module.meta.spec).toBe("specs/02-position.yaml");
  });

  it("keeps the prebuilt model under a --set of training alone, and refuses one that changes the model", async () => {
    const sets = ["training.batch_size=4"];
    const kept = await resolveModel(join(PROJECT_ROOT, "specs/12-baby-gpt.yaml"), load("specs/12-baby-gpt.yaml", sets), { compile: false, sets });
    expect(kept.module.meta.spec).toBe("specs/12-baby-gpt.yaml");
    const changed = ["model.n_embd=64"];
    const refused = resolveModel(join(PROJECT_ROOT, "specs/12-baby-gpt.yaml"), load("specs/12-baby-gpt.yaml", changed), { compile: false, sets: changed });
    await expect(refused).rejects.toThrow(UserError);
    await expect(refused).rejects.toThrow(/^the model of specs\/12-baby-gpt\.yaml with --set model\.n_embd=64 is not among the models built into this kit .*checkout/);
  });

  it("finds emitted code's prebuilt module by the model hash it records", async () => {
    const ir = lowerSpec(load("specs/11-gpt.yaml"));
    const module = await importSource(emitModelFile(ir, { runtimeImport: "file:///nowhere/runtime/nn/index.ts" }));
    expect(module.meta.spec).toBe("specs/11-gpt.yaml");
    await expect(importSource("export const x = 1;\n")).rejects.toThrow(/code without a model hash is not among the models built into this kit/);
  });
});
