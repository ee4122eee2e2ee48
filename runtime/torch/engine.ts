// The torch engine: `babygpt train <spec> --engine torch`. The TypeScript side does what it shares with the
// tfjs trainer — the spec, the tokenizer, the vocabulary and the split, the initial weights (so both engines
// start a seed from the same numbers), the run directory — points it at the token cache's train.bin and
// val.bin (uint16/uint32, nanoGPT's layout: runtime/data/prepare.ts), and launches torchrun on runtime/torch/train.py with the generated PyTorch
// module. The Python side trains (DDP, batches from our own PRNG, the spec's optimizer and schedule) and
// writes the checkpoint, meta.json and metrics.jsonl that eval, sample, plot and --resume read.
import { spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { emitPython, hasCommittedCode, loadSpec, lowerSpec, projectAt, torchPathFor, trainingBytes, type LoadedSpec } from "../../compiler/index.js";
import { writeFileAtomic } from "../../util/write-atomic.js";
import { selectBackend } from "../backend/select.js";
import { saveCheckpoint } from "../checkpoint/checkpoint.js";
import { tensorsOf } from "../checkpoint/model-state.js";
import { decodeSafetensors, encodeSafetensors } from "../checkpoint/safetensors.js";
import { formatBytes } from "../../util/format.js";
import { corpusRecord } from "../data/run-corpus.js";
import { UserError } from "../errors.js";
import { resolveModel } from "../model-source.js";
import { PROJECT_ROOT } from "../paths.js";
import { Prng } from "../random.js";
import type { EvalPoint, Reporter } from "../train/loop.js";
import type { RunLock } from "../train/run-lock.js";
import { appendOwnFile, ownDir } from "../train/own-files.js";
import { openRun, RunDir, type OpenedRun, type RunRequest } from "../train/open-run.js";
import { checkResumeOut, lockForResume, lockOrSay } from "../train/run-writer.js";
import { versions } from "../versions.js";
import { torchrunArguments } from "./launch.js";
import { cpuThreads, probeTorch, resolveDevice, type DeviceChoice, type TorchInstall } from "./probe.js";
import { failureSummary } from "./failure.js";

const TRAIN_PY = join(PROJECT_ROOT, "runtime/torch/train.py");
const EVENT_PREFIX = "@babygpt ";

export interface TorchOptions {
  /** Processes on this machine (one per GPU with --device cuda). */
  readonly nproc?: number;
  readonly device?: DeviceChoice;
  /** Machines in the job, this one's rank among them, and node 0's host:port. */
  readonly nnodes?: number;
  readonly nodeRank?: number;
  readonly rdzvEndpoint?: string | undefined;
  /** Sequences per forward pass on one process; default: the largest share of the batch that fits. */
  readonly microBatch?: number | undefined;
}

export interface TrainTorchOptions extends TorchOptions, RunRequest {
  readonly compile?: boolean;
  readonly shouldStop?: () => boolean;
  readonly reporter?: Reporter;
}

export interface TorchTrainResult {
  readonly runDir: string;
  readonly step: number;
  readonly status: "done" | "interrupted";
  /** What trained it, in words: "torch 2.3.1, cuda ×8 (nccl)". */
  readonly backend: { readonly name: string };
  readonly worldSize: number;
  /** This machine's rank: only node 0 writes the checkpoint and hears every step. */
  readonly nodeRank: number;
  readonly losses: readonly number[];
  readonly evals: readonly EvalPoint[];
  readonly tokensPerSec: number;
  readonly msPerIter: number;
  /** The exact loss over the whole validation split, computed by torch after the last step. */
  readonly exact?: { readonly loss: number; readonly tokens: number };
}

const silent: Reporter = { log: () => {}, step: () => {}, done: () => {} };

/** The largest divisor of `share` whose training memory fits `budget` bytes (0 when not even one sequence fits). */
function microBatchFor(share: number, fits: (batch: number) => boolean): number {
  for (let m = share; m >= 1; m--) if (share % m === 0 && fits(m)) return m;
  return 0;
}

/**
 * The PyTorch module for this model, as the compiler emits it now; the run directory keeps it as model.py,
 * which torchrun trains. For a spec of specs/ (or specs/zoo/) with no --set changing the model, a
 * generated/torch/<spec>.py that differs is said (or, with --no-compile, refused): generated/ is
 * `babygpt compile`'s to write, never a training's.
 */
function torchSource(specPath: string, loaded: LoadedSpec, sets: readonly string[], compile: boolean): { text: string; note?: string } {
  const ir = lowerSpec(loaded);
  const text = emitPython(ir);
  const project = projectAt(PROJECT_ROOT);
  const plain = sets.length > 0 ? emitPython(lowerSpec(loadSpec(specPath, { cwd: PROJECT_ROOT }))) : text;
  if (plain !== text || !hasCommittedCode(project, resolve(PROJECT_ROOT, loaded.files[0]!.path))) return { text };
  const file = torchPathFor(project, specPath);
  const current = existsSync(file) ? readFileSync(file, "utf8") : undefined;
  if (current === text) return { text };
  const state = current === undefined ? "missing" : "out of date";
  const shown = file.slice(PROJECT_ROOT.length + 1);
  if (!compile) throw new UserError(`${shown} is ${state}; run \`npx babygpt compile ${loaded.files[0]!.path}\` or drop --no-compile`);
  return { text, note: `${shown} is ${state}, so this run trains code emitted from ${loaded.files[0]!.path} (\`npx babygpt compile\` updates generated/)` };
}

export async function trainTorch(options: TrainTorchOptions): Promise<TorchTrainResult> {
  // Importing torch takes seconds: the probe runs while the spec, the corpus and the tokens are prepared,
  // and is stopped when something else refuses the job first.
  checkResumeOut(options.resume, options.out);
  // One writer per run, as in the tfjs trainer: this process holds the run's lock while torchrun trains.
  let lock = lockForResume(options.resume, (line) => (options.reporter ?? silent).log(line));
  const abort = new AbortController();
  const probing = probeTorch(abort.signal);
  probing.catch(() => undefined); // awaited in prepareAndLaunch; a refusal before then must not go unhandled
  try {
    return await prepareAndLaunch(options, probing, (dir) => (lock ??= lockOrSay(dir)));
  } finally {
    abort.abort();
    lock?.release();
  }
}

async function prepareAndLaunch(options: TrainTorchOptions, probing: Promise<TorchInstall>, lockRunDir: (dir: string) => RunLock): Promise<TorchTrainResult> {
  const report = options.reporter ?? silent;
  const nproc = options.nproc ?? 1;
  const nnodes = options.nnodes ?? 1;
  const nodeRank = options.nodeRank ?? 0;
  if (nodeRank >= nnodes) throw new UserError(`--node-rank ${nodeRank} must be below --nnodes ${nnodes}`);
  const world = nproc * nnodes;
  const run = await openRun(options, report, ({ spec }) => checkBatchSplit(spec.training.batch_size, { world, nproc, nnodes, microBatch: options.microBatch }));
  const { previous, spec, dataset, vocab } = run;
  const t = spec.training;
  const share = t.batch_size / world;
  const torch = await probing;
  const device = resolveDevice(torch, options.device ?? "auto", nproc);
  const runId = `babygpt-${randomUUID()}`;
  const torchrunArgs = (logDir: string): Promise<string[]> => torchrunArguments({ nproc, nnodes, nodeRank, endpoint: options.rdzvEndpoint }, runId, logDir);
  // The rendezvous is checked (a port in use) before anything is written.
  await torchrunArgs("logs");
  const batches = batchesFor(run, torch, device, nproc, share, options.microBatch);
  const source = torchSource(run.chosen.path, run.chosen.loaded, run.chosen.sets, options.compile ?? true);
  if (source.note) report.log(source.note);

  // The run directory, as the tfjs trainer lays it out, with torch/ for the job, torchrun's logs and the initial weights.
  const runDir = new RunDir(run, options, { lock: lockRunDir, model: { file: "model.py", text: source.text } });
  const work = join(runDir.dir, "torch");
  ownDir(work);
  ownDir(join(work, "logs")); // torchrun's
  appendOwnFile(join(work, "torchrun.log"), ""); // refused here, before torchrun starts, when a link stands there
  if (!previous) await writeInitialWeights(run, join(work, "init.safetensors"), options.compile ?? true, report);
  const threads = cpuThreads(torch, cpus().length, nproc);
  const job = torchJob(run, runDir, work, { device, ...batches, threads: Number(threads.OMP_NUM_THREADS) });
  rmSync(job.stop_file, { force: true });
  writeFileAtomic(join(work, "job.json"), `${JSON.stringify(job, null, 2)}\n`);

  report.log(`engine: torch ${torch.torch} (${torch.python}), ${device}${world > 1 ? `, ${world} processes${nnodes > 1 ? ` on ${nnodes} machines` : ""}` : ""}`);
  report.log(`run directory: ${runDir.dir}`);
  if (previous) {
    report.log(`resuming ${runDir.dir} at step ${previous.meta.step}`);
    if ((previous.meta as { engine?: string }).engine !== "torch") {
      report.log("this run was trained by the tfjs engine: weights, Adam moments and the batch stream carry over, but the losses match an uninterrupted run to float rounding, not bit for bit (bit-exact resume holds within one engine)");
    }
  }
  const { micro } = batches;
  report.log(`${spec.name}: vocab ${vocab} (${dataset.tokenizer.kind}), ${dataset.train.length.toLocaleString("en-US")} train / ${dataset.val.length.toLocaleString("en-US")} val tokens; batch ${t.batch_size} = ${world} × ${share}${micro < share ? ` in ${share / micro} micro-batches of ${micro}` : ""}`);
  // A stop before the ranks start (waiting for the other nodes, importing torch) ends the job at once; a
  // new run then gets the checkpoint of its initial weights, so it is a run that --resume continues.
  const initialCheckpoint = previous || nodeRank > 0 ? undefined : (): void => saveInitialCheckpoint(job, runDir, work, device, run);
  return launch(torch, await torchrunArgs(join(work, "logs")), runDir.dir, work, { device, world, nodeRank, threads, stopFile: job.stop_file, report, shouldStop: options.shouldStop, savedStep: previous?.meta.step, initialCheckpoint });
}

/** The batch must split evenly over the processes, and each process's share over its micro-batches. */
function checkBatchSplit(batch: number, how: { world: number; nproc: number; nnodes: number; microBatch: number | undefined }): void {
  const { world, nproc, nnodes, microBatch } = how;
  if (batch % world !== 0) {
    throw new UserError(`training.batch_size ${batch} does not split evenly over ${world} processes (${nnodes > 1 ? `${nnodes} machines × ` : ""}--nproc ${nproc}); choose a process count that divides it, or --set training.batch_size=…`);
  }
  if (microBatch !== undefined && (batch / world) % microBatch !== 0) {
    throw new UserError(`--micro-batch ${microBatch} does not divide the ${batch / world} sequences each process takes (batch ${batch} over ${world})`);
  }
}

/**
 * Sequences per forward pass. Memory per process is a GPU's own, or this machine's shared by its
 * processes; a share of the batch that does not fit runs as micro-batches, their gradients accumulated.
 * Evaluation needs no gradients: up to 256 windows a pass, where training memory would fit them.
 */
function batchesFor(run: OpenedRun, torch: TorchInstall, device: "cpu" | "cuda", nproc: number, share: number, microBatch: number | undefined): { micro: number; evalBatch: number } {
  const { ir, vocab } = run;
  const budget = device === "cuda" ? Math.min(...torch.cuda.devices.slice(0, nproc).map((d) => d.memory)) * 0.9 : (totalmem() * 0.8) / nproc;
  const micro = microBatch ?? microBatchFor(share, (b) => trainingBytes(ir, vocab, b) <= budget);
  if (micro === 0) {
    throw new UserError(`${run.shown}: one sequence of this model needs about ${formatBytes(trainingBytes(ir, vocab, 1))} to train, more than the ${formatBytes(budget)} each process has on ${device}`);
  }
  return { micro, evalBatch: Math.max(micro, microBatchFor(256, (b) => trainingBytes(ir, vocab, b) <= budget)) };
}

/** The initial weights come from the TypeScript model: a seed starts both engines from the same numbers. */
async function writeInitialWeights(run: OpenedRun, file: string, compile: boolean, report: Reporter): Promise<void> {
  await selectBackend("cpu");
  const ts = await resolveModel(run.chosen.path, run.chosen.loaded, { compile, sets: run.chosen.sets });
  if (ts.note) report.log(ts.note);
  const net = ts.module.createModel({ vocabSize: run.vocab, seed: run.spec.training.seed });
  writeFileAtomic(file, encodeSafetensors(await tensorsOf(net.namedParameters()), { format: "pt" }));
  net.dispose();
}

type TorchJob = ReturnType<typeof torchJob>;

/** job.json: what runtime/torch/train.py trains, from where, and what its checkpoints record. */
function torchJob(run: OpenedRun, runDir: RunDir, work: string, place: { device: "cpu" | "cuda"; micro: number; evalBatch: number; threads: number }) {
  const { previous, chosen, spec, ir, dataset, vocab } = run;
  const t = spec.training;
  // The token files are the token cache's own (nanoGPT's layout): train.py memory-maps them.
  const tokens = dataset.files;
  return {
    run_dir: runDir.dir,
    model_py: join(runDir.dir, "model.py"),
    model_hash: ir.modelHash,
    train_bin: tokens.train,
    val_bin: tokens.val,
    token_dtype: tokens.dtype,
    init_weights: previous ? null : join(work, "init.safetensors"),
    resume: previous !== undefined,
    device: place.device,
    micro_batch: place.micro,
    eval_batch: place.evalBatch,
    threads: place.threads,
    stop_file: join(work, "stop"),
    launcher_pid: process.pid,
    training: {
      batch_size: t.batch_size,
      block_size: spec.model.block_size,
      max_iters: t.max_iters,
      eval_interval: t.eval_interval,
      eval_iters: t.eval_iters,
      seed: t.seed,
      grad_clip: t.grad_clip,
      on_nan: t.on_nan,
      checkpoint_interval: t.checkpoint_interval,
      optimizer: t.optimizer,
      schedule: t.schedule,
    },
    meta: {
      spec: { name: spec.name, path: chosen.origin.path, sha256: chosen.origin.sha256, modelHash: ir.modelHash },
      // sha256 of spec.resolved.yaml, which every checkpoint records (files.spec)
      specFile: runDir.specFile ?? null,
      corpus: corpusRecord(run.corpus),
      tokenizer: dataset.tokenizer.state(),
      vocabSize: vocab,
      // The tfjs trainer's dropout stream, kept so the run resumes there; torch draws its masks its own way.
      rngDropout: previous?.meta.rng.dropout ?? new Prng(t.seed ^ 0x5bd1e995).state,
      overrides: chosen.sets,
      versions: versions(),
    },
  };
}

/** A new run stopped before its ranks started: the checkpoint of its initial weights, which --resume continues. */
function saveInitialCheckpoint(job: TorchJob, runDir: RunDir, work: string, device: string, run: OpenedRun): void {
  const init = join(work, "init.safetensors");
  saveCheckpoint(runDir.dir, decodeSafetensors(readFileSync(init), init).tensors, new Map(), {
    step: 0,
    spec: job.meta.spec,
    corpus: job.meta.corpus,
    tokenizer: job.meta.tokenizer,
    vocabSize: run.vocab,
    rng: { batches: new Prng(run.spec.training.seed).state, dropout: job.meta.rngDropout },
    optimizerStep: 0,
    backend: `torch-${device}`,
    engine: "torch",
    versions: job.meta.versions,
    overrides: run.chosen.sets,
    ...(runDir.specFile === undefined ? {} : { specFile: runDir.specFile }),
  });
}

interface LaunchContext {
  readonly device: "cpu" | "cuda";
  readonly world: number;
  readonly nodeRank: number;
  readonly threads: Readonly<Record<string, string>>;
  readonly stopFile: string;
  readonly report: Reporter;
  readonly shouldStop: (() => boolean) | undefined;
  readonly savedStep: number | undefined;
  /** Writes a new run's step-0 checkpoint, for a stop that comes before the ranks start. */
  readonly initialCheckpoint: (() => void) | undefined;
}

interface DoneEvent {
  readonly status: "done" | "interrupted";
  readonly step: number;
  readonly ms_per_iter: number | null;
  readonly tokens_per_sec: number | null;
  readonly exact: { readonly loss: number | null; readonly tokens: number } | null;
}

/** Runs torchrun to the end, relaying rank 0's events; resolves with the run's result or rejects with one line. */
function launch(torch: TorchInstall, torchrunArgs: readonly string[], runDir: string, work: string, ctx: LaunchContext): Promise<TorchTrainResult> {
  const { report } = ctx;
  const [command, ...pre] = torch.torchrun;
  const args = [...pre, ...torchrunArgs, TRAIN_PY, join(work, "job.json")];
  const log = join(work, "torchrun.log");
  appendOwnFile(log, `\n$ ${[command, ...args].join(" ")}\n`);
  // A process group of its own: the terminal's Ctrl-C reaches this process alone, which asks the ranks to
  // stop after their step (the stop file) rather than killing them mid-step.
  const child = spawn(command!, args, {
    cwd: PROJECT_ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      ...ctx.threads,
      PYTHONUNBUFFERED: "1",
      PYTHONDONTWRITEBYTECODE: "1",
    },
  });
  const killGroup = (): void => {
    try {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGTERM");
    } catch {
      // already gone
    }
  };
  // If this process exits first (a second Ctrl-C, a kill), the ranks must not train on unattended.
  // (Rank 0 also stops, after checkpointing, when it finds this process gone.)
  const onSignal = (signal: NodeJS.Signals): void => {
    killGroup();
    process.exit(128 + (signal === "SIGHUP" ? 1 : 15));
  };
  process.on("exit", killGroup);
  // With a stop request to poll (the CLI's, which hears SIGTERM and SIGHUP as it hears Ctrl-C), those
  // signals stop the ranks after their step's checkpoint, through the stop file; without one they end the job.
  const hangUp = ctx.shouldStop === undefined;
  if (hangUp) {
    process.once("SIGTERM", onSignal);
    process.once("SIGHUP", onSignal);
  }
  const unhook = (): void => {
    process.off("exit", killGroup);
    process.off("SIGTERM", onSignal);
    process.off("SIGHUP", onSignal);
  };
  const losses: number[] = [];
  const evals: EvalPoint[] = [];
  let done: DoneEvent | undefined;
  let error: string | undefined;
  let started: { world: number; devices: string[]; distributed: string | null; precision: string } | undefined;
  let savedStep = ctx.savedStep;
  let lastStep = 0;
  let stderrTail = "";
  const onEvent = (e: Record<string, unknown>): void => {
    switch (e["event"]) {
      case "start":
        started = e as unknown as typeof started;
        report.log(`devices: ${(e["devices"] as string[]).join(", ")}${e["distributed"] ? ` (DDP over ${String(e["distributed"])})` : ""}; ${String(e["precision"])}${e["sdpa"] ? "; flash attention (scaled_dot_product_attention)" : ""}`);
        break;
      case "eval":
        report.log(`step ${String(e["step"])}: train loss ${fmt(e["train"])}, val loss ${fmt(e["val"])}`);
        evals.push({ step: e["step"] as number, train: (e["train"] as number | null) ?? NaN, val: (e["val"] as number | null) ?? NaN });
        break;
      case "step":
        lastStep = e["step"] as number;
        losses.push(e["loss"] as number);
        report.step(lastStep, e["max"] as number, e["loss"] as number, e["tps"] as number);
        break;
      case "nan":
        report.log(`step ${String(e["step"])}: loss ${String(e["loss"])}, batch skipped (training.on_nan: skip)`);
        break;
      case "checkpoint":
        savedStep = e["step"] as number;
        break;
      case "done":
        done = e as unknown as DoneEvent;
        break;
      case "error":
        error = String(e["message"]);
        break;
    }
  };
  let buffered = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      if (line.startsWith(EVENT_PREFIX)) onEvent(JSON.parse(line.slice(EVENT_PREFIX.length)) as Record<string, unknown>);
      else if (line.trim()) appendOwnFile(log, `${line}\n`);
    }
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    appendOwnFile(log, chunk);
    stderrTail = (stderrTail + chunk).slice(-64_000);
  });
  let stoppedBeforeStart = false;
  const poll = setInterval(() => {
    if (!ctx.shouldStop?.()) return;
    if (started === undefined) {
      // The ranks are not training yet (waiting for their peers, which can take torchrun's whole
      // rendezvous timeout): they read no stop file there, so they are ended now; nothing was trained.
      if (!stoppedBeforeStart) {
        report.log("stopping before training began: ending the ranks now");
        killGroup();
        // torchrun's agent may sit in its rendezvous until that returns: it gets a few seconds, then SIGKILL
        setTimeout(() => {
          try {
            if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, "SIGKILL");
          } catch {
            // already gone
          }
        }, 5000).unref();
      }
      stoppedBeforeStart = true;
    } else if (!existsSync(ctx.stopFile)) appendOwnFile(ctx.stopFile, "stop\n");
  }, 100);
  return new Promise((resolvePromise, reject) => {
    child.on("error", (e) => {
      clearInterval(poll);
      unhook();
      reject(new UserError(`could not start torchrun (${torch.torchrun.join(" ")}): ${e.message}`));
    });
    child.on("close", (code, signal) => {
      clearInterval(poll);
      unhook();
      report.done();
      const kept =
        ctx.nodeRank > 0
          ? "node 0 holds the run's checkpoints"
          : savedStep === undefined
            ? "no checkpoint was written"
            : `the checkpoint in ${runDir} (step ${savedStep}) is intact; continue with \`babygpt train --resume ${runDir} --engine torch\``;
      if (stoppedBeforeStart && done === undefined) {
        try {
          if (savedStep === undefined) ctx.initialCheckpoint?.();
        } catch (e) {
          return reject(e);
        }
        const step = savedStep ?? 0;
        if (ctx.nodeRank === 0) report.log(`stopped before training began; ${runDir} holds the checkpoint of step ${step}; continue with \`babygpt train --resume ${runDir} --engine torch\``);
        return resolvePromise({ runDir, step, status: "interrupted", backend: { name: `torch ${torch.torch}, ${ctx.device}` }, worldSize: ctx.world, nodeRank: ctx.nodeRank, losses, evals, msPerIter: NaN, tokensPerSec: NaN });
      }
      if (error !== undefined) return reject(new UserError(error));
      if (code !== 0 || !done) {
        const why = failureSummary(stderrTail, code, signal);
        return reject(new UserError(`the torch engine stopped at step ${lastStep}: ${why}; ${kept} (torchrun's output: ${log})`));
      }
      const ms = done.ms_per_iter ?? NaN;
      const name = `torch ${torch.torch}, ${started?.devices[0]?.split(" ")[0] ?? ctx.device}${ctx.world > 1 ? ` ×${ctx.world} (${started?.distributed ?? "ddp"})` : ""}`;
      resolvePromise({
        runDir,
        step: done.step,
        status: done.status,
        backend: { name },
        worldSize: ctx.world,
        nodeRank: ctx.nodeRank,
        losses,
        evals,
        msPerIter: ms,
        tokensPerSec: done.tokens_per_sec ?? NaN,
        ...(done.exact && done.exact.loss !== null ? { exact: { loss: done.exact.loss, tokens: done.exact.tokens } } : {}),
      });
    });
  });
}

function fmt(x: unknown): string {
  return typeof x === "number" ? x.toFixed(4) : String(x ?? "NaN");
}
