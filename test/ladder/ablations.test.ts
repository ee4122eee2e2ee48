// The modern step's ablation: every variant is the modern spec with exactly its one change, at the same
// training budget.
import { describe, expect, it } from "vitest";
import { countParams, namedParams } from "../../compiler/ir/analysis.js";
import { lowerSpec } from "../../compiler/ir/lower.js";
import { loadSpec } from "../../compiler/spec/load.js";
import { ABLATIONS } from "../../runtime/ladder/ablations.js";
import { PROJECT_ROOT } from "../helpers/project.js";

const load = (spec: string, sets: readonly string[] = []) => loadSpec(spec, { cwd: PROJECT_ROOT, sets });
const modern = load("specs/15-modern.yaml");
const names = (spec: string, sets: readonly string[]): string[] => namedParams(lowerSpec(load(spec, sets))).map((p) => p.name);

describe("the modern step's ablation", () => {
  const changes = ABLATIONS.filter((a) => !a.control);
  it.each(changes.map((a) => [a.name, a] as const))("%s changes the model and keeps the training budget", (_, a) => {
    const variant = load(a.spec, a.sets);
    expect(variant.spec.training).toEqual(modern.spec.training);
    expect(lowerSpec(variant).modelHash).not.toBe(lowerSpec(modern).modelHash);
  });

  it("has one control: the same model and budget under another seed", () => {
    const controls = ABLATIONS.filter((a) => a.control);
    expect(controls).toHaveLength(1);
    const control = load(controls[0]!.spec, controls[0]!.sets);
    expect(lowerSpec(control).modelHash).toBe(lowerSpec(modern).modelHash);
    expect(control.spec.training.seed).not.toBe(modern.spec.training.seed);
    expect({ ...control.spec.training, seed: modern.spec.training.seed }).toEqual(modern.spec.training);
  });

  it("undoes what each says", () => {
    const of = (name: string) => ABLATIONS.find((a) => a.name === name)!;
    const base = namedParams(lowerSpec(modern)).map((p) => p.name);
    expect(names(of("learned-positions").spec, [])).toEqual(["token_embedding.weight", "position_embedding.weight", ...base.slice(1)]);
    expect(names(of("untied").spec, of("untied").sets)).toEqual([...base, "lm_head.weight"]);
    expect(names(of("layer-norm").spec, of("layer-norm").sets)).toContain("blocks.0.ln1.beta");
    expect(names(of("biases").spec, of("biases").sets)).toContain("blocks.0.attn.query.bias");
    expect(names(of("no-qk-norm").spec, of("no-qk-norm").sets)).not.toContain("blocks.0.attn.q_norm.gamma");
    // The GELU MLP is sized to the SwiGLU layer's parameters (biases aside, which neither has).
    const gelu = of("gelu-mlp");
    expect(countParams(lowerSpec(load(gelu.spec, gelu.sets)), 65)).toBe(countParams(lowerSpec(modern), 65));
  });
});
