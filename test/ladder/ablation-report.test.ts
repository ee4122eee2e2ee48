// The report's ablation table: each variant beside the modern step, and the control's difference stated
// as the run-to-run noise the other differences are read against.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ABLATIONS } from "../../runtime/ladder/ablations.js";
import { runLadder, type StepResult } from "../../runtime/ladder/ladder.js";
import { writeLadderReport } from "../../runtime/ladder/report.js";
import { tempFiles, useSharedData } from "../helpers/project.js";

useSharedData();

describe("ladder report: the modern step's ablation", () => {
  it("lists every variant against the modern step and states the control's difference as the noise", async () => {
    const root = tempFiles({});
    const trained = await runLadder({ quick: true, only: ["modern"], dir: join(root, "ladder") });
    const modern = trained.steps["modern"]!;
    // The variants' training is the ladder's own (ablations.test.ts holds what each changes); here only
    // their losses matter, so each is the modern step's result under its name, its loss moved apart.
    const variants: Record<string, StepResult> = {};
    ABLATIONS.forEach((a, i) => {
      const name = `modern-${a.name}`;
      variants[name] = { ...modern, name, valLoss: modern.valLoss + (a.control ? 0.0125 : 0.01 * (i + 1)), ablation: { of: "modern", change: a.change, ...(a.control ? { control: true as const } : {}) } };
    });
    const state = { ...trained, steps: { ...trained.steps, ...variants } };
    const md = readFileSync(await writeLadderReport(state, { command: "npx babygpt ladder --quick --ablate", outDir: join(root, "docs") }), "utf8");

    const table = md.slice(md.indexOf("## Which of the modern changes did it"));
    for (const a of ABLATIONS) expect(table).toContain(`| modern-${a.name} | ${a.change} |`);
    expect(table).toContain("| modern-other-seed | nothing: the same model under another seed |");
    expect(table).toContain("two runs of the same\nmodel differ by 0.0125 in exact val loss");
  });
});
