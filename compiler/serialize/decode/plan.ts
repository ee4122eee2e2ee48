// The decode plan: a model's forward for sampling, one token step at a time, as a flat list of steps over
// numbered activations, which a backend runs without building a tensor per operation (the native addon
// interprets it, runtime/native/decode.ts). It is the module tree's third serialization, beside the
// TypeScript and Python modules (compiler/serialize/decode/interpret.ts), and reads what the generated
// forward reads: every weight by the dotted name under which the model registers it (its parameters, and
// buffers such as rotary tables), every number (eps, scales, windows) as the forward's fields hold it.
//
// Rows: every activation is (B·T, width), one row per position of each sequence, the heads of attention
// side by side in a row (the (B, H, T, hs) of the generated code is a view of it). Steps after the last
// attention need each sequence's last position alone (the next token's logits): they run on B rows, and
// their activations hold those rows only (`last`).
import type { Activation } from "../../ir/nodes/index.js";

/** A weight the plan reads: a parameter or buffer of the model, by its dotted name, with its shape. */
export interface PlanTensor {
  readonly name: string;
  readonly shape: readonly number[];
}

/** An activation: its width per row, whether it holds the last rows alone, and the buffer it lives in. */
export interface PlanValue {
  readonly width: number;
  readonly last: boolean;
  readonly buffer: number;
}

/** A buffer the activations share (one at a time): the widest row it holds, and its kind of rows. */
export interface PlanBuffer {
  readonly width: number;
  readonly last: boolean;
}

/** An attention application's cache of keys and values: kv heads × head size per position. */
export interface PlanCache {
  readonly kvHeads: number;
  readonly headSize: number;
}

/** An activation read from a column on: q, k and v of a packed projection. */
export interface Operand {
  readonly value: number;
  readonly offset: number;
}

/** One expert of a mixture: its projections (tensor indices; gate absent when ungated; biases or none). */
export interface PlanExpert {
  readonly gate?: number;
  readonly fc: number;
  readonly proj: number;
  readonly gateBias?: number;
  readonly fcBias?: number;
  readonly projBias?: number;
}

/** Tensors are indices into DecodePlan.tensors; values into DecodePlan.values. */
export type PlanStep = { readonly last: boolean } & (
  | { readonly kind: "embed"; readonly out: number; readonly table: number; readonly scale?: number }
  /** out = x + table[past + t] for the position t of each row. */
  | { readonly kind: "positions"; readonly x: number; readonly out: number; readonly table: number }
  /** out = x Wᵀ + b, with W the tensors stacked along their rows (several heads' projections at once). */
  | { readonly kind: "linear"; readonly x: number; readonly out: number; readonly weights: readonly number[]; readonly biases: readonly number[] | null }
  /** Over groups of `dim` features (a row's width, or each head's). */
  | { readonly kind: "layer_norm"; readonly x: number; readonly out: number; readonly gamma: number | null; readonly beta: number | null; readonly eps: number; readonly dim: number }
  | { readonly kind: "rms_norm"; readonly x: number; readonly out: number; readonly gamma: number | null; readonly eps: number; readonly dim: number }
  | { readonly kind: "activation"; readonly x: number; readonly out: number; readonly fn: Activation }
  | { readonly kind: "gated_activation"; readonly gate: number; readonly up: number; readonly out: number; readonly fn: Activation }
  | { readonly kind: "add"; readonly a: number; readonly b: number; readonly out: number }
  | { readonly kind: "scale"; readonly x: number; readonly out: number; readonly by: number }
  /** out = x · w, w a tensor of one element (a learned skip weight). */
  | { readonly kind: "scale_by"; readonly x: number; readonly out: number; readonly by: number }
  | { readonly kind: "softcap"; readonly x: number; readonly out: number; readonly cap: number }
  /** Each head's leading 2·half features rotated by the rows of cos and sin (P, half) at past + t. */
  | { readonly kind: "rope"; readonly x: number; readonly out: number; readonly cos: number; readonly sin: number; readonly heads: number; readonly headSize: number }
  /**
   * Appends k and v of the new positions to cache `cache`, then each query head attends over the cached
   * positions (query head h reads kv head h / (heads / kvHeads)); `last`: the last position's query alone.
   * alibi: the runtime takes ALiBi's slopes for `heads` heads.
   */
  | {
      readonly kind: "attention";
      readonly q: Operand;
      readonly k: Operand;
      readonly v: Operand;
      readonly out: number;
      readonly cache: number;
      readonly heads: number;
      readonly kvHeads: number;
      readonly headSize: number;
      readonly scale: number;
      readonly window: number;
      readonly alibi: boolean;
      readonly softcap: number;
    }
  /** A mixture of experts: the router's scores → softmax, top k (lower index on ties), renormalized weights. */
  | { readonly kind: "experts"; readonly x: number; readonly scores: number; readonly out: number; readonly topK: number; readonly fn: Activation; readonly hidden: number; readonly experts: readonly PlanExpert[] }
);

export type PlanStepKind = PlanStep["kind"];

export interface DecodePlan {
  readonly name: string;
  readonly vocab: number;
  readonly blockSize: number;
  readonly tensors: readonly PlanTensor[];
  readonly values: readonly PlanValue[];
  readonly buffers: readonly PlanBuffer[];
  readonly caches: readonly PlanCache[];
  readonly steps: readonly PlanStep[];
  /** The value holding the logits (width vocab). */
  readonly logits: number;
}

/** What a plan could not be made of, in words: the forward then runs as generated (the reference path). */
export interface NoPlan {
  readonly unsupported: string;
}
