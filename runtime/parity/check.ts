// One parity check: a spec built twice from the same random weights, as babygpt's TypeScript model (on
// the active tfjs backend) and as the PyTorch module compiled from it, and every number the two compute
// compared (compare.ts). `babygpt parity` and the parity tests (test/parity/suite.ts) both run this.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { emitPython, lowerSpec, type LoadedSpec, type OptimizerSpec } from "../../compiler/index.js";
import { tensorsOf } from "../checkpoint/model-state.js";
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from "../checkpoint/safetensors.js";
import type { ModelModule } from "../model-source.js";
import { Prng } from "../random.js";
import { compareWithTorch, type Comparison, type OurNumbers } from "./compare.js";
import { computeOurs, perturbVectors } from "./ours.js";
import { runReference } from "./reference.js";
import type { Tolerances } from "./tolerances.js";

/** Optimizer steps per run. */
export const PARITY_STEPS = 5;

/** Hyperparameters of the three runs: learning rates large enough that five steps visibly move the loss. */
export const PARITY_OPTIMIZERS: readonly OptimizerSpec[] = [
  { type: "sgd", lr: 0.1, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0 },
  { type: "adam", lr: 3e-3, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 0 },
  { type: "adamw", lr: 3e-3, betas: [0.9, 0.99], eps: 1e-8, weight_decay: 0.1 },
];

/** Seeds of the weights, of the noise on 1-D parameters, and of the batch's tokens. */
const SEEDS = { model: 1234, perturb: 99, batch: 7 };

export interface ParityOptions {
  /** The spec, loaded (with its --set overrides), and the TypeScript model compiled from it. */
  readonly loaded: LoadedSpec;
  readonly module: ModelModule;
  readonly vocab: number;
  /** Sequences per batch, and positions per sequence (at most block_size). */
  readonly batch: number;
  readonly T: number;
  readonly steps: number;
  readonly optimizers: readonly OptimizerSpec[];
  readonly tolerances: Tolerances;
  /** The Python that imports torch. */
  readonly python: string;
  /** torch's threads; unset: torch's own choice. */
  readonly threads?: number;
  /** The PyTorch module to check; by default the one the compiler emits from `loaded`. */
  readonly torchModule?: string;
  /** A folder of the caller's (made here if missing) for the files the two sides exchange. */
  readonly workDir: string;
}

export interface ParityResult extends Comparison {
  readonly ours: OurNumbers;
  /** The PyTorch module that was checked. */
  readonly torchModule: string;
  /** The torch version parity.py ran, from its output's metadata. */
  readonly torch: string;
}

export async function checkParity(options: ParityOptions): Promise<ParityResult> {
  const { loaded, vocab, batch: B, T } = options;
  mkdirSync(options.workDir, { recursive: true });
  const model = options.module.createModel({ vocabSize: vocab, seed: SEEDS.model });
  try {
    model.eval(); // dropout off on both sides
    perturbVectors(model, SEEDS.perturb);
    const initial = await tensorsOf(model.namedParameters());
    const rng = new Prng(SEEDS.batch);
    const ids = (): Int32Array => Int32Array.from({ length: B * T }, () => rng.nextInt(vocab));
    const batch = new Map<string, NamedTensor>([
      ["x", { dtype: "I32", shape: [B, T], data: ids() }],
      ["y", { dtype: "I32", shape: [B, T], data: ids() }],
    ]);
    const dir = options.workDir;
    const torchModule = options.torchModule ?? join(dir, "model.py");
    if (options.torchModule === undefined) writeFileSync(torchModule, emitPython(lowerSpec(loaded)));
    const files = { spec: join(dir, "spec.json"), model: torchModule, weights: join(dir, "model.safetensors"), batch: join(dir, "batch.safetensors"), out: join(dir, "torch.safetensors") };
    writeFileSync(files.spec, JSON.stringify(loaded.spec));
    writeFileSync(files.weights, Buffer.concat(encodeSafetensors(initial)));
    writeFileSync(files.batch, Buffer.concat(encodeSafetensors(batch)));

    const settings = { steps: options.steps, optimizers: options.optimizers };
    const gradClip = loaded.spec.training.grad_clip;
    // PyTorch works on its side while this process computes babygpt's.
    const reference = runReference(files, { python: options.python, gradClip, ...settings, ...(options.threads ? { threads: options.threads } : {}) });
    reference.catch(() => undefined); // awaited below; this only keeps a failure here from going unhandled
    const ours = await computeOurs(model, initial, batch, { gradClip, ...settings });
    const decoded = decodeSafetensors(readFileSync(await reference), files.out);
    return { ...compareWithTorch(ours, decoded.tensors, options.tolerances), ours, torchModule, torch: decoded.metadata["torch"] ?? "unknown" };
  } finally {
    model.dispose();
  }
}
