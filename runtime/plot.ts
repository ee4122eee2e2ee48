// Line charts as standalone SVG (no browser, no dependency): loss curves for a run and the ladder.
import type { MetricsRecord } from "./train/metrics.js";

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
  readonly color: string;
  /** Thin and faint, for noisy per-step values under the eval curves. */
  readonly faint?: boolean;
}

export interface Chart {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** Category names for the x axis instead of numbers (x = 0, 1, 2, …). */
  readonly xCategories?: readonly string[];
}

const W = 720;
const H = 420;
const M = { left: 64, right: 150, top: 40, bottom: 64 };

function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const step0 = (max - min) / count;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= step0)!;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + 1e-9; v += step) ticks.push(Number(v.toPrecision(10)));
  return ticks;
}

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function lineChart(chart: Chart): string {
  const all = chart.series.flatMap((s) => s.points);
  const xs = all.map((p) => p[0]);
  const ys = all.map((p) => p[1]).filter(Number.isFinite);
  const xMin = Math.min(...xs, 0);
  const xMax = Math.max(...xs, 1);
  const yPad = (Math.max(...ys) - Math.min(...ys)) * 0.05 || 0.1;
  const yMin = Math.min(...ys) - yPad;
  const yMax = Math.max(...ys) + yPad;
  const px = (x: number): number => M.left + ((x - xMin) / (xMax - xMin || 1)) * (W - M.left - M.right);
  const py = (y: number): number => H - M.bottom - ((y - yMin) / (yMax - yMin || 1)) * (H - M.top - M.bottom);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - M.right / 2}" y="22" text-anchor="middle" font-size="15">${esc(chart.title)}</text>`,
  ];
  for (const t of niceTicks(yMin, yMax)) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py(t).toFixed(1)}" y2="${py(t).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 6}" y="${(py(t) + 4).toFixed(1)}" text-anchor="end">${t}</text>`);
  }
  const xTicks = chart.xCategories ? chart.xCategories.map((_, i) => i) : niceTicks(xMin, xMax, 6);
  for (const t of xTicks) {
    const label = chart.xCategories ? chart.xCategories[t]! : String(t);
    const x = px(t).toFixed(1);
    out.push(`<line x1="${x}" x2="${x}" y1="${H - M.bottom}" y2="${H - M.bottom + 4}" stroke="#333"/>`);
    out.push(
      chart.xCategories
        ? `<text transform="translate(${x},${H - M.bottom + 10}) rotate(35)" text-anchor="start" font-size="10">${esc(label)}</text>`
        : `<text x="${x}" y="${H - M.bottom + 18}" text-anchor="middle">${esc(label)}</text>`,
    );
  }
  out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#333"/>`);
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#333"/>`);
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 8}" text-anchor="middle">${esc(chart.xLabel)}</text>`);
  out.push(`<text transform="translate(16,${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${esc(chart.yLabel)}</text>`);
  chart.series.forEach((s, i) => {
    const pts = s.points.filter((p) => Number.isFinite(p[1]));
    if (pts.length === 0) return;
    const d = pts.map((p, j) => `${j === 0 ? "M" : "L"}${px(p[0]).toFixed(1)},${py(p[1]).toFixed(1)}`).join(" ");
    out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="${s.faint ? 1 : 2}" opacity="${s.faint ? 0.35 : 1}"/>`);
    if (!s.faint) for (const p of pts) out.push(`<circle cx="${px(p[0]).toFixed(1)}" cy="${py(p[1]).toFixed(1)}" r="2.5" fill="${s.color}"/>`);
    const ly = M.top + 10 + i * 18;
    out.push(`<line x1="${W - M.right + 12}" x2="${W - M.right + 32}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2" opacity="${s.faint ? 0.35 : 1}"/>`);
    out.push(`<text x="${W - M.right + 38}" y="${ly + 4}">${esc(s.name)}</text>`);
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}

/** The loss chart of one run from its metrics.jsonl records. */
export function lossChart(title: string, records: readonly MetricsRecord[]): string {
  const evals = records.filter((r) => r.type === "eval");
  const steps = records.filter((r) => r.type === "train" && r.loss !== undefined);
  return lineChart({
    title,
    xLabel: "step",
    yLabel: "cross-entropy loss",
    series: [
      { name: "train (step)", points: steps.map((r) => [r.step, r.loss!]), color: "#1f77b4", faint: true },
      { name: "train (eval)", points: evals.map((r) => [r.step, r.train_loss!]), color: "#1f77b4" },
      { name: "val (eval)", points: evals.map((r) => [r.step, r.val_loss!]), color: "#d62728" },
    ],
  });
}
