// Writes docs/ladder.md (handlebars), docs/ladder.svg (exact val loss by step) and docs/ladder/<step>.svg
// (each run's curves) from a finished ladder.json, with the measured lessons alongside.
import { mkdirSync, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import { writeFileAtomic } from "../../util/write-atomic.js";
import { formatBytes, formatFlops, formatInt } from "../../util/format.js";
import { PROJECT_ROOT } from "../paths.js";
import { attentionGridSvg } from "../attention/svg.js";
import { checkOutputFile, writeOutputFile } from "../safe-output.js";
import { lineChart } from "../plot.js";
import { diffStat, generatedDiff } from "./diff.js";
import { ATTENTION_PROMPT, type LadderState, type StepResult } from "./ladder.js";
import { gradientThroughDepth, orderSensitivity, softmaxSaturation } from "./lessons.js";

const template = Handlebars.compile(readFileSync(fileURLToPath(new URL("./templates/ladder.md.hbs", import.meta.url)), "utf8"), { noEscape: true });

/** The concept column: what a step adds, in a few words, by spec name (the rest of the words live in the spec). */
const CONCEPTS: Record<string, string> = {
  bigram: "a token's own row gives the next token's logits",
  position: "token + learned position embeddings, a linear head",
  adam: "AdamW instead of SGD",
  "single-head": "one head of causal self-attention",
  "multi-head": "four heads of the same total width",
  "feed-forward": "a ReLU MLP after attention",
  blocks: "three stacked blocks, no residuals",
  residual: "residual connections (+ projection)",
  layernorm: "pre-norm LayerNorm (our own class)",
  dropout: "dropout 0.2",
  gpt: "the lecture's GPT: L6 H6 C384 T256",
  "baby-gpt": "nanoGPT's CPU model: L4 H4 C128 T64",
  "gpt2-bpe": "GPT-2 BPE tokens instead of characters",
  sinusoidal: "fixed sinusoidal positions",
  modern: "RoPE, RMSNorm, SwiGLU, GQA, QK-norm, no biases, tied embeddings",
};

const fixed = (n: number, d = 4): string => (Number.isFinite(n) ? n.toFixed(d) : "–");

function duration(seconds: number): string {
  if (seconds < 60) return `${seconds.toFixed(0)} s`;
  if (seconds < 3600) return `${(seconds / 60).toFixed(1)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export interface ReportOptions {
  readonly command: string;
  /** Where ladder.md, ladder.svg and ladder/ go (default: the project's docs/). */
  readonly outDir?: string;
  /** The same ladder trained by the torch engine (`babygpt ladder --engine torch`), shown beside this one. */
  readonly torch?: LadderState;
  /** Replace a ladder.md that the ladder did not write. */
  readonly force?: boolean;
}

/** How ladder.md starts (the template's first line): how the ladder recognizes a report it may replace. */
const REPORT_MARKER = "<!-- Written by `npx babygpt ladder";

/**
 * The modern step's ablation (`ladder --ablate`): each variant's exact val loss beside the modern step's
 * and the baby GPT's, at the same budget. Undefined when none was trained.
 */
function ablationSection(
  state: LadderState,
  byName: ReadonlyMap<string, StepResult>,
): { rows: Record<string, string>[]; modern: string; baby: string; noise?: string } | undefined {
  const rows = Object.values(state.steps).filter((s) => s.ablation);
  const modern = byName.get(rows[0]?.ablation?.of ?? "");
  if (rows.length === 0 || !modern) return undefined;
  const baby = byName.get("baby-gpt");
  const signed = (d: number): string => `${d <= 0 ? "−" : "+"}${Math.abs(d).toFixed(4)}`;
  const control = rows.find((s) => s.ablation?.control);
  return {
    modern: fixed(modern.valLoss),
    baby: baby ? fixed(baby.valLoss) : "–",
    ...(control ? { noise: Math.abs(control.valLoss - modern.valLoss).toFixed(4) } : {}),
    rows: rows
      .sort((a, b) => a.valLoss - b.valLoss)
      .map((s) => ({
        name: s.name,
        change: s.ablation!.change,
        params: formatInt(s.params),
        iters: formatInt(s.iters),
        valLoss: fixed(s.valLoss),
        delta: signed(s.valLoss - modern.valLoss),
      })),
  };
}

export async function writeLadderReport(state: LadderState, options: ReportOptions): Promise<string> {
  const out = options.outDir ?? join(PROJECT_ROOT, "docs");
  mkdirSync(join(out, "ladder"), { recursive: true });
  // Refuse before writing the charts, not after.
  checkOutputFile(join(out, "ladder.md"), { label: join(out, "ladder.md"), command: "babygpt ladder", owns: (head) => head.startsWith(REPORT_MARKER), force: options.force ?? false });
  const order = Object.values(state.steps)
    .filter((s) => !s.ablation)
    .sort((a, b) => (a.spec < b.spec ? -1 : 1));
  const byName = new Map(order.map((s) => [s.name, s]));
  const torchBy = new Map(Object.values(options.torch?.steps ?? {}).map((s) => [s.name, s]));
  const prev = (i: number): StepResult | undefined => (i > 0 ? order[i - 1] : undefined);

  const lessons = {
    saturation: softmaxSaturation([8, 32, 64, 256]),
    order: byName.has("single-head") ? await orderSensitivity("specs/04-single-head.yaml", byName.get("single-head")!.vocab) : undefined,
    depth: byName.has("blocks") && byName.has("residual") ? await gradientThroughDepth({ plain: "specs/07-blocks.yaml", residual: "specs/08-residual.yaml" }, byName.get("blocks")!.vocab) : undefined,
  };

  const steps = order.map((s, i) => {
    const p = prev(i);
    const comparable = p && p.tokenizer === s.tokenizer && s.tokenizer === "char";
    const delta = comparable ? s.valLoss - p.valLoss : undefined;
    const patch = p ? generatedDiff(p.spec, s.spec) : "";
    const stat = diffStat(patch);
    return {
      index: i + 1,
      name: s.name,
      anchor: `step-${s.name}`,
      spec: s.spec,
      previousSpec: p?.spec,
      concept: CONCEPTS[s.name] ?? s.description.split(". ")[0],
      params: formatInt(s.params),
      flops: formatFlops(s.flopsPerToken),
      tokensPerSec: formatInt(s.tokensPerSec),
      iters: formatInt(s.iters),
      specIters: formatInt(s.specIters),
      reduced: s.iters < s.specIters,
      wall: duration(s.wallSeconds),
      trainLoss: fixed(s.trainLoss),
      valLoss: fixed(s.valLoss),
      torchVal: fixed(torchBy.get(s.name)?.valLoss ?? NaN),
      batchSize: s.batchSize,
      blockSize: s.blockSize,
      delta: delta === undefined ? "" : `${delta <= 0 ? "−" : "+"}${Math.abs(delta).toFixed(4)}`,
      description: s.description,
      notes: notesFor(s, byName, torchBy, lessons),
      attention: s.attention !== undefined,
      attentionPrompt: JSON.stringify(ATTENTION_PROMPT),
      sample: s.sample.replace(/```/g, "` ` `"),
      diff: patch.split("\n").slice(4).join("\n").trim(),
      diffStat: `+${stat.added} −${stat.removed} lines`,
    };
  });

  for (const s of order) {
    writeFileAtomic(
      join(out, "ladder", `${s.name}.svg`),
      lineChart({
        title: `${s.name}: loss estimates while training`,
        xLabel: "step",
        yLabel: "cross-entropy loss",
        series: [
          { name: "train", points: s.curve.map((c) => [c.step, c.train]), color: "#1f77b4" },
          { name: "val", points: s.curve.map((c) => [c.step, c.val]), color: "#d62728" },
        ],
      }),
    );
  }
  for (const s of order) {
    if (!s.attention) continue;
    const title = `${s.name}: attention of ${JSON.stringify(ATTENTION_PROMPT)} (rows read the columns; a row per layer, a column per head)`;
    writeFileAtomic(join(out, "ladder", `${s.name}-attention.svg`), attentionGridSvg(title, s.attention.maps, s.attention.tokens));
  }
  const charSteps = order.filter((s) => s.tokenizer === "char");
  writeFileAtomic(
    join(out, "ladder.svg"),
    lineChart({
      title: "Exact validation loss after each step (character models)",
      xLabel: "step",
      yLabel: "val loss",
      xCategories: charSteps.map((s) => s.name),
      series: [
        { name: "val (exact)", points: charSteps.map((s, i) => [i, s.valLoss]), color: "#d62728" },
        { name: "train (estimate)", points: charSteps.map((s, i) => [i, s.trainLoss]), color: "#1f77b4" },
      ],
    }),
  );

  const backends = [...new Set(order.map((s) => s.backend))];
  const reducedSteps = order.filter((s) => s.iters < s.specIters);
  const scaling = order
    .filter((s) => s.params > 100_000)
    .map((s) => {
      const iterFlops = 3 * s.flopsPerToken * s.batchSize * s.blockSize;
      return {
        name: s.name,
        params: formatInt(s.params),
        flops: formatFlops(s.flopsPerToken),
        iterFlops: formatFlops(iterFlops),
        activations: formatBytes(s.activationBytes),
        measured: `${(s.msPerIter / 1000).toFixed(2)} s/iter, ${formatInt(s.tokensPerSec)} tokens/s (${((iterFlops / (s.msPerIter / 1000)) / 1e9).toFixed(1)} GFLOP/s)`,
        projected: `${duration((s.specIters * s.msPerIter) / 1000)} for ${formatInt(s.specIters)} iterations`,
      };
    });

  const markdown = template({
    command: options.command,
    machine: machine(),
    backend: backends.join(", "),
    valTokens: "111,540",
    date: new Date().toISOString().slice(0, 10),
    steps,
    reducedNote: reducedSteps.length
      ? `**Reduced budgets.** ${reducedSteps.map((s) => `${s.name} trained ${formatInt(s.iters)} of its ${formatInt(s.specIters)} iterations (the full budget would take about ${duration((s.specIters * s.msPerIter) / 1000)} here at the measured ${(s.msPerIter / 1000).toFixed(2)} s/iter)`).join("; ")}. Their losses are what that shorter training reaches, not what the full budget would.`
      : "",
    comparisons: comparisons(byName, torchBy),
    ablation: ablationSection(state, byName),
    torch: torchSection(order, torchBy, options.torch),
    scalingIntro:
      "Parameters, FLOPs and activation memory come from the IR (`npx babygpt inspect`); speeds are measured in this ladder run. A training iteration costs about three forward passes (forward, and a backward pass of about twice the work).",
    scaling,
    scalingNotes: scalingNotes(byName),
  });
  const file = join(out, "ladder.md");
  writeOutputFile(file, markdown, { label: file, command: "babygpt ladder", owns: (head) => head.startsWith(REPORT_MARKER), force: options.force ?? false });
  return file;
}

type Lessons = {
  saturation: ReturnType<typeof softmaxSaturation>;
  order: { withPositions: number; withoutPositions: number } | undefined;
  depth: { plain: number; residual: number } | undefined;
};

/** +0.0123, −0.0040, or 0.0000 when the difference rounds away. */
function signed(d: number): string {
  const text = Math.abs(d).toFixed(4);
  return text === "0.0000" ? text : `${d > 0 ? "+" : "−"}${text}`;
}

/** "PyTorch, same spec and budget: 2.6790", or a pointer to the command that would measure it. */
function torchSays(torchBy: ReadonlyMap<string, StepResult>, name: string): string {
  const t = torchBy.get(name);
  return t ? `PyTorch (the torch engine), same spec, budget and seed: ${fixed(t.valLoss)}` : "PyTorch: not measured yet (`npx babygpt ladder --engine torch`)";
}

/**
 * The torch engine's ladder beside this one: per step both exact val losses and both speeds, from the
 * runs that measured them (a step the torch ladder trained at another budget is left out).
 */
function torchSection(order: readonly StepResult[], torchBy: ReadonlyMap<string, StepResult>, torch: LadderState | undefined) {
  const rows = order.flatMap((s) => {
    const t = torchBy.get(s.name);
    if (!t || t.iters !== s.iters) return [];
    return [{ name: s.name, iters: formatInt(s.iters), ours: fixed(s.valLoss), theirs: fixed(t.valLoss), delta: signed(t.valLoss - s.valLoss), oursSpeed: formatInt(s.tokensPerSec), theirsSpeed: formatInt(t.tokensPerSec), backend: t.backend }];
  });
  if (rows.length === 0) return undefined;
  return { command: torch?.run?.command ?? "npx babygpt ladder --engine torch", rows };
}

function notesFor(s: StepResult, byName: ReadonlyMap<string, StepResult>, torchBy: ReadonlyMap<string, StepResult>, lessons: Lessons): string[] {
  const v = (name: string): string => fixed(byName.get(name)?.valLoss ?? NaN);
  const gap = (x: StepResult | undefined): string => (x ? (x.valEstimate - x.trainLoss).toFixed(3) : "–");
  switch (s.name) {
    case "bigram":
      return [`Exact val loss after 3,000 steps of SGD at lr 1.0 (B32, T8): ${v("bigram")} here; ${torchSays(torchBy, "bigram")}.`];
    case "adam":
      return [`Same architecture and budget as the step before; only the optimizer changed: ${v("position")} → ${v("adam")}. (${torchSays(torchBy, "adam")}.)`];
    case "single-head": {
      const o = lessons.order;
      const notes = [
        `**Why attention needs positions.** Attention sums values weighted by query·key matches, and a sum does not care about order. Measured on this model at initialization: reversing the 7 earlier tokens changes the logits at the last position by up to ${o ? o.withPositions.toFixed(3) : "–"} with the position table, and by ${o ? o.withoutPositions.toExponential(1) : "–"} with the table zeroed: without positions the model literally cannot tell the two orders apart.`,
      ];
      const rows = lessons.saturation.map((r) => `| ${r.headSize} | ${r.unscaled.toFixed(3)} | ${r.scaled.toFixed(3)} |`).join("\n");
      notes.push(
        `**What the 1/sqrt(head_size) scale prevents.** A dot product of two unit-variance vectors of size hs has variance hs, so unscaled scores grow with the head and softmax turns nearly one-hot: each position would copy a single other one and its gradient would vanish. The mean weight softmax gives its largest entry over 8 positions (1/8 = 0.125 is perfectly even, 1 is one-hot), for random unit-variance queries and keys:\n\n| head size | unscaled | scaled by 1/sqrt(hs) |\n| --: | --: | --: |\n${rows}`,
      );
      return notes;
    }
    case "multi-head":
      return [`**What several heads buy.** Same total width (4 × 8 = 32) and the same key/query/value parameters as the single head of 32, yet val ${v("single-head")} → ${v("multi-head")}: four independent attention patterns per position instead of one averaged mixture. (The lecture's notes: about 2.5 → 2.28.)`];
    case "feed-forward":
      return [`val ${v("multi-head")} → ${v("feed-forward")} (the lecture's notes: 2.28 → 2.24).`];
    case "blocks": {
      const d = lessons.depth;
      return [
        `**Why depth alone trains worse.** val ${v("feed-forward")} → ${v("blocks")} with three times the blocks. At initialization the gradient reaching the first block is ${d ? d.plain.toFixed(3) : "–"}× the one reaching the last (same batch): each block's layers rescale and distort it on the way down.`,
      ];
    }
    case "residual": {
      const d = lessons.depth;
      return [`**How the additions carry gradients.** With x + f(x) the gradient of the sum flows to x unchanged, so the first block's gradient is ${d ? d.residual.toFixed(3) : "–"}× the last block's at initialization (without residuals: ${d ? d.plain.toFixed(3) : "–"}×). val ${v("blocks")} → ${v("residual")}.`];
    }
    case "layernorm":
      return [
        `**LayerNorm, not BatchNorm.** BatchNorm normalizes each feature across the batch, so its output for one sequence depends on the others and it must switch to running averages for sampling; LayerNorm normalizes each token across its own features, so it needs no batch statistics and computes the same thing in training and generation. Here it sits before attention and the MLP inside each residual branch (pre-norm, as GPT-2 does), plus once before the head. val ${v("residual")} → ${v("layernorm")} (the lecture's notes record about 2.06 at this point with a longer budget).`,
      ];
    case "dropout": {
      const a = byName.get("layernorm");
      return [
        `**Dropout as regularization, in numbers.** Gap between the val and train estimates: ${gap(a)} without dropout, ${gap(s)} with it. At 42K parameters the model is too small to memorize 1M characters, so there is little overfitting for dropout to remove and it mainly slows learning: val ${v("layernorm")} → ${v("dropout")}. It pays at scale (the GPT step below uses the same 0.2).`,
      ];
    }
    case "gpt2-bpe":
      return ["Its loss is per BPE token (about 3.3 characters each on this corpus), so it is not comparable with the character models' losses."];
    default:
      return [];
  }
}

function comparisons(byName: ReadonlyMap<string, StepResult>, torchBy: ReadonlyMap<string, StepResult>): string[] {
  const v = (name: string): string => fixed(byName.get(name)?.valLoss ?? NaN);
  const out = [
    `**bigram (SGD, lr 1.0, 3,000 steps):** ${v("bigram")} here; ${torchSays(torchBy, "bigram")}.`,
    `**bigram-sized model with AdamW (step 3):** ${v("adam")} here; the mark is ≤ 2.55; ${torchSays(torchBy, "adam")}.`,
    `**small transformer steps (n_embd 32, T 8):** single head ${v("single-head")}, multi-head ${v("multi-head")}, + feed-forward ${v("feed-forward")}, + LayerNorm ${v("layernorm")}; the lecture's notes: about 2.5, 2.28, 2.24 and 2.06.`,
  ];
  const baby = byName.get("baby-gpt");
  if (baby) out.push(`**baby GPT (L4 H4 C128 T64 B12, ${formatInt(baby.iters)} iterations):** ${v("baby-gpt")}; nanoGPT reports about 1.88 for this configuration on a CPU, and the mark is ≤ 1.95.`);
  const gpt = byName.get("gpt");
  if (gpt) {
    out.push(
      gpt.iters < gpt.specIters
        ? `**lecture GPT (10.8M parameters):** ${v("gpt")} after ${formatInt(gpt.iters)} of 5,000 iterations; the lecture reaches about 1.48 after all 5,000 on a GPU.`
        : `**lecture GPT (10.8M parameters):** ${v("gpt")}; the lecture reaches about 1.48 after 5,000 iterations on a GPU.`,
    );
  }
  return out;
}

function scalingNotes(byName: ReadonlyMap<string, StepResult>): string[] {
  const gpt = byName.get("gpt");
  if (!gpt) return [];
  const iterFlops = 3 * gpt.flopsPerToken * gpt.batchSize * gpt.blockSize;
  const total = iterFlops * gpt.specIters;
  return [
    `The lecture GPT does ${formatFlops(iterFlops)} of arithmetic per iteration and ${formatFlops(total)} for its 5,000 iterations, and keeps about ${formatBytes(gpt.activationBytes)} of activations for the backward pass at batch 64. Measured here: ${(gpt.msPerIter / 1000).toFixed(1)} s per iteration on ${gpt.backend}, so the full budget would take ${duration((gpt.specIters * gpt.msPerIter) / 1000)}.`,
    `What a GPU changes: the same ${formatFlops(total)} at a sustained 30% of an A100's 19.5 TFLOP/s float32 (a plausible figure for this small, kernel-launch-bound model) is about ${duration(total / (0.3 * 19.5e12))}; with TF32 or bf16 tensor cores, several times less. That is why the lecture can train it for 5,000 iterations in minutes and this report cannot on two CPU cores. (tfjs-node-gpu would be the backend for that here; its install needs a CUDA machine and a libtensorflow download.)`,
  ];
}

function machine(): string {
  const cpu = cpus();
  return `${cpu[0]?.model ?? "unknown CPU"}, ${cpu.length} cores`;
}
