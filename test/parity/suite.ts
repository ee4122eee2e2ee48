// Numeric parity with PyTorch: every spec in specs/ and specs/zoo/ is built twice, as babygpt's TypeScript model on a
// tfjs CPU backend and as the compiler's PyTorch module (generated/torch/<spec>.py, the one the torch
// engine trains) loaded with the same weights, and the two must agree on the logits and loss, on every
// parameter's gradient, and on the losses of a few SGD, Adam and AdamW steps (PyTorch's own torch.optim
// classes on the Python side). Both run in eval mode, so dropout is off: random masks cannot match
// across frameworks. A mixture of experts is compared on its routing first: the experts each token chose
// in the first forward, here and in PyTorch; a token within NEAR_TIE of a tie is left out, and the values
// its choice feeds are then not held (nor a run's step losses where one of its forwards has such a token).
//
// The reference runs under /usr/bin/python3 with Debian's python3-torch (bench/reference/setup.sh
// installs it). Where that interpreter cannot import torch, the whole suite is skipped and says why,
// unless BABYGPT_REQUIRE_TORCH=1 (CI), where that is a failure.
//
// The suite runs once per backend (test/parity/parity-<backend>.test.ts, each its own process), and
// BABYGPT_PARITY_VERBOSE=1 prints the worst error of each kind per spec. The check itself (both sides,
// the comparison, the tolerances) is runtime/parity/, which `babygpt parity SPEC` runs too: a spec the
// command passes is one these tests pass.
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectAt, torchPathFor } from "../../compiler/compile.js";
import { loadSpec } from "../../compiler/spec/load.js";
import type { Spec } from "../../compiler/spec/types.generated.js";
import { selectBackend, type BackendChoice } from "../../runtime/backend/select.js";
import { resolveModel } from "../../runtime/model-source.js";
import { checkParity, PARITY_OPTIMIZERS, PARITY_STEPS } from "../../runtime/parity/check.js";
import { worstByKind } from "../../runtime/parity/compare.js";
import { PARITY_TOLERANCES } from "../../runtime/parity/tolerances.js";
import { PROJECT_ROOT } from "../../runtime/paths.js";
import { PYTHON, torchUnavailable, torchVersion } from "../helpers/torch.js";

const SPECS_DIR = join(PROJECT_ROOT, "specs");
const ZOO_DIR = join(PROJECT_ROOT, "specs/zoo");

/**
 * Sequences per batch, and the most positions per sequence: small on the pure-JS backends, which are
 * slow (CI has two cores); specs with a longer context run on their first 32 positions there (which also
 * checks that a shorter sequence takes the first rows of the position table). The native backend runs
 * every spec at its full context, up to 256, where its attention kernel works by blocks of rows (from
 * T = 64) as it does in training.
 */
const BATCH = 2;
const maxT = (backend: BackendChoice): number => (backend === "native" ? 256 : 32);
/**
 * Specs too big for the pure-JS backends at their own size: the same architecture (depth, heads, layer
 * kinds, names) at a reduced width (and there a reduced context), through the spec's --set overrides.
 * 11-gpt is 10.8M parameters with a 256-token context; at n_embd 48 (6 heads of 8) it keeps its 6 blocks
 * of 6 heads and checks the same code paths in well under a second. The ladder's width-128 specs run at
 * their own size on native and at width 48 (4 heads of 12) on the pure-JS backends, where width 128 took
 * a minute each on the cpu backend (five times wasm's time) and checks no other code path.
 */
const WIDTH_128 = new Set(["12-baby-gpt.yaml", "13-gpt2-bpe.yaml", "14-sinusoidal.yaml", "15-modern.yaml"]);
function reducedSets(file: string, backend: BackendChoice): readonly string[] {
  if (file === "11-gpt.yaml") return ["model.n_embd=48", `model.block_size=${Math.min(256, maxT(backend))}`];
  if (backend !== "native" && WIDTH_128.has(file)) return ["model.n_embd=48"];
  return [];
}

/** Vocabulary sizes: tinyshakespeare's 65 characters; a compacted GPT-2 vocabulary is larger. */
const vocabFor = (tokenizer: Spec["data"]["tokenizer"]): number => (tokenizer === "gpt2" ? 300 : 65);

const WHY_SKIPPED = torchUnavailable();
const TORCH = torchVersion();

/**
 * Tiny specs (a block or two at width 16) for the variants of a layer kind that no spec of the ladder
 * uses: each adds a second or so to the suite.
 */
const VARIANTS_DIR = join(PROJECT_ROOT, "test/parity/specs");

const yamlIn = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()
    .map((f) => join(dir, f));
/**
 * The zoo (published architectures at about 200K parameters, T = 64) runs on the native backend alone:
 * each takes a few seconds there and half a minute on the pure-JS backends, where the variants above
 * already check every layer kind and key the zoo combines.
 */
const specFilesFor = (backend: BackendChoice): string[] => [...yamlIn(SPECS_DIR), ...(backend === "native" ? yamlIn(ZOO_DIR) : []), ...yamlIn(VARIANTS_DIR)];

/**
 * Declares the parity tests for one backend. `skip` (a reason) skips them, as when the native addon was
 * not built on this machine; `only` limits them to some specs (every spec when absent).
 */
export function parityTests(backend: BackendChoice, skip?: string, only?: readonly string[]): void {
  const specFiles = specFilesFor(backend);
  const fileOf = (path: string): string => path.slice(path.lastIndexOf("/") + 1);
  const chosen = only ? specFiles.filter((p) => only.includes(fileOf(p))) : specFiles;
  if (only && chosen.length !== only.length) throw new Error(`parity: no spec ${only.filter((f) => !specFiles.some((p) => fileOf(p) === f)).join(", ")} in specs/`);
  describe.skipIf(!TORCH || skip !== undefined)(`numeric parity with PyTorch on ${backend} ${TORCH ? `(torch ${TORCH})` : `(skipped: ${WHY_SKIPPED})`}${skip ? ` (skipped: ${skip})` : ""}`, () => {
    let work: string;

    beforeAll(async () => {
      await selectBackend(backend);
      work = mkdtempSync(join(tmpdir(), "babygpt-parity-"));
    });

    afterAll(() => {
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it("finds specs to check", () => {
      expect(chosen.length).toBeGreaterThan(0);
    });

    for (const specPath of chosen) {
      const file = specPath.slice(specPath.lastIndexOf("/") + 1);
      const variant = !specPath.startsWith(SPECS_DIR + "/");
      const sets = reducedSets(file, backend);
      const shown = variant ? `variant ${file}` : specPath.slice(SPECS_DIR.length + 1);
      const title = `${shown}${sets.length > 0 ? ` (reduced: ${sets.join(" ")})` : ""}`;

      it(title, { timeout: 120_000 }, async () => {
        const loaded = loadSpec(specPath, { sets, cwd: PROJECT_ROOT });
        const { spec } = loaded;
        const { module } = await resolveModel(specPath, loaded, { compile: false, sets });
        // The committed PyTorch module, or one emitted for the reduced architecture or a variant.
        const emitted = sets.length > 0 || variant;
        const result = await checkParity({
          loaded,
          module,
          vocab: vocabFor(spec.data.tokenizer),
          batch: BATCH,
          T: Math.min(spec.model.block_size, maxT(backend)),
          steps: PARITY_STEPS,
          optimizers: PARITY_OPTIMIZERS,
          tolerances: PARITY_TOLERANCES,
          python: PYTHON,
          // One thread for torch (and OpenMP and OpenBLAS): this process needs the other core.
          threads: 1,
          ...(emitted ? {} : { torchModule: torchPathFor(projectAt(PROJECT_ROOT), specPath) }),
          workDir: join(work, shown.replace(/[^A-Za-z0-9.-]+/g, "_")),
        });
        if (result.skipped.length > 0) console.warn(`${title}: not compared: ${result.skipped.join("; ")}`);
        if (process.env["BABYGPT_PARITY_VERBOSE"]) {
          const margin = result.routing ? `; ${result.routing.count} routings, closest choice ${result.routing.closest.toExponential(1)} from a tie` : "";
          console.log(`${title}: worst relative errors ${worstByKind(result.rows).map((w) => `${w.kind} ${w.worst.error.toExponential(1)}`).join(", ")}${margin}`);
        }
        expect(result.problems, `${title} differs from PyTorch`).toEqual([]);
        // The steps must actually have moved the loss, or the comparison above proves little.
        for (const [type, losses] of result.ours.stepLosses) expect(losses[PARITY_STEPS]!, `${type} did not change the loss`).not.toBeCloseTo(losses[0]!, 4);
      });
    }
  });
}
