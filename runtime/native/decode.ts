// The native backend's sampling (runtime/sampling/backends.ts): a model's decode plan run by the addon's
// decoder (src/decode.cc), one call per token with the draw of the next token in it, and that draw alone
// for the generated forward's logits (the same C++ code, so both ways give the same token for the same
// logits). Here the plan is bound to a model: every weight it names is found among the model's parameters
// and buffers with the shape the plan expects, read in place from the backend's storage, and the plan is
// flattened into the integers and numbers the decoder reads.
import type { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import type { DecodePlan, PlanStep, PlanStepKind } from "../../compiler/index.js";
import type { LanguageModel } from "../nn/language-model.js";
import { tf } from "../nn/tf.js";
import { alibiSlopes } from "../ops/score-shaping.js";
import type { BackendSampling, DecodeProfile, DecoderOptions, PlanDecoder, TokenChoice } from "../sampling/backends.js";
import { GatedActivation, type NativeAddon, type NativeDecoderHandle } from "./addon.js";
import { f32 } from "./storage.js";

/** The step kinds, numbered as DecodeStepKind in src/decode.h. */
export const STEP_KINDS: readonly PlanStepKind[] = [
  "embed",
  "positions",
  "linear",
  "layer_norm",
  "rms_norm",
  "activation",
  "gated_activation",
  "add",
  "scale",
  "scale_by",
  "softcap",
  "rope",
  "attention",
  "experts",
];

/** kPlanVersion of src/decode.cc. */
const PLAN_VERSION = 1;

/** The plan as the decoder reads it: a header, buffers, activations, caches, then each step's record. */
export function flattenPlan(plan: DecodePlan): { ints: Int32Array; floats: Float64Array } {
  const ints: number[] = [PLAN_VERSION, plan.vocab, plan.blockSize, plan.buffers.length, plan.values.length, plan.caches.length, plan.steps.length, plan.logits];
  const floats: number[] = [];
  for (const b of plan.buffers) ints.push(b.width, b.last ? 1 : 0);
  for (const v of plan.values) ints.push(v.width, v.last ? 1 : 0, v.buffer);
  for (const c of plan.caches) ints.push(c.kvHeads, c.headSize);
  const opt = (t: number | null | undefined): number => t ?? -1;
  for (const s of plan.steps) {
    ints.push(STEP_KINDS.indexOf(s.kind), s.last ? 1 : 0);
    flattenStep(s, plan, ints, floats, opt);
  }
  return { ints: Int32Array.from(ints), floats: Float64Array.from(floats) };
}

function flattenStep(s: PlanStep, plan: DecodePlan, ints: number[], floats: number[], opt: (t: number | null | undefined) => number): void {
  switch (s.kind) {
    case "embed":
      ints.push(s.out, s.table);
      floats.push(s.scale ?? 1);
      break;
    case "positions":
      ints.push(s.x, s.out, s.table);
      break;
    case "linear":
      ints.push(s.x, s.out, s.weights.length, ...s.weights, s.biases?.length ?? 0, ...(s.biases ?? []));
      break;
    case "layer_norm":
      ints.push(s.x, s.out, opt(s.gamma), opt(s.beta), s.dim);
      floats.push(s.eps);
      break;
    case "rms_norm":
      ints.push(s.x, s.out, opt(s.gamma), s.dim);
      floats.push(s.eps);
      break;
    case "activation":
      ints.push(s.x, s.out, GatedActivation[s.fn]);
      break;
    case "gated_activation":
      ints.push(s.gate, s.up, s.out, GatedActivation[s.fn]);
      break;
    case "add":
      ints.push(s.a, s.b, s.out);
      break;
    case "scale":
    case "softcap":
      ints.push(s.x, s.out);
      floats.push(s.kind === "scale" ? s.by : s.cap);
      break;
    case "scale_by":
      ints.push(s.x, s.out, s.by);
      break;
    case "rope":
      ints.push(s.x, s.out, s.cos, s.sin, s.heads, s.headSize, plan.tensors[s.cos]!.shape[1]!);
      break;
    case "attention":
      ints.push(s.q.value, s.q.offset, s.k.value, s.k.offset, s.v.value, s.v.offset, s.out, s.cache, s.heads, s.kvHeads, s.headSize, s.window, s.alibi ? 1 : 0);
      floats.push(s.scale, s.softcap, ...(s.alibi ? alibiSlopes(s.heads) : []));
      break;
    case "experts":
      ints.push(s.x, s.scores, s.out, s.topK, GatedActivation[s.fn], s.hidden, s.experts.length);
      for (const e of s.experts) ints.push(opt(e.gate), e.fc, e.proj, opt(e.gateBias), opt(e.fcBias), opt(e.projBias));
      break;
  }
}

/** The model's tensor of each name the plan reads, with the plan's shape, as float32 arrays; or why not. */
function planArrays(plan: DecodePlan, model: LanguageModel): Float32Array[] | string {
  const byName = new Map<string, tf.Tensor>([...model.namedBuffers(), ...model.namedParameters()]);
  const backend = tf.backend() as MathBackendCPU;
  const arrays: Float32Array[] = [];
  for (const { name, shape } of plan.tensors) {
    const t = byName.get(name);
    if (!t) return `the plan reads ${name}, which the model does not have`;
    if (t.shape.join() !== shape.join()) return `the plan reads ${name} as ${shape.join("x")}, the model's is ${t.shape.join("x")}`;
    const values = f32(backend, t);
    if (!values) return `${name} is not a float32 tensor of the native backend`;
    arrays.push(values);
  }
  return arrays;
}

const choiceArray = (c: TokenChoice): Float64Array => Float64Array.from([c.temperature, c.topK ?? 0, c.topP ?? 1]);

/** A plan run by the addon's decoder for batches of up to `batch` sequences. */
class NativePlanDecoder implements PlanDecoder {
  readonly logits: Float32Array | undefined;
  readonly #addon: NativeAddon;
  readonly #handle: NativeDecoderHandle;
  /** The model's arrays, which the decoder reads in place: referenced here for as long as it lives. */
  readonly #arrays: readonly Float32Array[];
  readonly #choice: Float64Array;
  readonly #batch: number;
  readonly #profile: boolean;
  #disposed = false;

  constructor(addon: NativeAddon, plan: DecodePlan, arrays: Float32Array[], options: DecoderOptions) {
    const { ints, floats } = flattenPlan(plan);
    this.#addon = addon;
    this.#handle = addon.decoderCreate(ints, floats, arrays, options.batch, options.profile === true);
    this.#arrays = arrays;
    this.#choice = choiceArray(options.choice);
    this.#batch = options.batch;
    this.#profile = options.profile === true;
    this.logits = options.logits ? new Float32Array(options.batch * plan.vocab) : undefined;
  }

  step(tokens: Int32Array, T: number, past: number, uniforms: Float64Array): Int32Array {
    const B = tokens.length / T;
    const next = new Int32Array(B);
    const logits = this.logits ? this.logits.subarray(0, this.logits.length * (B / this.#batch)) : null;
    this.#addon.decoderStep(this.#handle, tokens, B, T, past, this.#choice, uniforms.length === B ? uniforms : uniforms.subarray(0, B), next, logits);
    return next;
  }

  profile(): DecodeProfile | undefined {
    if (!this.#profile || this.#disposed) return undefined;
    const slots = new Float64Array(STEP_KINDS.length + 3);
    this.#addon.decoderProfile(this.#handle, slots);
    return {
      byKind: Object.fromEntries(STEP_KINDS.map((k, i) => [k, slots[i]!])),
      sampling: slots[STEP_KINDS.length]!,
      total: slots[STEP_KINDS.length + 1]!,
      steps: slots[STEP_KINDS.length + 2]!,
    };
  }

  /** The weights it reads (for the tests of their lifetime). */
  get arrays(): readonly Float32Array[] {
    return this.#arrays;
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#addon.decoderDispose(this.#handle);
  }
}

export function nativeSampling(addon: NativeAddon): BackendSampling {
  return {
    decoder(plan: DecodePlan, model: LanguageModel, options: DecoderOptions): PlanDecoder | { unsupported: string } {
      if (model.vocabSize !== plan.vocab || model.blockSize !== plan.blockSize) {
        return { unsupported: `the plan is for a vocabulary of ${plan.vocab} and ${plan.blockSize} positions, the model has ${model.vocabSize} and ${model.blockSize}` };
      }
      const arrays = planArrays(plan, model);
      if (typeof arrays === "string") return { unsupported: arrays };
      return new NativePlanDecoder(addon, plan, arrays, options);
    },
    pick(logits, vocab, choice, uniforms) {
      const out = new Int32Array(uniforms.length);
      addon.sampleTokens(logits, vocab, choiceArray(choice), uniforms, out);
      return out;
    },
  };
}
