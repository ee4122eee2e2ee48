// The ablation of the modern step: specs/15-modern.yaml with one of its changes to the baby GPT undone at
// a time, at the same budget, so the report can say which of them make its difference. Each is --set
// overrides of the spec (its layers by position: the repeat at model.layers.1, whose block holds the
// attention residual body.0 and the MLP residual body.1), or a spec of its own where a layer is added.
// One variant is a control, the modern model under another seed, which measures the run-to-run noise.

export interface Ablation {
  /** The step's name in ladder.json and the report: modern-<name>. */
  readonly name: string;
  /** What it undoes, for the report. */
  readonly change: string;
  readonly spec: string;
  readonly sets: readonly string[];
  /** The control: the model unchanged, another seed; its difference is the noise between two runs. */
  readonly control?: true;
}

export const ABLATED = "modern";
const SPEC = "specs/15-modern.yaml";
const BLOCK = "model.layers.1.body.0";
const NORM1 = `${BLOCK}.body.0.body.0`;
const ATTN = `${BLOCK}.body.0.body.1`;
const NORM2 = `${BLOCK}.body.1.body.0`;
const MLP = `${BLOCK}.body.1.body.1`;
const NORM_F = "model.layers.2";
const HEAD = "model.layers.3";

export const ABLATIONS: readonly Ablation[] = [
  { name: "learned-positions", change: "a learned position table instead of RoPE", spec: "specs/ablations/modern-learned-positions.yaml", sets: [] },
  { name: "layer-norm", change: "LayerNorm instead of RMSNorm", spec: SPEC, sets: [`${NORM1}.kind=layer_norm`, `${NORM2}.kind=layer_norm`, `${NORM_F}.kind=layer_norm`] },
  // 2 × 576 × C = 3 × 384 × C: the same parameters as the SwiGLU layer.
  { name: "gelu-mlp", change: "a GELU MLP (hidden 576, the same parameters) instead of SwiGLU", spec: SPEC, sets: [`${MLP}.activation=gelu`, `${MLP}.gated=false`, `${MLP}.hidden=576`] },
  { name: "full-kv", change: "4 key/value heads (plain multi-head attention) instead of 2", spec: SPEC, sets: [`${ATTN}.kv_heads=4`] },
  { name: "no-qk-norm", change: "no normalization of queries and keys", spec: SPEC, sets: [`${ATTN}.qk_norm=false`] },
  { name: "biases", change: "biases on every projection and the head", spec: SPEC, sets: [`${ATTN}.bias=true`, `${MLP}.bias=true`, `${HEAD}.bias=true`] },
  { name: "untied", change: "an output layer of its own instead of the token table", spec: SPEC, sets: ["model.tie_embeddings=false"] },
  // Without it one could not tell a change's effect from the luck of one initialization and batch order.
  { name: "other-seed", change: "nothing: the same model under another seed", spec: SPEC, sets: ["training.seed=1338"], control: true },
];
