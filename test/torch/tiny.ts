// The small spec the torch engine tests train: two pre-norm blocks of two heads at width 32, a 16-token
// context, batch 8, AdamW with clipping, no dropout (so different process counts and engines can agree).
import { join } from "node:path";
import { tempFiles } from "../helpers/project.js";

export const TINY = `name: tiny
model:
  block_size: 16
  n_embd: 32
  init: gpt
  layers:
    - kind: token_embedding
    - kind: position_embedding
    - kind: repeat
      times: 2
      body:
        - kind: residual
          body:
            - kind: layer_norm
            - kind: multi_head_attention
              heads: 2
        - kind: residual
          body:
            - kind: layer_norm
            - kind: feed_forward
              activation: gelu
    - kind: layer_norm
      name: ln_f
    - kind: linear
      out: vocab
training:
  optimizer: { type: adamw, lr: 3.0e-3, weight_decay: 0.1 }
  grad_clip: 1.0
  batch_size: 8
  max_iters: 20
  eval_interval: 10
  eval_iters: 2
`;

/** The tiny spec in a fresh temporary directory. */
export function tinySpec(): string {
  return join(tempFiles({ "tiny.yaml": TINY }), "tiny.yaml");
}

/** The largest absolute difference between two equally long lists. */
export function maxDiff(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length) throw new Error(`${a.length} values against ${b.length}`);
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));
}
