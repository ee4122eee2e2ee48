// The data benchmark (`npx babygpt bench --data`): corpora of 10 MB to 4 GB generated at run time in a
// temporary folder (tinyshakespeare's lines shuffled and repeated; never committed, removed afterwards),
// and for each tokenizer (characters, GPT-2's BPE, a byte-level BPE of 8,192 tokens learned on the corpus):
// the preparation (`babygpt data prepare`: seconds, MB/s, peak RSS), 20 training steps of the baby GPT on
// the prepared tokens (peak RSS, time to the first step), and a second start on the cache hit (the data
// step alone, and a training's time to its first step). Each is a process of its own under /usr/bin/time,
// with a token cache of its own, so a preparation always starts from nothing. The machine's load average
// is recorded beside each figure: the machine is shared. Results: bench/results/data-<date>.json; the
// table in docs/bench.md (bench/data-report.ts).
import { spawn } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { loadCorpus } from "../runtime/data/corpus.js";
import { PROJECT_ROOT } from "../runtime/paths.js";
import { Prng } from "../runtime/random.js";
import { versions } from "../runtime/versions.js";

export const DATA_SIZES: Record<string, number> = { "10MB": 10e6, "100MB": 100e6, "1GB": 1e9, "4GB": 4e9 };
export const DATA_TOKENIZERS: Record<string, string> = { char: "char", gpt2: "gpt2", "bpe-8192": "bpe:8192" };
/** What `--set data.tokenizer=` is for each, for the training. */
const SPEC_TOKENIZER: Record<string, string> = { char: "char", gpt2: "gpt2", "bpe-8192": "{type: bpe, vocab_size: 8192}" };
const STEPS = 20;
const BIN = join(PROJECT_ROOT, "bin/babygpt.mjs");

export interface Measured {
  readonly seconds: number;
  /** CPU seconds (user + system, every thread): what the work costs whatever else runs on the machine. */
  readonly cpuSeconds?: number;
  readonly peakRssMiB: number;
  readonly load: number;
  /** Seconds from the start of the process to the line that says the training starts (its model and data ready). */
  readonly toFirstStep?: number;
  readonly stderrTail?: string;
  readonly code: number;
}

export interface DataBenchRow {
  readonly size: string;
  readonly bytes: number;
  readonly tokenizer: string;
  readonly prepare: Measured & { readonly mbPerSec: number; readonly tokens?: { train: number; val: number }; readonly vocab?: number };
  readonly train: Measured & { readonly msPerIter?: number };
  /** prepare: `data prepare` finding the entry (with Node's start); inProcessMs: the data step alone (bench/data-hit.ts). */
  readonly hit: { readonly prepare: Measured; readonly inProcessMs?: number; readonly train: Measured };
}

export interface DataBenchResults {
  readonly date: string;
  readonly command: string;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly memoryGiB: number };
  readonly versions: Readonly<Record<string, string>>;
  readonly steps: number;
  readonly rows: DataBenchRow[];
}

/** A corpus of `bytes` bytes: tinyshakespeare's lines in a seeded random order, repeated. */
export function writeCorpus(path: string, bytes: number, lines: readonly string[], seed = 1): void {
  const rng = new Prng(seed);
  const fd = openSync(path, "w");
  try {
    let written = 0;
    while (written < bytes) {
      const parts: string[] = [];
      let size = 0;
      while (size < 8 << 20 && written + size < bytes) {
        const line = lines[rng.nextInt(lines.length)]!;
        parts.push(line);
        size += Buffer.byteLength(line) + 1;
      }
      const chunk = Buffer.from(`${parts.join("\n")}\n`);
      const part = chunk.subarray(0, Math.min(chunk.length, bytes - written));
      writeSync(fd, part);
      written += part.length;
    }
  } finally {
    closeSync(fd);
  }
}

/** Runs the CLI under /usr/bin/time; `firstStep` marks the stderr line whose time is recorded. */
function measure(args: readonly string[], env: NodeJS.ProcessEnv, firstStep?: RegExp): Promise<Measured & { stdout: string }> {
  const load = loadavg()[0]!;
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let toFirstStep: number | undefined;
    let stdout = "";
    let stderr = "";
    const child = spawn("/usr/bin/time", ["-f", "@time %e %M %U %S", process.execPath, BIN, ...args], { env, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.setEncoding("utf8").on("data", (c: string) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr = (stderr + c).slice(-20_000);
      if (firstStep && toFirstStep === undefined && firstStep.test(stderr)) toFirstStep = (performance.now() - started) / 1000;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const m = /@time ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(stderr);
      resolve({
        seconds: m ? Number(m[1]) : (performance.now() - started) / 1000,
        ...(m ? { cpuSeconds: Number(m[3]) + Number(m[4]) } : {}),
        peakRssMiB: m ? Number(m[2]) / 1024 : NaN,
        load,
        ...(toFirstStep !== undefined ? { toFirstStep } : {}),
        ...(code !== 0 ? { stderrTail: stderr.slice(-2000) } : {}),
        code: code ?? -1,
        stdout,
      });
    });
  });
}

const strip = <T extends { stdout: string }>(m: T): Omit<T, "stdout"> => {
  const { stdout: _, ...rest } = m;
  return rest;
};

/** `onRow` gets the results so far after every row, so a run cut short still leaves what it measured. */
export async function runDataBench(options: { sizes: readonly string[]; tokenizers: readonly string[]; log: (line: string) => void; command: string; onRow?: (partial: DataBenchResults) => void }): Promise<DataBenchResults> {
  const lines = (await loadCorpus()).text.split("\n").filter((l) => l.length > 0);
  const work = mkdtempSync(join(tmpdir(), "babygpt-data-bench-"));
  const rows: DataBenchRow[] = [];
  const date = new Date().toISOString();
  const cpu = cpus();
  const summary = (): DataBenchResults => ({
    date,
    command: options.command,
    machine: { cpu: cpu[0]?.model ?? "unknown", cores: cpu.length, memoryGiB: Math.round(totalmem() / 2 ** 30) },
    versions: versions(),
    steps: STEPS,
    rows: [...rows],
  });
  try {
    for (const size of options.sizes) {
      const bytes = DATA_SIZES[size]!;
      const corpus = join(work, `corpus-${size}.txt`);
      options.log(`${size}: writing ${corpus}`);
      writeCorpus(corpus, bytes, lines);
      for (const tok of options.tokenizers) {
        const cache = join(work, `cache-${size}-${tok}`);
        mkdirSync(cache, { mode: 0o700 });
        const env = { ...process.env, XDG_CACHE_HOME: cache, BABYGPT_OWN_JOB: "1" };
        options.log(`${size} ${tok}: prepare`);
        const prep = await measure(["data", "prepare", "--data", corpus, "--tokenizer", DATA_TOKENIZERS[tok]!], env);
        const tokens = /tokens:\s+([\d,]+) train \/ ([\d,]+) val/.exec(prep.stdout);
        const vocab = /vocab ([\d,]+);/.exec(prep.stdout);
        const num = (s: string): number => Number(s.replace(/,/g, ""));
        const trainArgs = ["train", "specs/12-baby-gpt.yaml", "--data", corpus, "--iters", String(STEPS), "--set", `data.tokenizer=${SPEC_TOKENIZER[tok]!}`, "--set", "training.eval_iters=1", "--set", `training.eval_interval=${STEPS}`, "--quiet"];
        options.log(`${size} ${tok}: train ${STEPS} steps`);
        const firstStep = / parameters, vocab /;
        const train = await measure([...trainArgs, "--out", join(work, `run-${size}-${tok}`)], env, firstStep);
        const msPerIter = /; ([\d.]+) ms\/iter/.exec(train.stdout);
        options.log(`${size} ${tok}: second start (cache hit)`);
        const hitPrepare = await measure(["data", "prepare", "--data", corpus, "--tokenizer", DATA_TOKENIZERS[tok]!], env);
        const inProcess = await new Promise<number | undefined>((resolve) => {
          const child = spawn(process.execPath, ["--import", "tsx", join(PROJECT_ROOT, "bench/data-hit.ts"), corpus, DATA_TOKENIZERS[tok]!], { env, stdio: ["ignore", "pipe", "inherit"] });
          let out = "";
          child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
          child.on("close", () => resolve(/@hit ([\d.]+)/.exec(out) ? Number(/@hit ([\d.]+)/.exec(out)![1]) : undefined));
        });
        const hitTrain = await measure([...trainArgs.map((a) => (a === String(STEPS) ? "1" : a)), "--out", join(work, `run-${size}-${tok}-hit`)], env, firstStep);
        const row: DataBenchRow = {
          size,
          bytes,
          tokenizer: tok,
          prepare: { ...strip(prep), mbPerSec: bytes / 1e6 / prep.seconds, ...(tokens ? { tokens: { train: num(tokens[1]!), val: num(tokens[2]!) } } : {}), ...(vocab ? { vocab: num(vocab[1]!) } : {}) },
          train: { ...strip(train), ...(msPerIter ? { msPerIter: Number(msPerIter[1]) } : {}) },
          hit: { prepare: strip(hitPrepare), ...(inProcess !== undefined ? { inProcessMs: inProcess } : {}), train: strip(hitTrain) },
        };
        rows.push(row);
        options.onRow?.(summary());
        options.log(
          `${size} ${tok}: prepared in ${prep.seconds.toFixed(1)} s (${row.prepare.mbPerSec.toFixed(1)} MB/s, peak ${prep.peakRssMiB.toFixed(0)} MiB); ${STEPS} steps at peak ${train.peakRssMiB.toFixed(0)} MiB; hit: data ${hitPrepare.seconds.toFixed(2)} s (${inProcess?.toFixed(0) ?? "?"} ms in-process), first step after ${hitTrain.toFirstStep?.toFixed(2) ?? "?"} s (load ${prep.load.toFixed(1)})`,
        );
        for (const m of [prep, train, hitPrepare, hitTrain]) if (m.code !== 0) options.log(`  exit ${m.code}: ${m.stderrTail ?? ""}`);
        rmSync(cache, { recursive: true, force: true });
        rmSync(join(work, `run-${size}-${tok}`), { recursive: true, force: true });
        rmSync(join(work, `run-${size}-${tok}-hit`), { recursive: true, force: true });
      }
      rmSync(corpus, { force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return summary();
}

export function readDataBench(path: string): DataBenchResults {
  return JSON.parse(readFileSync(path, "utf8")) as DataBenchResults;
}
