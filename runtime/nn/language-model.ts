// The root class of every generated model: the runtime trains, evaluates and samples through it.
import { AuxLosses } from "./aux-losses.js";
import { DropoutSeeds } from "./dropout-seeds.js";
import type { KvCache } from "./kv-cache.js";
import { Module } from "./module.js";
import type { tf } from "./tf.js";

export interface ModelOptions {
  /** Size of the tokenizer's vocabulary: 65 for tinyshakespeare's characters, 50,257 for GPT-2. */
  readonly vocabSize: number;
  /** Seeds the weight initialization. */
  readonly seed?: number;
  /**
   * false skips the initialization (weights stay zero, gains one): for a model whose every weight a
   * checkpoint replaces at once, as `sample` and `eval` build it. Default true.
   */
  readonly initialize?: boolean;
}

export interface ModelOutput {
  /** (B, T, vocab): unnormalized scores for the next token at every position. */
  readonly logits: tf.Tensor3D;
  /** Mean cross-entropy against the targets, when they were given. */
  readonly loss?: tf.Scalar;
  /**
   * With targets, what the layers add to the training loss beside the cross-entropy (a mixture of experts'
   * load balancing), summed over the layers; absent for models without such terms. Training minimizes
   * loss + aux; loss estimates and evaluation report loss alone.
   */
  readonly aux?: tf.Scalar | undefined;
}

export abstract class LanguageModel extends Module {
  readonly vocabSize: number;
  /** The longest context the model accepts. */
  readonly blockSize: number;
  /** The seeds of every dropout mask the model draws; the trainer saves and restores their state. */
  readonly dropoutSeeds: DropoutSeeds = new DropoutSeeds();
  /** The auxiliary losses its layers add during a forward (addAuxLoss), which the forward takes. */
  readonly #auxLosses = new AuxLosses();

  constructor(options: ModelOptions, config: { readonly blockSize: number }) {
    super();
    if (!Number.isInteger(options.vocabSize) || options.vocabSize < 1) {
      throw new RangeError(`vocabSize must be a positive integer, got ${options.vocabSize}`);
    }
    this.vocabSize = options.vocabSize;
    this.blockSize = config.blockSize;
    this.shareDropoutSeeds(this.dropoutSeeds);
    this.shareAuxLosses(this.#auxLosses);
  }

  /**
   * The sum of the auxiliary losses the layers added since the last call (undefined when none): the
   * generated forward of a model with such layers calls it once, at its end, so none is left to the next.
   */
  protected takeAuxLoss(): tf.Scalar | undefined {
    return this.#auxLosses.take();
  }

  /**
   * idx (B, T) int32 → logits, and the loss when targets (B, T) are given. While sampling, a KV cache holds
   * the positions before idx's (runtime/sample.ts); models without attention or positions ignore it.
   */
  abstract forward(idx: tf.Tensor2D, targets?: tf.Tensor2D, cache?: KvCache): ModelOutput;
}
