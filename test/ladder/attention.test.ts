// The ladder's report shows each attention step's maps for the same prompt: one grid per step, a panel
// per head, and none for a step without attention.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ATTENTION_PROMPT, runLadder } from "../../runtime/ladder/ladder.js";
import { writeLadderReport } from "../../runtime/ladder/report.js";
import { tempFiles, useSharedData } from "../helpers/project.js";

useSharedData();

describe("ladder report: attention maps", () => {
  it("draws every head of each attention step for the prompt, and nothing for the steps before attention", async () => {
    const root = tempFiles({});
    const state = await runLadder({ quick: true, only: ["position", "single-head", "multi-head"], dir: join(root, "ladder") });
    expect(state.steps["position"]!.attention).toBeUndefined();
    expect(state.steps["single-head"]!.attention!.tokens).toEqual(Array.from(ATTENTION_PROMPT));
    expect(state.steps["multi-head"]!.attention!.maps.map((m) => `${m.layer}:${m.head}`)).toEqual(["attn:0", "attn:1", "attn:2", "attn:3"]);

    const md = readFileSync(await writeLadderReport(state, { command: "npx babygpt ladder --quick", outDir: join(root, "docs") }), "utf8");
    for (const name of ["single-head", "multi-head"]) {
      expect(md).toContain(`![attention maps of ${name} for the prompt "ROMEO:"](ladder/${name}-attention.svg)`);
    }
    expect(md).not.toContain("position-attention.svg");
    expect(existsSync(join(root, "docs/ladder/position-attention.svg"))).toBe(false);
    const grid = readFileSync(join(root, "docs/ladder/multi-head-attention.svg"), "utf8");
    for (let h = 0; h < 4; h++) expect(grid).toContain(`<title>attn · head ${h}</title>`);
  });
});
