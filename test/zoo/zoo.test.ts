// `babygpt zoo`'s runner: an architecture trained now joins the entries an earlier results file holds for
// the same spec files at the same budget (so a new architecture trains alone), and an entry whose spec
// changed since, or that trained at another budget, is dropped rather than reported beside the others.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { listZoo, projectAt } from "../../compiler/compile.js";
import { loadSpec } from "../../compiler/spec/load.js";
import { ZOO_FORMAT, type ZooEntry, type ZooResults } from "../../runtime/zoo/results.js";
import { runZoo, specSha256, zooBudget } from "../../runtime/zoo/zoo.js";
import { PROJECT_ROOT, tempFiles, useSharedData } from "../helpers/project.js";

useSharedData();
const ITERS = 2;

const kept = (spec: string, sha: string): ZooEntry => ({
  name: loadSpec(spec, { cwd: PROJECT_ROOT }).spec.name,
  spec,
  description: "",
  distinctive: [],
  baseline: "specs/zoo/gpt2.yaml",
  params: 1,
  flopsPerToken: 1,
  iters: ITERS,
  tokensPerSec: 1,
  msPerIter: 1,
  wallSeconds: 1,
  trainLoss: 3,
  valLoss: 3,
  curve: [],
  sample: "",
  load: { start: 1, end: 1 },
  date: "2026-01-01",
  machine: "an earlier machine",
  specSha256: sha,
});

describe("the zoo's runner", () => {
  const dir = tempFiles({});
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("trains what it is asked to and keeps an earlier file's entries only for unchanged specs at the same budget", { timeout: 120_000 }, async () => {
    const specs = listZoo(projectAt(PROJECT_ROOT));
    const [trained, stale, ...others] = specs.filter((s) => s !== "specs/zoo/gpt2.yaml");
    const previous: ZooResults = {
      format: ZOO_FORMAT,
      command: "npx babygpt zoo --iters 2",
      date: "2026-01-01",
      machine: "an earlier machine",
      cores: 2,
      backend: "native",
      budget: zooBudget(ITERS),
      entries: [...others.map((s) => kept(s, specSha256(s))), kept(stale!, "0".repeat(64)), kept(trained!, specSha256(trained!))],
    };
    const { results, complete } = await runZoo({ only: ["gpt2"], iters: ITERS, dir: join(dir, "runs"), command: "test", previous });
    const by = new Map(results.entries.map((e) => [e.spec, e]));
    expect(by.get("specs/zoo/gpt2.yaml")).toMatchObject({ iters: ITERS, machine: results.machine, date: results.date });
    expect(Number.isFinite(by.get("specs/zoo/gpt2.yaml")!.valLoss)).toBe(true);
    for (const s of [...others, trained!]) expect(by.get(s)?.machine, s).toBe("an earlier machine");
    expect(by.has(stale!)).toBe(false); // its spec's files changed since (their sha256 differs)
    expect(complete).toBe(false);

    // at another budget nothing of the earlier file is kept
    const other = await runZoo({ only: ["gpt2"], iters: ITERS, dir: join(dir, "runs"), command: "test", previous: { ...previous, budget: zooBudget(ITERS + 1) } });
    expect(other.results.entries.map((e) => e.spec)).toEqual(["specs/zoo/gpt2.yaml"]);
  });
});
