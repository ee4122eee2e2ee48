// `babygpt ladder --engine torch`: the ladder's specs train under the torch engine at the ladder's budget,
// and the report puts the measured PyTorch losses beside babygpt's (no figure typed into the template).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { QUICK_ITERS, runLadder } from "../../runtime/ladder/ladder.js";
import { writeLadderReport } from "../../runtime/ladder/report.js";
import { tempFiles, useSharedData } from "../helpers/project.js";
import { torchUnavailable } from "../helpers/torch.js";

useSharedData();

describe.skipIf(torchUnavailable() !== undefined)("ladder --engine torch", () => {
  it("trains a step under torch and the report shows both engines side by side", async () => {
    const root = tempFiles({});
    const tfjs = await runLadder({ quick: true, only: ["bigram"], dir: join(root, "tfjs"), command: "npx babygpt ladder --quick" });
    const torch = await runLadder({ quick: true, only: ["bigram"], engine: "torch", torch: { device: "cpu" }, dir: join(root, "torch"), command: "npx babygpt ladder --quick --engine torch" });
    const step = torch.steps["bigram"]!;
    expect(step.losses).toHaveLength(QUICK_ITERS);
    expect(step.backend).toMatch(/^torch /);
    expect(torch.run).toEqual({ engine: "torch", command: "npx babygpt ladder --quick --engine torch" });
    // Same spec, seed, initial weights and batches: the engines agree on a 20-step bigram.
    expect(Math.abs(step.valLoss - tfjs.steps["bigram"]!.valLoss)).toBeLessThan(1e-3);

    const file = await writeLadderReport(tfjs, { command: "npx babygpt ladder --quick", torch, outDir: join(root, "docs") });
    const md = readFileSync(file, "utf8");
    expect(md).toContain(`| **${step.valLoss.toFixed(4)}** |`.replace(step.valLoss.toFixed(4), tfjs.steps["bigram"]!.valLoss.toFixed(4)));
    expect(md).toContain(`PyTorch (the torch engine), same spec, budget and seed: ${step.valLoss.toFixed(4)}`);
    expect(md).toMatch(new RegExp(`\\| bigram \\| 20 \\| ${tfjs.steps["bigram"]!.valLoss.toFixed(4)} \\| ${step.valLoss.toFixed(4)} \\|`));
    expect(md).toContain("The same ladder trained by the torch engine: `npx babygpt ladder --quick --engine torch`");
    expect(md).not.toContain("2.67");
  });
});
