// `kill -9` at seeded random moments of a training that checkpoints every step: whatever moment the kill
// lands on (loading, recovering, training, halfway through writing or promoting a checkpoint), the run
// directory always holds a checkpoint that loads, --resume always continues from it, and a final resumed
// run finishes.
import { cpSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadCheckpoint } from "../../runtime/checkpoint/checkpoint.js";
import { Prng } from "../../runtime/random.js";
import { tempFiles } from "../helpers/project.js";
import { runCli, startCli } from "./cli.js";

const KILLS = 20;
const SETS = ["training.checkpoint_interval=1", "training.eval_interval=100000", "training.eval_iters=2", "training.batch_size=8"].flatMap((s) => ["--set", s]);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("kill -9 during training", () => {
  it(`never leaves a run without a loadable checkpoint (${KILLS} kills, seeded)`, async () => {
    const dir = join(tempFiles({}), "run");
    const scratch = tempFiles({});
    const first = await runCli(["train", "specs/01-bigram.yaml", ...SETS, "--iters", "3", "--out", dir, "--quiet"]);
    expect(first.code, first.stderr).toBe(0);
    let step = loadCheckpoint(dir).meta.step;
    expect(step).toBe(3);
    const names = [...loadCheckpoint(dir).model.keys()];

    const rng = new Prng(20_251_125);
    const seen = { duringStartup: 0, duringTraining: 0, halfWrittenCheckpoint: 0, progressed: 0 };
    for (let i = 0; i < KILLS; i++) {
      const child = startCli(["train", "--resume", dir, "--iters", "1000000"]);
      // Most kills land while training (a checkpoint every step, so often inside one); every fourth lands
      // anywhere from process start, including while the checkpoint is loaded and a broken write recovered.
      if (i % 4 === 3) {
        await sleep(rng.nextFloat() * 2500);
        seen.duringStartup += 1;
      } else {
        const started = await child.waitForStderr("run directory:");
        expect(started, child.stderr()).toBe(true);
        await sleep(rng.nextFloat() * 400);
        seen.duringTraining += 1;
      }
      child.child.kill("SIGKILL");
      const result = await child.done;
      expect(result.signal, result.stderr).toBe("SIGKILL");

      if (existsSync(join(dir, ".next")) || readdirSync(dir).some((f) => f.endsWith(".tmp"))) seen.halfWrittenCheckpoint += 1;
      // Load a copy, so the run itself is left as the kill left it for the next --resume to recover.
      const copy = join(scratch, String(i));
      cpSync(dir, copy, { recursive: true });
      const checkpoint = loadCheckpoint(copy); // finishes or discards what the kill interrupted
      expect(existsSync(join(copy, ".next"))).toBe(false);
      expect([...checkpoint.model.keys()]).toEqual(names);
      expect(checkpoint.meta.step).toBeGreaterThanOrEqual(step);
      if (checkpoint.meta.step > step) seen.progressed += 1;
      step = checkpoint.meta.step;
    }
    console.log(`kill -9: ${JSON.stringify(seen)}, last checkpoint at step ${step}`);
    // the resumed runs did train between the kills, so the kills hit a working run, not a starting one
    expect(seen.progressed).toBeGreaterThan(0);
    expect(step).toBeGreaterThan(3);

    const last = await runCli(["train", "--resume", dir, "--iters", String(step + 10), "--quiet"]);
    expect(last.code, last.stderr).toBe(0);
    expect(last.stderr).toContain(`resuming ${dir} at step ${step}`);
    expect(last.stdout).toContain(`finished at step ${step + 10}`);
    expect(loadCheckpoint(dir).meta.step).toBe(step + 10);
  });
});
