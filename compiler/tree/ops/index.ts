// The op catalogue: every operation a generated forward may call, registered here once by name. The
// serializers look an op up here to spell it; a builder builds a call with the constructors exported here.
import { ACTIVATION, GATED_ACTIVATION, SOFTCAP } from "./activations.js";
import { CAUSAL_ATTENTION, CAUSAL_MASK, MULTI_HEAD_CAUSAL_ATTENTION } from "./attention.js";
import { EXPERT_MIX, LOAD_BALANCING_LOSS, TOP_K_ROUTING } from "./experts.js";
import { LAYER_NORM, RMS_NORM } from "./norms.js";
import type { OpDef } from "./op.js";
import { EMBEDDING_ROWS, ROPE, ROTARY_TABLES, SINUSOIDAL_TABLE, TABLE_ROWS } from "./positions.js";
import { ADD, MATMUL, MUL, RESHAPE, SOFTMAX, TRANSPOSE } from "./tensor.js";

export type { OpDef, PyArgs, PyHelper, PyText, TsArgs } from "./op.js";
export { PREC } from "./op.js";
export { activation, gatedActivation, softcap } from "./activations.js";
export { causalAttention, causalMask, multiHeadCausalAttention, type AttentionExtras } from "./attention.js";
export { expertMix, loadBalancingLoss, topKRouting } from "./experts.js";
export { layerNorm, rmsNorm } from "./norms.js";
export { embeddingRows, rope, rotaryTables, sinusoidalTable, tableRows } from "./positions.js";
export { add, matmul, mul, reshape, softmax, transpose } from "./tensor.js";

const ALL: readonly OpDef[] = [
  ADD,
  MUL,
  MATMUL,
  SOFTMAX,
  RESHAPE,
  TRANSPOSE,
  ACTIVATION,
  GATED_ACTIVATION,
  SOFTCAP,
  LAYER_NORM,
  RMS_NORM,
  CAUSAL_MASK,
  CAUSAL_ATTENTION,
  MULTI_HEAD_CAUSAL_ATTENTION,
  ROTARY_TABLES,
  ROPE,
  SINUSOIDAL_TABLE,
  EMBEDDING_ROWS,
  TABLE_ROWS,
  TOP_K_ROUTING,
  LOAD_BALANCING_LOSS,
  EXPERT_MIX,
];

export const OPS: ReadonlyMap<string, OpDef> = new Map(ALL.map((o) => [o.name, o]));

/** Every name of runtime/nn an op's TypeScript spelling may use. */
export const OP_RUNTIME_NAMES: readonly string[] = [...new Set(ALL.flatMap((o) => o.tsNames))].sort();

export function opDef(name: string): OpDef {
  const def = OPS.get(name);
  if (!def) throw new Error(`no op named ${name} in the catalogue (compiler/tree/ops/index.ts)`);
  return def;
}
