// metrics.jsonl as readers see it: a resumed run's lines replace the ones its crash left after the
// checkpoint, and a line cut short is skipped.
import { describe, expect, it } from "vitest";
import { readMetrics } from "../../runtime/train/metrics.js";
import { tempFiles } from "../helpers/project.js";

const train = (step: number, loss: number): string => JSON.stringify({ type: "train", step, loss });
const evalAt = (step: number, val: number): string => JSON.stringify({ type: "eval", step, train_loss: val, val_loss: val });

describe("readMetrics", () => {
  it.each([
    { name: "a run without a crash", lines: [evalAt(0, 4), train(10, 3), train(20, 2), evalAt(20, 2)], want: [["eval", 0, 4], ["train", 10, 3], ["train", 20, 2], ["eval", 20, 2]] },
    {
      // Checkpoint at step 20, crash after step 40 was logged, resume from 20.
      name: "a crash after the checkpoint, then resume",
      lines: [evalAt(0, 4), train(10, 3), train(20, 2.5), evalAt(20, 2.5), train(30, 2.4), train(40, 2.3), train(30, 2.41), train(40, 2.31), evalAt(40, 2.2)],
      want: [["eval", 0, 4], ["train", 10, 3], ["train", 20, 2.5], ["eval", 20, 2.5], ["train", 30, 2.41], ["train", 40, 2.31], ["eval", 40, 2.2]],
    },
    { name: "a line cut short by a crash", lines: [train(10, 3), '{"type":"train","st', train(20, 2)], want: [["train", 10, 3], ["train", 20, 2]] },
  ])("$name", ({ lines, want }) => {
    const dir = tempFiles({ "metrics.jsonl": `${lines.join("\n")}\n` });
    const got = readMetrics(dir).map((r) => [r.type, r.step, r.type === "eval" ? r.val_loss : r.loss]);
    expect(got).toEqual(want);
  });

  it("says so when a run has no metrics", () => {
    expect(() => readMetrics(tempFiles({}))).toThrow(/has no metrics\.jsonl/);
  });
});
