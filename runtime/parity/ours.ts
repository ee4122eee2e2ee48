// babygpt's side of the parity check: the TypeScript model's logits, loss and gradients on one batch, and
// a few steps of each optimizer from the same weights through the trainer's own step.
import type { OptimizerSpec } from "../../compiler/index.js";
import type { NamedTensor } from "../checkpoint/safetensors.js";
import { loadParameters } from "../checkpoint/model-state.js";
import type { LanguageModel } from "../nn/language-model.js";
import { tf } from "../nn/tf.js";
import { choiceMargins, recordRouting, type RoutingRecord } from "../ops/routing.js";
import { Prng } from "../random.js";
import { Optimizer } from "../train/optimizer.js";
import { trainStep } from "../train/step.js";
import { nearTies, type OurNumbers, type Routing } from "./compare.js";

/**
 * Moves every 1-D parameter (biases, norm gains, learned skip weights) off its initial value. GPT-2 style
 * initialization makes biases 0 and gains 1, where a mixed-up bias or gain would go unnoticed.
 */
export function perturbVectors(model: LanguageModel, seed: number): void {
  const rng = new Prng(seed);
  for (const [, v] of model.namedParameters()) {
    if (v.shape.length !== 1) continue;
    const noise = Float32Array.from({ length: v.size }, () => 0.1 * rng.nextNormal());
    tf.tidy(() => v.assign(tf.add(v, tf.tensor1d(noise))));
  }
}

/** What each recorded routing chose and how near each token was to a tie; the records are disposed. */
async function routingsOf(records: readonly RoutingRecord[]): Promise<Routing[]> {
  const out: Routing[] = [];
  for (const r of records) {
    const [E, k] = [r.scores.shape[2], r.chosen.shape[2]];
    out.push({ chosen: (await r.chosen.data()) as Int32Array, k, margins: choiceMargins((await r.scores.data()) as Float32Array, E, k) });
    tf.dispose([r.scores, r.chosen]);
  }
  return out;
}

/**
 * Forward (recording a mixture of experts' routings), one backward, and `steps` steps of each optimizer from `initial` (the weights PyTorch loads).
 * Values are read with `await data()`, which the webgpu backend needs. The model should be in eval mode
 * (dropout off: random masks cannot match across frameworks).
 */
export async function computeOurs(
  model: LanguageModel,
  initial: ReadonlyMap<string, NamedTensor>,
  batch: ReadonlyMap<string, NamedTensor>,
  options: { readonly gradClip: number; readonly steps: number; readonly optimizers: readonly OptimizerSpec[] },
): Promise<OurNumbers> {
  const [x, y] = ["x", "y"].map((k) => {
    const t = batch.get(k)!;
    return tf.tensor2d(t.data, t.shape as [number, number], "int32");
  }) as [tf.Tensor2D, tf.Tensor2D];
  const params = model.namedParameters();
  const vars = params.map(([, v]) => v);
  try {
    const forward = recordRouting(() => model.forward(x, y));
    const { logits, loss, aux } = forward.result;
    const routings = await routingsOf(forward.routings);
    const out = { logits: (await logits.data()) as Float32Array, loss: (await loss!.data())[0]!, routings };
    tf.dispose([logits, loss!, ...(aux ? [aux] : [])]);
    /** Token choices near a tie in a forward at the current weights (one of a step's, whose routing it repeats). */
    const tiesNow = async (): Promise<number> => {
      if (routings.length === 0) return 0;
      const { routings: records } = recordRouting(() => tf.tidy(() => void model.forward(x, y)));
      return nearTies(await routingsOf(records));
    };
    const { value, grads: byVar } = tf.variableGrads(() => model.forward(x, y).loss!, vars);
    value.dispose();
    const grads = new Map<string, Float32Array>();
    for (const [n, v] of params) grads.set(n, (await byVar[v.name]!.data()) as Float32Array);
    tf.dispose(Object.values(byVar));

    const stepLosses = new Map<string, Float32Array>();
    const stepNearTies = new Map<string, number>();
    for (const config of options.optimizers) {
      loadParameters(model, initial, "the initial weights");
      const optimizer = new Optimizer(config);
      const losses = new Float32Array(options.steps + 1);
      let ties = 0;
      // The trainer's own step (runtime/train/step.ts): forward, backward, clipping, the update.
      for (let step = 0; step < options.steps; step++) {
        ties += await tiesNow();
        losses[step] = (await trainStep(model, params, x, y, optimizer, config.lr, options.gradClip)).loss;
      }
      ties += await tiesNow();
      const last = tf.tidy(() => model.forward(x, y).loss!);
      losses[options.steps] = (await last.data())[0]!;
      last.dispose();
      optimizer.dispose();
      stepLosses.set(config.type, losses);
      stepNearTies.set(config.type, ties);
    }
    loadParameters(model, initial, "the initial weights");
    return { ...out, grads, stepLosses, stepNearTies };
  } finally {
    tf.dispose([x, y]);
  }
}
