// Small measured demonstrations for the ladder report, each isolating one concept with numbers:
// attention is blind to order without positions, unscaled scores saturate softmax, and residual paths
// carry gradients through depth.
import { loadSpec, lowerSpec } from "../../compiler/index.js";
import { emitTypeScript } from "../../compiler/emit.js";
import { importSource } from "../model-source.js";
import type { LanguageModel } from "../nn/language-model.js";
import { tf } from "../nn/tf.js";
import { PROJECT_ROOT } from "../paths.js";
import { Prng } from "../random.js";
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const RUNTIME = pathToFileURL(join(PROJECT_ROOT, "runtime/nn/index.ts")).href;

async function build(spec: string, sets: readonly string[], vocab: number, seed = 1): Promise<LanguageModel> {
  const ir = lowerSpec(loadSpec(spec, { cwd: PROJECT_ROOT, sets }));
  const mod = await importSource(emitTypeScript(ir, { runtimeImport: RUNTIME }));
  return mod.createModel({ vocabSize: vocab, seed });
}

/**
 * Softmax over T scores q·k of unit-variance vectors of size hs: the mean weight of the largest entry,
 * with and without the 1/sqrt(hs) scale. 1/T is perfectly diffuse, 1 is one-hot.
 */
export function softmaxSaturation(headSizes: readonly number[], T = 8, trials = 2000): { headSize: number; scaled: number; unscaled: number }[] {
  const rng = new Prng(7);
  return headSizes.map((hs) => {
    let scaled = 0;
    let unscaled = 0;
    for (let trial = 0; trial < trials; trial++) {
      const q = Array.from({ length: hs }, () => rng.nextNormal());
      const scores = Array.from({ length: T }, () => q.reduce((s, qi) => s + qi * rng.nextNormal(), 0));
      const maxWeight = (xs: number[]): number => {
        const m = Math.max(...xs);
        const e = xs.map((x) => Math.exp(x - m));
        return Math.max(...e) / e.reduce((a, b) => a + b, 0);
      };
      unscaled += maxWeight(scores);
      scaled += maxWeight(scores.map((s) => s / Math.sqrt(hs)));
    }
    return { headSize: hs, scaled: scaled / trials, unscaled: unscaled / trials };
  });
}

/**
 * How much the logits at the last position change when the earlier tokens are shuffled, in the
 * single-head model with its position table and with that table zeroed. Zero change means the model
 * cannot tell the orders apart.
 */
export async function orderSensitivity(spec: string, vocab: number): Promise<{ withPositions: number; withoutPositions: number }> {
  const model = await build(spec, [], vocab);
  const T = model.blockSize;
  const rng = new Prng(3);
  const tokens = Array.from({ length: T }, () => rng.nextInt(vocab));
  const shuffled = [...tokens.slice(0, T - 1).reverse(), tokens[T - 1]!];
  const lastLogits = (ids: number[]): Float32Array =>
    tf.tidy(() => {
      const { logits } = model.forward(tf.tensor2d(ids, [1, T], "int32"));
      return tf.slice(logits, [0, T - 1, 0], [1, 1, vocab]);
    }).dataSync() as Float32Array;
  const change = (): number => {
    const a = lastLogits(tokens);
    const b = lastLogits(shuffled);
    return Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
  };
  const withPositions = change();
  const table = model.namedParameters().find(([n]) => n === "position_embedding.weight")![1];
  table.assign(tf.zerosLike(table));
  const withoutPositions = change();
  model.dispose();
  return { withPositions, withoutPositions };
}

/**
 * The gradient norm reaching the first block relative to the last, at initialization, for a stack with
 * and without residual paths (same batch, same seed).
 */
export async function gradientThroughDepth(specs: { readonly plain: string; readonly residual: string }, vocab: number): Promise<{ plain: number; residual: number }> {
  const ratio = async (spec: string): Promise<number> => {
    const model = await build(spec, [], vocab);
    const params = model.namedParameters();
    const rng = new Prng(11);
    const B = 16;
    const T = model.blockSize;
    const x = tf.tensor2d(Array.from({ length: B * T }, () => rng.nextInt(vocab)), [B, T], "int32");
    const y = tf.tensor2d(Array.from({ length: B * T }, () => rng.nextInt(vocab)), [B, T], "int32");
    const { grads, value } = tf.variableGrads(() => model.forward(x, y).loss!, params.map(([, v]) => v));
    const blocks = [...new Set(params.map(([n]) => /^blocks\.(\d+)\./.exec(n)?.[1]).filter((b): b is string => b !== undefined))];
    const norm = (block: string): number => {
      let s = 0;
      for (const [n, v] of params) if (n.startsWith(`blocks.${block}.`)) s += tf.tidy(() => tf.sum(tf.square(grads[v.name]!)).dataSync()[0]!);
      return Math.sqrt(s);
    };
    const r = norm(blocks[0]!) / norm(blocks[blocks.length - 1]!);
    tf.dispose([x, y, value, ...Object.values(grads)]);
    model.dispose();
    return r;
  };
  return { plain: await ratio(specs.plain), residual: await ratio(specs.residual) };
}
