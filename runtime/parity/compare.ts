// Comparing babygpt's numbers with PyTorch's: every check (logits, loss, each parameter's gradient, each
// optimizer's losses) as a row with its relative error and tolerance, and the problems that fail it.
// Pure: no tensors, no files, so the command's table and the tests' assertions read the same rows.
import type { NamedTensor } from "../checkpoint/safetensors.js";
import { GRAD_FLOOR, PARITY_KINDS, type ParityKind, type Tolerances } from "./tolerances.js";

/**
 * A mixture of experts chooses by comparing router scores: where a token's k-th and (k+1)-th scores are
 * closer than this, rounding can choose differently in the two frameworks, and every value after it
 * differs by a whole expert's output. Such tokens are left out of the routing comparison, and the
 * values that follow them are not held.
 */
export const NEAR_TIE = 1e-4;

/** One routing of a mixture of experts: the experts each token chose (B·T·k) and how far each token is from a tie. */
export interface Routing {
  readonly chosen: Int32Array;
  readonly k: number;
  readonly margins: Float32Array;
}

/** The token choices within NEAR_TIE of a tie. */
export const nearTies = (routings: readonly Routing[]): number => routings.reduce((n, r) => n + r.margins.filter((m) => m < NEAR_TIE).length, 0);

/** What babygpt computed (runtime/parity/ours.ts). */
export interface OurNumbers {
  readonly logits: Float32Array;
  readonly loss: number;
  /** Each parameter's gradient, by parameter name. */
  readonly grads: ReadonlyMap<string, Float32Array>;
  /** Per optimizer type: the loss before each step and after the last. */
  readonly stepLosses: ReadonlyMap<string, Float32Array>;
  /** The first forward's routings, in the order the layers ran (none without experts). */
  readonly routings: readonly Routing[];
  /** Per optimizer type: the token choices within NEAR_TIE of a tie in the forwards of its steps. */
  readonly stepNearTies: ReadonlyMap<string, number>;
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
  /** What was not compared, and why (a token's choice of experts within NEAR_TIE of a tie). */
  readonly skipped: readonly string[];
  /** With a mixture of experts: the routings compared, and the smallest margin from a tie seen. */
  readonly routing?: { readonly count: number; readonly closest: number };
}

/**
 * Our routings against PyTorch's (routing.<i>, the same order): each token's set of experts, for the
 * tokens not within NEAR_TIE of a tie; and the smallest margin seen.
 */
function compareRouting(ours: readonly Routing[], theirs: ReadonlyMap<string, NamedTensor>): { problems: string[]; closest: number } {
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
  return { problems: problems.slice(0, 10), closest };
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

/**
 * Every check of ours against PyTorch's output (runtime/torch/parity.py's tensors, by name). A mixture of
 * experts is compared on its routing first; the values a near-tie choice feeds are then not held.
 */
export function compareWithTorch(ours: OurNumbers, theirs: ReadonlyMap<string, NamedTensor>, tolerances: Tolerances): Comparison {
  const rows: CheckRow[] = [];
  const routed = compareRouting(ours.routings, theirs);
  const problems: string[] = [...routed.problems];
  const skipped: string[] = [];
  const ties = nearTies(ours.routings);
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
  if (ties === 0) {
    check("logits", "logits", "logits", ours.logits, theirs.get("logits"));
    check("loss", "loss", "loss", [ours.loss], theirs.get("loss"));
    for (const [name, grad] of ours.grads) check("grad", name, `grad.${name}`, grad, theirs.get(`grad.${name}`));
  } else {
    skipped.push(`logits, loss and gradients (${ties} token choices within ${NEAR_TIE} of a tie)`);
  }
  const extra = [...theirs.keys()].filter((k) => k.startsWith("grad.") && !ours.grads.has(k.slice(5)));
  if (extra.length > 0) problems.push(`PyTorch has parameters babygpt lacks: ${extra.map((k) => k.slice(5)).join(", ")}`);
  for (const [type, values] of ours.stepLosses) {
    const stepTies = ours.stepNearTies.get(type) ?? 0;
    if (stepTies > 0) {
      skipped.push(`${type} losses (${stepTies} token choices within ${NEAR_TIE} of a tie)`);
      continue;
    }
    const expected = theirs.get(`losses.${type}`);
    check("steps", type, `${type} losses ${losses(values)} vs ${losses(expected?.data)}`, values, expected);
  }
  const routing = ours.routings.length > 0 ? { routing: { count: ours.routings.length, closest: routed.closest } } : {};
  return { rows, problems, skipped, ...routing };
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
