// The torch engine trains a mixture of experts as the tfjs trainer does from the same spec and seed (same
// initial weights and batches), to float rounding, adding the load-balancing loss to what trains and
// recording it apart in metrics.jsonl; and under DDP on 2 gloo processes, where an expert that no token
// of a rank's batch chose must still get a gradient (DDP stops otherwise): with 8 experts, 2 per token and
// one sequence of 8 tokens per rank, an expert goes unchosen in a rank's batch about 80% of the steps.
// Each process takes the load-balancing loss over its own batch (as the Switch Transformer does per
// device), so 2 processes train close to 1, not to float rounding.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { trainTorch } from "../../runtime/torch/engine.js";
import { readMetrics } from "../../runtime/train/metrics.js";
import { train } from "../../runtime/train/trainer.js";
import { tempFiles, useSharedData } from "../helpers/project.js";
import { torchUnavailable } from "../helpers/torch.js";
import { maxDiff } from "./tiny.js";

useSharedData();

// Mixtral's block at a tiny size: 8 SwiGLU experts, each token running 2, the load-balancing loss at 0.1.
const SPEC = `name: tiny-moe
model:
  block_size: 8
  n_embd: 16
  layers:
    - kind: token_embedding
    - kind: residual
      body:
        - kind: rms_norm
        - kind: multi_head_attention
          heads: 2
          rope: true
          bias: false
    - kind: residual
      body:
        - kind: rms_norm
        - kind: feed_forward
          hidden: 24
          activation: silu
          gated: true
          bias: false
          experts: 8
          top_k: 2
          aux_loss: 0.1
    - kind: rms_norm
    - kind: linear
      out: vocab
      bias: false
training:
  optimizer: { type: adamw, lr: 3.0e-3 }
  batch_size: 2
  max_iters: 10
  eval_interval: 5
  eval_iters: 2
`;

describe.skipIf(torchUnavailable() !== undefined)("the torch engine and a mixture of experts", () => {
  it("trains it as the tfjs trainer does, the load-balancing loss recorded apart; and on 2 gloo processes", async () => {
    const dir = tempFiles({ "moe.yaml": SPEC });
    const spec = join(dir, "moe.yaml");
    const one = await trainTorch({ spec, out: join(dir, "one"), nproc: 1, device: "cpu" });
    const ts = await train({ spec, out: join(dir, "tfjs") });
    expect(one.losses).toHaveLength(10);
    expect(maxDiff(one.losses, ts.losses)).toBeLessThanOrEqual(1e-4);
    const aux = (d: string): number[] => readMetrics(join(dir, d)).flatMap((r) => (r.type === "train" ? [r.aux_loss!] : []));
    expect(aux("one")).toHaveLength(10);
    // Near uniform routing at the start: the loss is about its weight, 0.1 (the cross-entropy about 4.2).
    expect(aux("one")[0]).toBeGreaterThan(0.08);
    expect(aux("one")[0]).toBeLessThan(0.15);
    expect(one.losses[0]).toBeGreaterThan(3.5);
    expect(maxDiff(aux("one"), aux("tfjs"))).toBeLessThanOrEqual(1e-5);

    const two = await trainTorch({ spec, out: join(dir, "two"), nproc: 2, device: "cpu" });
    expect(two.worldSize).toBe(2);
    expect(two.losses).toHaveLength(10);
    expect(maxDiff(two.losses, one.losses)).toBeLessThanOrEqual(0.02);
    expect(aux("two")).toHaveLength(10);
  });
});
