// getBatch: B random windows of T tokens and the same windows shifted by one (the targets), as int32.
// Positions come from our seeded PRNG, so a run (and a resumed run) draws the same batches. The tokens come
// from a TokenSource: an array in memory, or a token file of the cache read window by window.
import type { Prng } from "../random.js";
import { tf } from "../nn/tf.js";
import { asSource, type Tokens } from "./token-source.js";

export interface Batch {
  readonly x: tf.Tensor2D;
  readonly y: tf.Tensor2D;
}

/** The raw windows, for callers that want arrays rather than tensors. */
export function sampleWindows(data: Tokens, batch: number, block: number, rng: Prng): { x: Int32Array; y: Int32Array } {
  const src = asSource(data);
  const x = new Int32Array(batch * block);
  const y = new Int32Array(batch * block);
  const window = new Int32Array(block + 1);
  const starts = src.length - block; // a window needs block + 1 tokens
  for (let b = 0; b < batch; b++) {
    const i = rng.nextInt(starts);
    src.read(i, window);
    x.set(window.subarray(0, block), b * block);
    y.set(window.subarray(1), b * block);
  }
  return { x, y };
}

export function getBatch(data: Tokens, batch: number, block: number, rng: Prng): Batch {
  const { x, y } = sampleWindows(data, batch, block, rng);
  return { x: tf.tensor2d(x, [batch, block], "int32"), y: tf.tensor2d(y, [batch, block], "int32") };
}
