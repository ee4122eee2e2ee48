// The init step of generated models: zero_init's projections start at zero, GPT-2's residual projections
// are drawn from N(0, 0.02/sqrt(R)) and the rest of the linears from N(0, 0.02), a skip's learned weight
// starts at 1 whatever the style, and a seed gives the same weights twice. And the KV cache of a layer with
// a sliding window keeps only what the window reads.
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadSpec } from "../../compiler/spec/load.js";
import { selectBackend } from "../../runtime/backend/select.js";
import { resolveModel } from "../../runtime/model-source.js";
import { KvCache } from "../../runtime/nn/kv-cache.js";
import type { LanguageModel } from "../../runtime/nn/language-model.js";
import { tf } from "../../runtime/nn/tf.js";
import { PROJECT_ROOT } from "../helpers/project.js";

async function build(spec: string, seed = 5, initialize = true): Promise<LanguageModel> {
  const path = join(PROJECT_ROOT, spec);
  const { module } = await resolveModel(path, loadSpec(path, { cwd: PROJECT_ROOT }), { compile: false, sets: [] });
  return module.createModel({ vocabSize: 65, seed, initialize });
}

const std = (values: Float32Array): number => Math.sqrt(values.reduce((s, v) => s + v * v, 0) / values.length);

beforeAll(async () => {
  await selectBackend("cpu");
});

describe("the init step", () => {
  it("starts zero_init's projections at zero and draws GPT-2's residual projections at 0.02/sqrt(R)", async () => {
    const model = await build("test/parity/specs/shaping.yaml");
    const params = new Map(model.namedParameters().map(([n, v]) => [n, v.dataSync() as Float32Array]));
    // zero_init on the second block's attention and the first block's MLP
    expect([...params.get("block2.attn.proj.weight")!].every((v) => v === 0)).toBe(true);
    expect([...params.get("block1.ffwd.proj.weight")!].every((v) => v === 0)).toBe(true);
    // R = 4 residual bodies: the other residual projections at 0.02/2, the rest at 0.02
    const residual = [...params.get("block1.attn.proj.weight")!, ...params.get("block2.ffwd.proj.weight")!];
    expect(std(Float32Array.from(residual))).toBeCloseTo(0.01, 2);
    expect(std(params.get("block1.ffwd.fc.weight")!)).toBeCloseTo(0.02, 2);
    model.dispose();
  });

  it("starts a learned skip's weight at 1, and draws the same weights from the same seed", async () => {
    const a = await build("test/parity/specs/skips.yaml", 9);
    const b = await build("test/parity/specs/skips.yaml", 9);
    const c = await build("test/parity/specs/skips.yaml", 10);
    const values = (m: LanguageModel): number[][] => m.namedParameters().map(([, v]) => Array.from(v.dataSync()));
    expect(Object.fromEntries(a.namedParameters().filter(([n]) => n.startsWith("add")).map(([n, v]) => [n, Array.from(v.dataSync())]))).toEqual({ "add1.weight": [1], "add2.weight": [1] });
    expect(values(a)).toEqual(values(b));
    expect(values(a)).not.toEqual(values(c));
    for (const m of [a, b, c]) m.dispose();
  });
});

describe("the KV cache of a sliding window", () => {
  it("draws nothing for a model built with initialize: false (what sample, eval and --resume load a checkpoint into)", async () => {
    const drawn = await build("specs/12-baby-gpt.yaml");
    const bare = await build("specs/12-baby-gpt.yaml", 5, false);
    const values = (m: LanguageModel): Map<string, Float32Array> => new Map(m.namedParameters().map(([n, v]) => [n, v.dataSync() as Float32Array]));
    const a = values(drawn);
    const b = values(bare);
    expect([...b.keys()]).toEqual([...a.keys()]);
    // every weight the init step draws is drawn in one and zero in the other; gains are one in both
    for (const [name, v] of b) {
      const gain = name.endsWith(".gamma");
      expect([...v].every((x) => x === (gain ? 1 : 0)), name).toBe(true);
      if (!gain && !name.endsWith(".bias") && !name.endsWith(".beta")) expect(a.get(name)!.some((x) => x !== 0), name).toBe(true);
    }
    drawn.dispose();
    bare.dispose();
  });

  it("keeps the last window − 1 positions and returns them with the new ones", () => {
    const cache = new KvCache();
    const layer = {};
    const step = (from: number, n: number): number[] => {
      const t = tf.tensor3d(Array.from({ length: n }, (_, i) => from + i), [1, n, 1]);
      const { k } = cache.append(layer, t, t, 4);
      cache.advance(n);
      const seen = Array.from(k.dataSync());
      t.dispose();
      return seen;
    };
    expect(step(0, 5)).toEqual([0, 1, 2, 3, 4]); // a prompt: every position, for the queries' own windows
    expect(step(5, 1)).toEqual([2, 3, 4, 5]); // then the window: 3 kept, 1 new
    expect(step(6, 1)).toEqual([3, 4, 5, 6]);
    expect(cache.past).toBe(7);
    cache.dispose();
  });
});
