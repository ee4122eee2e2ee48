// Loss estimates during training (nanoGPT's estimate_loss: the mean over eval_iters random batches with
// dropout off) and the exact loss over a whole split (every token, in contiguous windows).
//
// Both can take minutes on a large model, so both give the event loop a turn after every batch: a
// Ctrl-C is heard at once (and can cut the evaluation short), and progress can be shown.
import type { LanguageModel } from "../nn/language-model.js";
import { tf } from "../nn/tf.js";
import { getBatch } from "../data/batches.js";
import { asSource, type Tokens } from "../data/token-source.js";
import { Prng } from "../random.js";

export interface EvalControl {
  /** Batches done of the total, after each batch. */
  readonly onProgress?: (done: number, total: number) => void;
  /** Polled after each batch; true abandons the evaluation (the result is then undefined). */
  readonly shouldStop?: () => boolean;
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/**
 * Mean loss over `iters` random batches, or undefined if stopped. The batches come from a PRNG seeded by
 * (seed, step), not from the training stream, so evaluating (or evaluating twice, around a resume)
 * never shifts training.
 */
export async function estimateLoss(model: LanguageModel, data: Tokens, batch: number, iters: number, seed: number, step: number, control: EvalControl = {}): Promise<number | undefined> {
  const rng = new Prng((seed * 1_000_003 + step * 7919 + 17) >>> 0);
  const wasTraining = model.training;
  model.eval();
  let total = 0;
  try {
    for (let i = 0; i < iters; i++) {
      const { x, y } = getBatch(data, batch, model.blockSize, rng);
      const loss = tf.tidy(() => model.forward(x, y).loss!);
      total += (await loss.data())[0]!;
      tf.dispose([x, y, loss]);
      control.onProgress?.(i + 1, iters);
      await turn();
      if (control.shouldStop?.()) return undefined;
    }
  } finally {
    model.train(wasTraining);
  }
  return total / iters;
}

/**
 * The exact mean cross-entropy of a split: the tokens cut into contiguous, non-overlapping windows of
 * block_size (each predicting its next tokens), every window counted once. Deterministic. The split is
 * read a batch of windows at a time, so a split on disk is streamed, never held whole.
 */
export async function exactLoss(model: LanguageModel, tokens: Tokens, batch: number, onProgress?: (done: number, total: number) => void): Promise<{ loss: number; tokens: number }> {
  const T = model.blockSize;
  const data = asSource(tokens);
  const windows = Math.floor((data.length - 1) / T);
  const wasTraining = model.training;
  model.eval();
  let sum = 0;
  try {
    for (let w = 0; w < windows; w += batch) {
      const b = Math.min(batch, windows - w);
      // the b windows and the one token after them, read at once: x is [0, b·T), y is [1, b·T + 1)
      const span = new Int32Array(b * T + 1);
      data.read(w * T, span);
      const x = span.slice(0, b * T);
      const y = span.slice(1);
      const loss = tf.tidy(() => model.forward(tf.tensor2d(x, [b, T], "int32"), tf.tensor2d(y, [b, T], "int32")).loss!);
      sum += (await loss.data())[0]! * b * T; // the loss is a mean over b·T tokens
      loss.dispose();
      onProgress?.(w + b, windows);
      await turn();
    }
  } finally {
    model.train(wasTraining);
  }
  return { loss: sum / (windows * T), tokens: windows * T };
}
