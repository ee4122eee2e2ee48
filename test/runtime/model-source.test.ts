// `train` runs a spec's committed generated file only when it is what the emitter gives for the spec now.
// The first run emits and records that verdict (the emitted file's sha256, keyed by the emitter's
// fingerprint and the IR) in the private model cache; later runs compare generated/ with the record and
// do not load the emitter (ts-morph). A record that does not match the file is not trusted: the emitter
// runs again and the record is written anew. The model `sample` and `eval` run (emitted into the cache)
// is found the same way: by the record and the cached file's own hash. Each case is a process of its own (fixtures/resolve-model.ts),
// with a model cache of its own, because what matters is what a process loads.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { sha256 } from "../../util/hash.js";
import { PROJECT_ROOT } from "../helpers/project.js";

const work = mkdtempSync(join(tmpdir(), "babygpt-model-source-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Resolved {
  readonly from: string;
  readonly modelHash: string;
  readonly note: string | null;
  readonly emitterLoaded: boolean;
  readonly source: string;
}

function resolveIn(cache: string, spec: string, sets: readonly string[] = [], emitted = false): Resolved {
  const args = [...(emitted ? ["--emitted"] : []), spec, ...sets.flatMap((s) => ["--set", s])];
  const r = spawnSync(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "test/runtime/fixtures/resolve-model.ts"), ...args], {
    cwd: PROJECT_ROOT,
    env: { ...process.env, XDG_CACHE_HOME: cache },
    encoding: "utf8",
    timeout: 120_000,
  });
  if (r.status !== 0) throw new Error(`resolve-model exited ${r.status}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Resolved;
}

const verdicts = (cache: string): string[] => readdirSync(join(cache, "babygpt", "models")).filter((f) => f.endsWith(".emitted")).map((f) => join(cache, "babygpt", "models", f));
const generated = join(PROJECT_ROOT, "generated/12-baby-gpt.ts");

describe("the generated file's verdict", () => {
  it("is recorded by the first run; the next run trains generated/ without loading the emitter, also under a training --set", () => {
    const cache = mkdtempSync(join(work, "cache-"));
    const first = resolveIn(cache, "specs/12-baby-gpt.yaml");
    expect(first.emitterLoaded).toBe(true);
    expect(first.from).toBe(generated);
    const [record] = verdicts(cache);
    expect(readFileSync(record!, "utf8")).toBe(sha256(readFileSync(generated, "utf8")));
    const second = resolveIn(cache, "specs/12-baby-gpt.yaml");
    expect(second).toEqual({ ...first, emitterLoaded: false });
    expect(resolveIn(cache, "specs/12-baby-gpt.yaml", ["training.batch_size=4"])).toEqual({ ...first, emitterLoaded: false });
    // a --set of the architecture is another model: emitted, and said so
    const changed = resolveIn(cache, "specs/12-baby-gpt.yaml", ["model.n_embd=32"]);
    expect(changed.emitterLoaded).toBe(true);
    expect(changed.note).toMatch(/--set changes the model/);
  });

  it("that does not match the file, or is a link, is not trusted: the emitter runs and the record is written anew", () => {
    const cache = mkdtempSync(join(work, "cache-"));
    resolveIn(cache, "specs/12-baby-gpt.yaml");
    const [record] = verdicts(cache);
    const right = readFileSync(record!, "utf8");
    writeFileSync(record!, sha256("some other file"));
    const wrong = resolveIn(cache, "specs/12-baby-gpt.yaml");
    expect(wrong.emitterLoaded).toBe(true);
    expect(wrong.from).toBe(generated);
    expect(readFileSync(record!, "utf8")).toBe(right);
    rmSync(record!);
    const elsewhere = join(work, "elsewhere");
    writeFileSync(elsewhere, right);
    symlinkSync(elsewhere, record!);
    expect(resolveIn(cache, "specs/12-baby-gpt.yaml").emitterLoaded).toBe(true);
    expect(resolveIn(cache, "specs/12-baby-gpt.yaml").emitterLoaded).toBe(false);
  });

  it("is kept per emitted variant: a zoo spec's file (one more '..' to runtime/nn) gets a record of its own", () => {
    const cache = mkdtempSync(join(work, "cache-"));
    resolveIn(cache, "specs/12-baby-gpt.yaml");
    const zoo = resolveIn(cache, "specs/zoo/gpt2.yaml");
    expect(zoo.emitterLoaded).toBe(true);
    expect(zoo.from).toBe(join(PROJECT_ROOT, "generated/zoo/gpt2.ts"));
    expect(verdicts(cache)).toHaveLength(2);
    expect(resolveIn(cache, "specs/zoo/gpt2.yaml").emitterLoaded).toBe(false);
  });

  it("finds the emitted model of sample and eval in the cache by the record, and emits again when the cached file was changed", () => {
    const cache = mkdtempSync(join(work, "cache-"));
    const first = resolveIn(cache, "specs/11-gpt.yaml", [], true);
    expect(first.emitterLoaded).toBe(true);
    const second = resolveIn(cache, "specs/11-gpt.yaml", [], true);
    expect(second).toEqual({ ...first, emitterLoaded: false });
    const models = join(cache, "babygpt", "models");
    const [code] = readdirSync(models).filter((f) => f.endsWith(".mts"));
    writeFileSync(join(models, code!), `${readFileSync(join(models, code!), "utf8")}\nexport const extra = 1;\n`);
    const third = resolveIn(cache, "specs/11-gpt.yaml", [], true);
    expect(third).toEqual(first);
    expect(sha256(readFileSync(join(models, code!), "utf8"))).toBe(code!.replace(/\.mts$/, ""));
  });
});
