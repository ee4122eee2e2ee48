// Numeric parity with PyTorch: every spec in specs/ is built twice, as babygpt's TypeScript model on a
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
// BABYGPT_PARITY_VERBOSE=1 prints the worst error of each kind per spec.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { torchPathFor, projectAt } from "../../compiler/compile.js";
import { emitPython } from "../../compiler/emit.js";
import { lowerSpec } from "../../compiler/ir/lower.js";
import { loadSpec } from "../../compiler/spec/load.js";
import type { OptimizerSpec, Spec } from "../../compiler/spec/types.generated.js";
import { selectBackend, type BackendChoice } from "../../runtime/backend/select.js";
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from "../../runtime/checkpoint/safetensors.js";
import { loadParameters, tensorsOf } from "../../runtime/checkpoint/model-state.js";
import { resolveModel } from "../../runtime/model-source.js";
import type { LanguageModel } from "../../runtime/nn/language-model.js";
import { tf } from "../../runtime/nn/tf.js";
import { PROJECT_ROOT } from "../../runtime/paths.js";
import { choiceMargins, recordRouting, type RoutingRecord } from "../../runtime/ops/routing.js";
import { Prng } from "../../runtime/random.js";
import { Optimizer } from "../../runtime/train/optimizer.js";
import { trainStep } from "../../runtime/train/step.js";
import { PYTHON, torchUnavailable, torchVersion } from "../helpers/torch.js";

const PARITY_PY = join(PROJECT_ROOT, "bench/reference/parity.py");
const SPECS_DIR = join(PROJECT_ROOT, "specs");

/**
 * Tolerances, as relative errors (see relativeError). Measured against PyTorch 1.13 with OpenBLAS, the
 * worst errors over all specs are about 6e-7 for logits and loss, 1e-4 for a gradient (a deep stack
 * without residuals, where terms cancel) and 4e-6 for the losses after optimizer steps (Adam amplifies
 * rounding in near-zero gradients). Logits are held to 1e-5 and step losses to 1e-4, tighter than 1e-4
 * and 1e-3, which would let real differences through: GELU's tanh approximation moves the logits by 2e-5,
 * and AdamW sparing biases and LayerNorm gains from weight decay moves the losses by 3e-4 to 7e-4 within
 * five steps.
 */
const TOL = { logits: 1e-5, loss: 1e-5, grad: 1e-3, stepLoss: 1e-4 };
/**
 * A mixture of experts chooses by comparing router scores: where a token's k-th and (k+1)-th scores are
 * closer than this, rounding can choose differently in the two frameworks, and every value after it
 * differs by a whole expert's output. Such tokens are left out of the routing comparison, and the
 * values that follow them are not held (issue 24: "compares routing first and holds values where no
 * token sits within 1e-4 of a tie").
 */
const NEAR_TIE = 1e-4;
/** Gradients no larger than this are compared absolutely (see relativeError): 1e-3 of it is 1e-9. */
const GRAD_FLOOR = 1e-6;
/**
 * Sequences per batch, and the most positions per sequence: small on the pure-JS backends, which are
 * slow (CI has two cores); specs with a longer context run on their first 32 positions there (which also
 * checks that a shorter sequence takes the first rows of the position table). The native backend runs
 * every spec at its full context, up to 256, where its attention kernel works by blocks of rows (from
 * T = 64) as it does in training.
 */
const BATCH = 2;
const maxT = (backend: BackendChoice): number => (backend === "native" ? 256 : 32);
/** Optimizer steps per run. */
const STEPS = 5;
/** Hyperparameters of the three runs: learning rates large enough that five steps visibly move the loss. */
const OPTIMIZERS: readonly OptimizerSpec[] = [
  { type: "sgd", lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0 },
  { type: "adam", lr: 3e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0 },
  { type: "adamw", lr: 3e-3, betas: [0.9, 0.99], eps: 1e-8, weight_decay: 0.1 },
];

/**
 * Specs too big for the pure-JS backends at their own size: the same architecture (depth, heads, layer
 * kinds, names) at a reduced width (and there a reduced context), through the spec's --set overrides.
 * 11-gpt is 10.8M parameters with a 256-token context; at n_embd 48 (6 heads of 8) it keeps its 6 blocks
 * of 6 heads and checks the same code paths in well under a second.
 */
function reducedSets(file: string, backend: BackendChoice): readonly string[] {
  if (file !== "11-gpt.yaml") return [];
  return ["model.n_embd=48", `model.block_size=${Math.min(256, maxT(backend))}`];
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
const specFiles = [...yamlIn(SPECS_DIR), ...yamlIn(VARIANTS_DIR)];

/**
 * Declares the parity tests for one backend. `skip` (a reason) skips them, as when the native addon was
 * not built on this machine; `only` limits them to some specs (every spec when absent).
 */
export function parityTests(backend: BackendChoice, skip?: string, only?: readonly string[]): void {
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
      const title = `${variant ? "variant " : ""}${file}${sets.length > 0 ? ` (reduced: ${sets.join(" ")})` : ""}`;

      it(title, { timeout: 120_000 }, async () => {
        const loaded = loadSpec(specPath, { sets, cwd: PROJECT_ROOT });
        const { spec } = loaded;
        const { module } = await resolveModel(specPath, loaded, { compile: false, sets });
        const vocab = vocabFor(spec.data.tokenizer);
        const T = Math.min(spec.model.block_size, maxT(backend));
        const dir = join(work, file.replace(/\.yaml$/, ""));
        mkdirSync(dir, { recursive: true });

        const model = module.createModel({ vocabSize: vocab, seed: 1234 });
        try {
          model.eval(); // dropout off on both sides
          perturbVectors(model, 99);
          const initial = await tensorsOf(model.namedParameters());
          const rng = new Prng(7);
          const ids = (): Int32Array => Int32Array.from({ length: BATCH * T }, () => rng.nextInt(vocab));
          const batch = new Map<string, NamedTensor>([
            ["x", { dtype: "I32", shape: [BATCH, T], data: ids() }],
            ["y", { dtype: "I32", shape: [BATCH, T], data: ids() }],
          ]);
          // The committed PyTorch module, or one emitted for the reduced architecture or a variant.
          const emitted = sets.length > 0 || variant;
          const torchModule = emitted ? join(dir, "model.py") : torchPathFor(projectAt(PROJECT_ROOT), specPath);
          if (emitted) writeFileSync(torchModule, emitPython(lowerSpec(loaded)));
          const files = { spec: join(dir, "spec.json"), model: torchModule, weights: join(dir, "model.safetensors"), batch: join(dir, "batch.safetensors"), out: join(dir, "torch.safetensors") };
          writeFileSync(files.spec, JSON.stringify(spec));
          writeFileSync(files.weights, Buffer.concat(encodeSafetensors(initial)));
          writeFileSync(files.batch, Buffer.concat(encodeSafetensors(batch)));

          // PyTorch works on its side while this process computes babygpt's.
          const reference = runParity(files, spec.training.grad_clip);
          reference.catch(() => undefined); // awaited below; this only keeps a failure here from going unhandled
          const ours = await computeOurs(model, initial, batch, spec.training.grad_clip);
          const theirs = decodeSafetensors(readFileSync(await reference), files.out).tensors;

          const problems: string[] = [];
          const worst = new Map<string, number>(); // largest error per kind of check, for BABYGPT_PARITY_VERBOSE
          const check = (what: string, actual: ArrayLike<number>, expected: NamedTensor | undefined, tol: number): void => {
            if (!expected) return void problems.push(`${what}: missing from PyTorch's output`);
            if (expected.data.length !== actual.length) return void problems.push(`${what}: ${actual.length} values here, ${expected.data.length} in PyTorch`);
            const err = relativeError(actual, expected.data, what.startsWith("grad.") ? GRAD_FLOOR : 0);
            const kind = what.split(/[. ]/)[0]!;
            worst.set(kind, Math.max(worst.get(kind) ?? 0, err));
            if (!(err <= tol)) problems.push(`${what}: relative error ${err.toExponential(2)} > ${tol}`);
          };
          // Routing first: the experts every token chose, where it is not within NEAR_TIE of a tie.
          const routed = compareRouting(ours.routings, theirs);
          expect(routed.problems, `${title}: its mixture of experts routes tokens differently from PyTorch`).toEqual([]);
          const skipped: string[] = [];
          if (routed.nearTies === 0) {
            check("logits", ours.logits, theirs.get("logits"), TOL.logits);
            check("loss", [ours.loss], theirs.get("loss"), TOL.loss);
            for (const [name, grad] of ours.grads) check(`grad.${name}`, grad, theirs.get(`grad.${name}`), TOL.grad);
          } else {
            skipped.push(`logits, loss and gradients (${routed.nearTies} token choices within ${NEAR_TIE} of a tie)`);
          }
          const extra = [...theirs.keys()].filter((k) => k.startsWith("grad.") && !ours.grads.has(k.slice(5)));
          if (extra.length > 0) problems.push(`PyTorch has parameters babygpt lacks: ${extra.join(", ")}`);
          for (const [type, losses] of ours.stepLosses) {
            const ties = ours.stepNearTies.get(type) ?? 0;
            if (ties > 0) {
              skipped.push(`${type} losses (${ties} token choices within ${NEAR_TIE} of a tie)`);
              continue;
            }
            const expected = theirs.get(`losses.${type}`);
            check(`${type} losses [${[...losses].map((l) => l.toFixed(5)).join(", ")}] vs [${[...(expected?.data ?? [])].map((l) => l.toFixed(5)).join(", ")}]`, losses, expected, TOL.stepLoss);
          }
          if (skipped.length > 0) console.warn(`${title}: not compared: ${skipped.join("; ")}`);
          if (process.env["BABYGPT_PARITY_VERBOSE"]) {
            const margin = ours.routings.length > 0 ? `; ${ours.routings.length} routings, closest choice ${routed.closest.toExponential(1)} from a tie` : "";
            console.log(`${title}: worst relative errors ${[...worst].map(([k, e]) => `${k} ${e.toExponential(1)}`).join(", ")}${margin}`);
          }
          expect(problems, `${title} differs from PyTorch`).toEqual([]);
          // The steps must actually have moved the loss, or the comparison above proves little.
          for (const [type, losses] of ours.stepLosses) expect(losses[STEPS]!, `${type} did not change the loss`).not.toBeCloseTo(losses[0]!, 4);
        } finally {
          model.dispose();
        }
      });
    }
  });

  /** One routing of a mixture of experts: the experts each token chose (B·T·k) and how far each token is from a tie. */
  interface Routing {
    readonly chosen: Int32Array;
    readonly k: number;
    readonly margins: Float32Array;
  }

  interface Ours {
    readonly logits: Float32Array;
    readonly loss: number;
    readonly grads: Map<string, Float32Array>;
    /** Per optimizer type: the loss before each of the STEPS steps and after the last. */
    readonly stepLosses: Map<string, Float32Array>;
    /** The first forward's routings, in the order the layers ran (none without experts). */
    readonly routings: readonly Routing[];
    /** Per optimizer type: the token choices within NEAR_TIE of a tie in the forwards of its steps. */
    readonly stepNearTies: Map<string, number>;
  }

  /** What each recorded routing chose and how near each token was to a tie; the records are disposed. */
  async function routingsOf(records: readonly RoutingRecord[]): Promise<Routing[]> {
    const out: Routing[] = [];
    for (const r of records) {
      const [E, k] = [r.scores.shape[2], r.chosen.shape[2]];
      out.push({ chosen: (await r.chosen.data()) as Int32Array, k, margins: choiceMargins((await r.scores.data()) as Float32Array, E, k) });
      tf.dispose([r.scores, r.chosen]);
    }
    return out;
  }

  const nearTies = (routings: readonly Routing[]): number => routings.reduce((n, r) => n + r.margins.filter((m) => m < NEAR_TIE).length, 0);

  /**
   * Our routings against PyTorch's (routing.<i>, the same order): each token's set of experts, for the
   * tokens not within NEAR_TIE of a tie; and how many were, and the smallest margin seen.
   */
  function compareRouting(ours: readonly Routing[], theirs: ReadonlyMap<string, NamedTensor>): { problems: string[]; nearTies: number; closest: number } {
    const problems: string[] = [];
    const count = [...theirs.keys()].filter((k) => k.startsWith("routing.")).length;
    if (count !== ours.length) problems.push(`${ours.length} routings here, ${count} in PyTorch`);
    let closest = Infinity;
    ours.forEach((r, i) => {
      const expected = theirs.get(`routing.${i}`);
      if (!expected || expected.data.length !== r.chosen.length) return void problems.push(`routing.${i}: ${r.chosen.length} choices here, ${expected?.data.length ?? 0} in PyTorch`);
      const set = (a: ArrayLike<number>, t: number): string => Array.from({ length: r.k }, (_, j) => a[t * r.k + j]!).sort((x, y) => x - y).join(",");
      r.margins.forEach((m, t) => {
        closest = Math.min(closest, m);
        if (m < NEAR_TIE) return;
        if (set(r.chosen, t) !== set(expected.data, t)) problems.push(`routing.${i}, token ${t}: experts [${set(r.chosen, t)}] here, [${set(expected.data, t)}] in PyTorch (margin ${m.toExponential(1)})`);
      });
    });
    return { problems: problems.slice(0, 10), nearTies: nearTies(ours), closest };
  }

  /**
   * babygpt's side: forward, one backward, and STEPS steps of each optimizer from the same weights. Values
   * are read with `await data()`, which the webgpu backend needs.
   */
  async function computeOurs(model: LanguageModel, initial: ReadonlyMap<string, NamedTensor>, batch: ReadonlyMap<string, NamedTensor>, gradClip: number): Promise<Ours> {
    const [x, y] = ["x", "y"].map((k) => {
      const t = batch.get(k)!;
      return tf.tensor2d(t.data, t.shape as [number, number], "int32");
    }) as [tf.Tensor2D, tf.Tensor2D];
    const params = model.namedParameters();
    const vars = params.map(([, v]) => v);
    const lossAndGrads = async (): Promise<{ loss: number; grads: Map<string, tf.Tensor> }> => {
      const { value, grads } = tf.variableGrads(() => model.forward(x, y).loss!, vars);
      const loss = (await value.data())[0]!;
      value.dispose();
      return { loss, grads: new Map(params.map(([n, v]) => [n, grads[v.name]!])) };
    };
    try {
      const forward = recordRouting(() => model.forward(x, y));
      const { logits, loss, aux } = forward.result;
      const routings = await routingsOf(forward.routings);
      const out = { logits: (await logits.data()) as Float32Array, loss: (await loss!.data())[0]!, routings };
      tf.dispose([logits, loss!, ...(aux ? [aux] : [])]);
      /** Token choices near a tie in a forward at the current weights (one of a step's, whose routing it repeats). */
      const tiesNow = async (): Promise<number> => {
        if (routings.length === 0) return 0;
        const { routings: records } = recordRouting(() => tf.tidy(() => void model.forward(x, y)));
        return nearTies(await routingsOf(records));
      };
      const first = await lossAndGrads();
      const grads = new Map<string, Float32Array>();
      for (const [n, g] of first.grads) grads.set(n, (await g.data()) as Float32Array);
      tf.dispose([...first.grads.values()]);

      const stepLosses = new Map<string, Float32Array>();
      const stepNearTies = new Map<string, number>();
      for (const config of OPTIMIZERS) {
        loadParameters(model, initial, "the initial weights");
        const optimizer = new Optimizer(config);
        const losses = new Float32Array(STEPS + 1);
        let ties = 0;
        // The trainer's own step (runtime/train/step.ts): forward, backward, clipping, the update.
        for (let step = 0; step < STEPS; step++) {
          ties += await tiesNow();
          losses[step] = (await trainStep(model, params, x, y, optimizer, config.lr, gradClip)).loss;
        }
        ties += await tiesNow();
        const last = tf.tidy(() => model.forward(x, y).loss!);
        losses[STEPS] = (await last.data())[0]!;
        last.dispose();
        optimizer.dispose();
        stepLosses.set(config.type, losses);
        stepNearTies.set(config.type, ties);
      }
      return { ...out, grads, stepLosses, stepNearTies };
    } finally {
      tf.dispose([x, y]);
    }
  }

  /** Runs bench/reference/parity.py; resolves to the output path, or rejects with its stderr. */
  function runParity(files: { spec: string; model: string; weights: string; batch: string; out: string }, gradClip: number): Promise<string> {
    const args = [
      PARITY_PY,
      ...["--spec", files.spec, "--model", files.model, "--weights", files.weights, "--batch", files.batch, "--out", files.out],
      ...["--steps", String(STEPS), "--grad-clip", String(gradClip), "--threads", "1"],
      ...OPTIMIZERS.flatMap((o) => ["--optimizer", JSON.stringify(o)]),
    ];
    return new Promise((resolve, reject) => {
      // One thread each for OpenMP and OpenBLAS: this process needs the other core.
      const child = spawn(PYTHON, args, { env: { ...process.env, OMP_NUM_THREADS: "1", OPENBLAS_NUM_THREADS: "1" }, stdio: ["ignore", "ignore", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.on("error", reject);
      child.on("close", (code) => (code === 0 ? resolve(files.out) : reject(new Error(`parity.py exited with ${code}:\n${stderr}`))));
    });
  }

  /**
   * max |a - e| / max |e| over a tensor: the error relative to the tensor's scale. Elementwise relative
   * error would be meaningless for entries near zero (a logit of 1e-7, a gradient that cancels out).
   * A tensor whose scale is at most `floor` is compared absolutely: the gradient of a key bias is zero in
   * exact arithmetic (softmax ignores what q·b adds to every score of a row), and both sides hold rounding.
   */
  function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 0): number {
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < expected.length; i++) {
      diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
      scale = Math.max(scale, Math.abs(expected[i]!));
    }
    if (Number.isNaN(diff)) return Number.NaN;
    return scale <= floor ? diff : diff / scale;
  }

  /**
   * Moves every 1-D parameter (biases, LayerNorm gamma and beta) off its initial value. GPT-2 style
   * initialization makes biases 0, gamma 1 and beta 0, where a mixed-up bias or gain would go unnoticed.
   */
  function perturbVectors(model: LanguageModel, seed: number): void {
    const rng = new Prng(seed);
    for (const [, v] of model.namedParameters()) {
      if (v.shape.length !== 1) continue;
      const noise = Float32Array.from({ length: v.size }, () => 0.1 * rng.nextNormal());
      tf.tidy(() => v.assign(tf.add(v, tf.tensor1d(noise))));
    }
  }
}
