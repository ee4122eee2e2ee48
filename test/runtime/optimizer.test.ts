// The optimizers against their formulas, computed by hand in float64 for a few steps.
import { beforeAll, describe, expect, it } from "vitest";
import type { OptimizerSpec } from "../../compiler/spec/types.generated.js";
import { selectBackend } from "../../runtime/backend/select.js";
import { tf } from "../../runtime/nn/tf.js";
import { Optimizer } from "../../runtime/train/optimizer.js";
import { learningRate } from "../../runtime/train/schedule.js";
import { clipByGlobalNorm } from "../../runtime/train/clip.js";

beforeAll(async () => {
  await selectBackend("cpu");
});

const p0 = [0.5, -1.5, 2.0];
const gradsAt = (step: number): number[] => [0.1 * step, -0.3, 0.05 + 0.02 * step];

function run(config: OptimizerSpec, steps: number, lr: number): number[] {
  const p = tf.variable(tf.tensor1d(p0));
  const opt = new Optimizer(config);
  for (let s = 1; s <= steps; s++) {
    const g = tf.tensor1d(gradsAt(s));
    opt.apply([["w", p]], new Map([["w", g]]), lr);
    g.dispose();
  }
  const out = Array.from(p.dataSync());
  p.dispose();
  opt.dispose();
  return out;
}

/** AdamW as in Loshchilov & Hutter / PyTorch: decay the weight, then the bias-corrected Adam step. */
function adamwByHand(steps: number, lr: number, b1: number, b2: number, eps: number, wd: number, decoupled: boolean): number[] {
  const p = [...p0];
  const m = [0, 0, 0];
  const v = [0, 0, 0];
  for (let t = 1; t <= steps; t++) {
    const g = gradsAt(t);
    for (let i = 0; i < 3; i++) {
      if (decoupled) p[i]! *= 1 - lr * wd;
      m[i] = b1 * m[i]! + (1 - b1) * g[i]!;
      v[i] = b2 * v[i]! + (1 - b2) * g[i]! ** 2;
      const mHat = m[i]! / (1 - b1 ** t);
      const vHat = v[i]! / (1 - b2 ** t);
      p[i]! -= (lr * mHat) / (Math.sqrt(vHat) + eps);
    }
  }
  return p;
}

describe("optimizers", () => {
  it("AdamW matches the formula with decoupled weight decay", () => {
    const got = run({ type: "adamw", lr: 0.01, betas: [0.9, 0.95], eps: 1e-8, weight_decay: 0.1 }, 5, 0.01);
    const want = adamwByHand(5, 0.01, 0.9, 0.95, 1e-8, 0.1, true);
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
  });

  it("Adam ignores weight_decay", () => {
    const got = run({ type: "adam", lr: 0.01, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0.1 }, 5, 0.01);
    const want = adamwByHand(5, 0.01, 0.9, 0.999, 1e-8, 0.1, false);
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
  });

  it("SGD steps against the gradient", () => {
    const got = run({ type: "sgd", lr: 0.5, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0 }, 3, 0.5);
    const want = p0.map((p, i) => p - 0.5 * (gradsAt(1)[i]! + gradsAt(2)[i]! + gradsAt(3)[i]!));
    got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 6));
  });

  it("saves and restores its moments by parameter name", () => {
    const config: OptimizerSpec = { type: "adamw", lr: 0.01, betas: [0.9, 0.95], eps: 1e-8, weight_decay: 0.1 };
    const full = run(config, 4, 0.01);
    const p = tf.variable(tf.tensor1d(p0));
    const a = new Optimizer(config);
    for (let s = 1; s <= 2; s++) a.apply([["w", p]], new Map([["w", tf.tensor1d(gradsAt(s))]]), 0.01);
    const b = new Optimizer(config);
    b.restore(a.step, a.state().slots, [["w", p]]);
    for (let s = 3; s <= 4; s++) b.apply([["w", p]], new Map([["w", tf.tensor1d(gradsAt(s))]]), 0.01);
    Array.from(p.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(full[i]!, 6));
    expect(() => b.restore(1, new Map([["nope.exp_avg", tf.zeros([3])]]), [["w", p]])).toThrow(/matches no parameter/);
  });
});

describe("learning-rate schedule", () => {
  const cosine = { type: "cosine" as const, warmup_iters: 10, min_lr: 0.1 };
  it("warms up linearly, peaks, then decays by a cosine to min_lr", () => {
    expect(learningRate(0, 1, cosine, 110)).toBeCloseTo(1 / 11);
    expect(learningRate(9, 1, cosine, 110)).toBeCloseTo(10 / 11);
    expect(learningRate(10, 1, cosine, 110)).toBeCloseTo(1);
    expect(learningRate(60, 1, cosine, 110)).toBeCloseTo(0.55);
    expect(learningRate(110, 1, cosine, 110)).toBeCloseTo(0.1);
  });
  it("stays put when constant", () => {
    expect(learningRate(500, 3e-4, { type: "constant", warmup_iters: 0, min_lr: 0 }, 1000)).toBe(3e-4);
  });
});

describe("gradient clipping", () => {
  it("scales all gradients by one factor to the maximum global norm", async () => {
    const grads = new Map([
      ["a", tf.tensor1d([3, 0])],
      ["b", tf.tensor1d([0, 4])],
    ]);
    expect(await clipByGlobalNorm(grads, 1)).toBeCloseTo(5);
    expect(Array.from(grads.get("a")!.dataSync())[0]).toBeCloseTo(0.6, 5);
    expect(Array.from(grads.get("b")!.dataSync())[1]).toBeCloseTo(0.8, 5);
  });
});
