// Comparing babygpt's numbers with PyTorch's: every check (logits, loss, each parameter's gradient, each
// optimizer's losses) as a row with its relative error and tolerance, and the problems that fail it.
// Pure: no tensors, no files, so the command's table and the tests' assertions read the same rows.
import type { NamedTensor } from "../checkpoint/safetensors.js";
import { GRAD_FLOOR, PARITY_KINDS, type ParityKind, type Tolerances } from "./tolerances.js";

/** What babygpt computed (runtime/parity/ours.ts). */
export interface OurNumbers {
  readonly logits: Float32Array;
  readonly loss: number;
  /** Each parameter's gradient, by parameter name. */
  readonly grads: ReadonlyMap<string, Float32Array>;
  /** Per optimizer type: the loss before each step and after the last. */
  readonly stepLosses: ReadonlyMap<string, Float32Array>;
}

export interface CheckRow {
  readonly kind: ParityKind;
  /** "logits", "loss", the parameter's name, or the optimizer's type. */
  readonly name: string;
  /** NaN where the values are missing or differ in count (the row's problem says which). */
  readonly error: number;
  readonly tolerance: number;
  readonly ok: boolean;
}

export interface Comparison {
  readonly rows: readonly CheckRow[];
  /** One line per failed check, and for parameters only one side has. */
  readonly problems: readonly string[];
}

/**
 * max |a - e| / max |e| over a tensor: the error relative to the tensor's scale. Elementwise relative
 * error would be meaningless for entries near zero (a logit of 1e-7, a gradient that cancels out).
 * A tensor whose scale is at most `floor` is compared absolutely: the gradient of a key bias is zero in
 * exact arithmetic (softmax ignores what q·b adds to every score of a row), and both sides hold rounding.
 */
export function relativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 0): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i]! - expected[i]!));
    scale = Math.max(scale, Math.abs(expected[i]!));
  }
  if (Number.isNaN(diff)) return Number.NaN;
  return scale <= floor ? diff : diff / scale;
}

/** A tolerance as it is written: 1e-5, not 0.00001. */
export const formatTolerance = (n: number): string => (n === 0 ? "0" : n.toExponential().replace("e+", "e"));

const losses = (values: ArrayLike<number> | undefined): string => `[${[...(values ? Array.from(values) : [])].map((l) => l.toFixed(5)).join(", ")}]`;

/** Every check of ours against PyTorch's output (runtime/torch/parity.py's tensors, by name). */
export function compareWithTorch(ours: OurNumbers, theirs: ReadonlyMap<string, NamedTensor>, tolerances: Tolerances): Comparison {
  const rows: CheckRow[] = [];
  const problems: string[] = [];
  const check = (kind: ParityKind, name: string, what: string, actual: ArrayLike<number>, expected: NamedTensor | undefined): void => {
    const tolerance = tolerances[kind];
    let error = Number.NaN;
    if (!expected) problems.push(`${what}: missing from PyTorch's output`);
    else if (expected.data.length !== actual.length) problems.push(`${what}: ${actual.length} values here, ${expected.data.length} in PyTorch`);
    else {
      error = relativeError(actual, expected.data, kind === "grad" ? GRAD_FLOOR : 0);
      if (!(error <= tolerance)) problems.push(`${what}: relative error ${error.toExponential(2)} > ${formatTolerance(tolerance)}`);
    }
    rows.push({ kind, name, error, tolerance, ok: error <= tolerance });
  };
  check("logits", "logits", "logits", ours.logits, theirs.get("logits"));
  check("loss", "loss", "loss", [ours.loss], theirs.get("loss"));
  for (const [name, grad] of ours.grads) check("grad", name, `grad.${name}`, grad, theirs.get(`grad.${name}`));
  const extra = [...theirs.keys()].filter((k) => k.startsWith("grad.") && !ours.grads.has(k.slice(5)));
  if (extra.length > 0) problems.push(`PyTorch has parameters babygpt lacks: ${extra.map((k) => k.slice(5)).join(", ")}`);
  for (const [type, values] of ours.stepLosses) {
    const expected = theirs.get(`losses.${type}`);
    check("steps", type, `${type} losses ${losses(values)} vs ${losses(expected?.data)}`, values, expected);
  }
  return { rows, problems };
}

/** The worst row of each kind that has rows (NaN, a missing value, counts as worst), in PARITY_KINDS order. */
export function worstByKind(rows: readonly CheckRow[]): { readonly kind: ParityKind; readonly worst: CheckRow; readonly count: number }[] {
  const rank = (r: CheckRow): number => (Number.isNaN(r.error) ? Infinity : r.error);
  return PARITY_KINDS.flatMap((kind) => {
    const of = rows.filter((r) => r.kind === kind);
    if (of.length === 0) return [];
    const worst = of.reduce((a, b) => (rank(b) > rank(a) ? b : a));
    return [{ kind, worst, count: of.length }];
  });
}
