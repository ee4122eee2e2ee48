// Training a mixture of experts end to end (the TypeScript trainer, native where built): the
// load-balancing loss is added to what trains and recorded apart in metrics.jsonl, while the train loss,
// the loss estimates and exact evaluation are the cross-entropy alone; no tensor leaks through the
// layers' auxiliary losses, in training or in sampling.
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tf } from "../../runtime/nn/tf.js";
import { Prng } from "../../runtime/random.js";
import { openRun } from "../../runtime/run.js";
import { generate } from "../../runtime/sample.js";
import { train } from "../../runtime/train/trainer.js";
import { tempFiles, useSharedData } from "../helpers/project.js";

useSharedData();

// One layer of 4 experts with a load-balancing loss of weight 1: with the router near uniform at the
// start, the loss is about 1, so a train loss or estimate that included it would stand 1 above the
// cross-entropy (about ln 65 = 4.17 at the start).
const SPEC = `name: moe-metrics
model:
  block_size: 8
  n_embd: 16
  init: gpt
  layers:
    - kind: token_embedding
    - kind: position_embedding
    - kind: residual
      body:
        - kind: layer_norm
        - kind: feed_forward
          experts: 4
          top_k: 2
          aux_loss: 1
    - kind: layer_norm
    - kind: linear
      out: vocab
training:
  batch_size: 4
  eval_interval: 5
  eval_iters: 2
  optimizer:
    lr: 0.003
`;

interface Record {
  readonly type: string;
  readonly step: number;
  readonly loss?: number;
  readonly aux_loss?: number;
  readonly train_loss?: number;
  readonly val_loss?: number;
}

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("training a mixture of experts", () => {
  it("records the load-balancing loss apart: train loss, estimates and eval are the cross-entropy alone; nothing leaks", async () => {
    const dir = tempFiles({ "moe.yaml": SPEC });
    dirs.push(dir);
    const counts = new Map<number, number>();
    const out = join(dir, "run");
    const result = await train({
      spec: join(dir, "moe.yaml"),
      iters: 20,
      out,
      reporter: { log: () => {}, done: () => {}, step: (step) => counts.set(step, tf.memory().numTensors) },
    });
    expect(result.losses).toHaveLength(20);
    const records = readFileSync(join(out, "metrics.jsonl"), "utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as Record);
    const steps = records.filter((r) => r.type === "train");
    expect(steps.length).toBeGreaterThan(0);
    for (const r of steps) {
      expect(r.aux_loss, `step ${r.step}`).toBeGreaterThan(0.8);
      expect(r.aux_loss, `step ${r.step}`).toBeLessThan(1.5);
      expect(r.loss, `step ${r.step}`).toBeLessThan(4.6);
    }
    const evals = records.filter((r) => r.type === "eval");
    expect(evals.length).toBeGreaterThan(0);
    for (const r of evals) {
      expect(r.train_loss).toBeLessThan(4.6);
      expect(r.val_loss).toBeLessThan(4.6);
    }
    expect(counts.get(20)).toBe(counts.get(6));

    // Sampling runs the layers (which add their terms) without targets: the model takes them all the same.
    const run = await openRun(out);
    const before = tf.memory().numTensors;
    await generate(run.model, [1, 2, 3], { tokens: 12, temperature: 1, rng: new Prng(1) });
    await generate(run.model, [1, 2, 3], { tokens: 4, temperature: 1, rng: new Prng(1), cache: false });
    expect(tf.memory().numTensors).toBe(before);
    run.model.dispose();
  });
});
