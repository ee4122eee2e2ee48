// bench/gpu.sh's measurements (see there for what the machine needs): the WebGPU adapter's info, features
// and limits; one baby GPT and one lecture GPT training step on webgpu (bench/child.ts, the trainer's own
// step, in a process of its own); the same models in PyTorch on CUDA where torch sees a GPU
// (bench/reference/step_cuda.py); the ratios. Every part has its own time limit, so the whole ends
// within 10 minutes whatever hangs. Writes bench/results/gpu-<date>.json.
//
//   node --import tsx bench/gpu.ts [--python /usr/bin/python3] [--out bench/results]
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { projectAt, torchPathFor } from "../compiler/compile.js";
import { loadSpec } from "../compiler/spec/load.js";
import { writeFileAtomic } from "../compiler/write-atomic.js";
import { PROJECT_ROOT } from "../runtime/paths.js";

const { values: opts } = parseArgs({
  options: {
    python: { type: "string", default: process.env["BABYGPT_PYTHON"] ?? "/usr/bin/python3" },
    out: { type: "string", default: join(PROJECT_ROOT, "bench/results") },
  },
});

/** Seconds each part may take; together under 10 minutes. */
const LIMITS = { info: 30, baby: 120, lecture: 240, torch: 90 };
const CONFIGS = [
  { name: "baby GPT", spec: "specs/12-baby-gpt.yaml", iters: 20, warmup: 3, limit: LIMITS.baby },
  { name: "lecture GPT", spec: "specs/11-gpt.yaml", iters: 5, warmup: 2, limit: LIMITS.lecture },
] as const;

interface Outcome {
  readonly ok: boolean;
  readonly stdout: string;
  readonly stderr: string;
  readonly timedOut: boolean;
}

/** Runs a command with a time limit (SIGKILL at the limit), collecting its output. */
function runFor(cmd: string, args: readonly string[], seconds: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: PROJECT_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, seconds * 1000);
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve({ ok: false, stdout, stderr: `${stderr}${e.message}`, timedOut });
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ ok: code === 0 && !timedOut, stdout, stderr, timedOut });
    });
  });
}

const lastLine = (s: string): string =>
  s
    .trim()
    .split("\n")
    .filter((l) => !l.startsWith("Warning:"))
    .at(-1) ?? "";
const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

// ---- the adapter ----
const info = await runFor(process.execPath, ["--import", "tsx", "bench/webgpu-info.ts"], LIMITS.info);
console.log("== WebGPU adapter");
console.log(info.stdout.trim() || `none: ${info.timedOut ? `no answer within ${LIMITS.info} s` : lastLine(info.stderr)}`);
const adapterLine = /^adapter: (.*)$/m.exec(info.stdout)?.[1];
const software = /^software: (?!no)/m.test(info.stdout);

// ---- webgpu steps ----
interface WebgpuResult {
  readonly name: string;
  readonly msPerIter?: number;
  readonly iters: number;
  readonly note?: string;
}
const webgpu: WebgpuResult[] = [];
for (const c of CONFIGS) {
  console.log(`\n== ${c.name} on webgpu (${c.spec}, ${c.warmup} warm-up + ${c.iters} timed steps, at most ${c.limit} s)`);
  const r = await runFor(process.execPath, ["--import", "tsx", "bench/child.ts", "--spec", c.spec, "--backend", "webgpu", "--iters", String(c.iters), "--warmup", String(c.warmup), "--sample-tokens", "8"], c.limit);
  const records = r.stdout
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const times = records.filter((x) => x["type"] === "iter" && !x["warmup"]).map((x) => x["ms"] as number);
  const error = records.find((x) => x["type"] === "error")?.["reason"] as string | undefined;
  const note = times.length === 0 ? (r.timedOut ? `no timed step within ${c.limit} s` : (error ?? lastLine(r.stderr))) : r.timedOut ? `stopped at ${c.limit} s after ${times.length} timed steps` : undefined;
  const result: WebgpuResult = times.length ? { name: c.name, msPerIter: median(times), iters: times.length, ...(note ? { note } : {}) } : { name: c.name, iters: 0, note: note ?? "no result" };
  webgpu.push(result);
  console.log(result.msPerIter !== undefined ? `${result.msPerIter.toFixed(1)} ms/iter (median of ${result.iters})${note ? `; ${note}` : ""}` : `no figure: ${result.note}`);
}

// ---- PyTorch on CUDA ----
interface TorchResult {
  readonly name: string;
  readonly msPerIter?: number;
  readonly device?: string;
  readonly torchVersion?: string;
  readonly note?: string;
}
const torch: TorchResult[] = [];
const probe = spawnSync(opts.python, ["-c", "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 3)"], { encoding: "utf8", timeout: 60_000 });
const cuda = probe.status === 0;
const whyNoCuda = probe.error ? `${opts.python} does not run (${probe.error.message})` : probe.status === 3 ? "torch.cuda.is_available() is False" : `${opts.python} cannot import torch`;
const work = mkdtempSync(join(tmpdir(), "babygpt-gpu-"));
for (const c of CONFIGS) {
  if (!cuda) {
    torch.push({ name: c.name, note: whyNoCuda });
    continue;
  }
  console.log(`\n== ${c.name} in PyTorch on CUDA (at most ${LIMITS.torch} s)`);
  const resolved = join(work, `${c.name.replace(/\W+/g, "-")}.json`);
  writeFileSync(resolved, JSON.stringify(loadSpec(join(PROJECT_ROOT, c.spec), { cwd: PROJECT_ROOT }).spec));
  const model = torchPathFor(projectAt(PROJECT_ROOT), join(PROJECT_ROOT, c.spec));
  const r = await runFor(opts.python, ["bench/reference/step_cuda.py", resolved, "--model", model], LIMITS.torch);
  const line = r.stdout.trim().split("\n").at(-1) ?? "";
  const rec = line.startsWith("{") ? (JSON.parse(line) as Record<string, unknown>) : undefined;
  const t: TorchResult =
    rec?.["available"] === true
      ? { name: c.name, msPerIter: rec["ms_per_iter"] as number, device: rec["device"] as string, torchVersion: rec["torch_version"] as string }
      : { name: c.name, note: (rec?.["note"] as string | undefined) ?? (r.timedOut ? `no result within ${LIMITS.torch} s` : lastLine(r.stderr)) };
  torch.push(t);
  console.log(t.msPerIter !== undefined ? `${t.msPerIter.toFixed(1)} ms/iter on ${t.device} (torch ${t.torchVersion})` : `no figure: ${t.note}`);
}
rmSync(work, { recursive: true, force: true });

// ---- summary ----
console.log(`\n== summary${software ? " (software adapter: WebGPU on the CPU, not a GPU figure)" : ""}`);
console.log("| model | webgpu ms/iter | PyTorch CUDA ms/iter | webgpu speed / PyTorch's |");
console.log("| --- | --: | --: | --: |");
CONFIGS.forEach((c, i) => {
  const w = webgpu[i]!;
  const t = torch[i]!;
  const ratio = w.msPerIter !== undefined && t.msPerIter !== undefined ? `${(t.msPerIter / w.msPerIter).toFixed(2)}×` : "–";
  console.log(`| ${c.name} | ${w.msPerIter?.toFixed(1) ?? `– (${w.note})`} | ${t.msPerIter?.toFixed(1) ?? `– (${t.note})`} | ${ratio} |`);
});
const lecture = webgpu[1]?.msPerIter;
if (lecture !== undefined) console.log(`lecture GPT on webgpu: ${lecture.toFixed(1)} ms/iter, 5,000 iterations in ${((lecture * 5000) / 60_000).toFixed(1)} minutes (goal: ≤ 60 ms/iter)`);

const date = new Date().toISOString();
mkdirSync(opts.out, { recursive: true });
const file = join(opts.out, `gpu-${date.slice(0, 10)}.json`);
writeFileAtomic(file, `${JSON.stringify({ command: "bash bench/gpu.sh", date, adapter: adapterLine ?? null, software, adapterReport: info.stdout.trim(), webgpu, torch }, null, 2)}\n`);
console.log(`\nwrote ${file}`);
