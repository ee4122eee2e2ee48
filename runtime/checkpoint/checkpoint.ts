// Checkpoints in a run directory: model.safetensors, optimizer.safetensors and meta.json.
//
// Writing never puts the last good checkpoint at risk. The three files are first written (and fsynced)
// into <run>/.next/, meta.json last; only then are they renamed over the live files, meta.json last.
// Opening a run first finishes an interrupted promotion (if .next/meta.json exists, .next is complete)
// or discards an incomplete .next. meta.json records each file's sha256, so a mixed or damaged set is
// detected rather than loaded.
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, type Stats } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../../util/write-atomic.js";
import { UserError } from "../errors.js";
import type { CorpusRecord } from "../data/run-corpus.js";
import type { TokenizerState } from "../data/tokenizer.js";
import type { PrngState } from "../random.js";
import { decodeSafetensors, encodeSafetensors, type NamedTensor, type TensorMap } from "./safetensors.js";

export const CHECKPOINT_FORMAT = "babygpt-checkpoint/1";
export const FILES = ["model.safetensors", "optimizer.safetensors", "meta.json"] as const;

export interface CheckpointMeta {
  readonly format: typeof CHECKPOINT_FORMAT;
  readonly step: number;
  readonly spec: { readonly name: string; readonly path: string; readonly sha256: string; readonly modelHash: string };
  /** The corpus the run trains on; eval and --resume use it by default (absent in runs made before it was recorded). */
  readonly corpus?: CorpusRecord;
  readonly tokenizer: TokenizerState;
  readonly vocabSize: number;
  readonly rng: { readonly batches: PrngState; readonly dropout: PrngState };
  readonly optimizerStep: number;
  readonly backend: string;
  /** "torch" for a run the torch engine wrote (absent for the tfjs trainer's). */
  readonly engine?: string;
  /** The faster backends `auto` passed over, each with its reason. */
  readonly backendSkipped?: readonly string[];
  /** The GPU adapter the run trained on, on webgpu (vendor, architecture, device, description). */
  readonly adapter?: { readonly vendor: string; readonly architecture: string; readonly device: string; readonly description: string; readonly software?: string };
  readonly versions: Readonly<Record<string, string>>;
  readonly lastEval?: { readonly step: number; readonly train: number; readonly val: number };
  /** The --set overrides the run was started with (a resume applies them again). */
  readonly overrides: readonly string[];
  /**
   * sha256 of the two tensor files, so a mismatched set is caught, and of the run's spec.resolved.yaml,
   * which is checked before anything is built from it (absent in runs made before it was recorded).
   */
  readonly files: { readonly model: string; readonly optimizer: string; readonly spec?: string };
  readonly savedAt: string;
}

export interface Checkpoint {
  readonly meta: CheckpointMeta;
  readonly model: Map<string, NamedTensor>;
  readonly optimizer: Map<string, NamedTensor>;
}

const sha256 = (chunks: readonly Uint8Array[]): string => {
  const h = createHash("sha256");
  for (const c of chunks) h.update(c);
  return h.digest("hex");
};

/** How files are written; tests substitute a writer that fails like a full disk. */
export type FileWriter = (file: string, data: string | readonly Uint8Array[]) => void;

/** What a checkpoint's writer says in meta.json; `specFile` is the sha256 of the run's spec.resolved.yaml. */
export type CheckpointFields = Omit<CheckpointMeta, "files" | "format" | "savedAt"> & { readonly specFile?: string };

/** Writes a checkpoint; on failure the previous one is untouched and the error says why. */
export function saveCheckpoint(runDir: string, model: TensorMap, optimizer: TensorMap, fields: CheckpointFields, write: FileWriter = writeFileAtomic): void {
  const { specFile, ...meta } = fields;
  const next = join(runDir, ".next");
  try {
    rmSync(next, { recursive: true, force: true });
    // Not recursive: the run directory exists, and a recursive mkdir reports a read-only disk as ENOENT.
    mkdirSync(next);
    const modelBytes = encodeSafetensors(model, { format: "pt", step: String(meta.step) });
    const optBytes = encodeSafetensors(optimizer, { step: String(meta.optimizerStep) });
    write(join(next, "model.safetensors"), modelBytes);
    write(join(next, "optimizer.safetensors"), optBytes);
    const full: CheckpointMeta = {
      format: CHECKPOINT_FORMAT,
      ...meta,
      files: { model: sha256(modelBytes), optimizer: sha256(optBytes), ...(specFile === undefined ? {} : { spec: specFile }) },
      savedAt: new Date().toISOString(),
    };
    write(join(next, "meta.json"), `${JSON.stringify(full, null, 2)}\n`);
  } catch (e) {
    try {
      rmSync(next, { recursive: true, force: true });
    } catch {
      // a read-only directory: nothing was written into it either
    }
    const why = whyWriteFailed(e) ?? (e as Error).message;
    throw new UserError(`could not write the checkpoint in ${runDir} (${why}); the previous checkpoint is intact`);
  }
  promote(runDir);
}

/** A write error the user can fix (full disk, read-only directory) in plain words; undefined for others. */
export function whyWriteFailed(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOSPC" || code === "EDQUOT") return "the disk is full";
  if (code === "EACCES" || code === "EROFS" || code === "EPERM") return "the run directory is not writable";
  return undefined;
}

/** Moves a complete .next over the live files; idempotent, so recovery can call it after a crash. */
function promote(runDir: string): void {
  const next = join(runDir, ".next");
  for (const f of FILES) {
    const src = join(next, f);
    if (existsSync(src)) renameSync(src, join(runDir, f));
  }
  rmSync(next, { recursive: true, force: true });
}

const lstatOrUndefined = (path: string): Stats | undefined => {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
};

/**
 * Whether `.next` is a checkpoint this run's writer left complete: a folder of the run's own (not a link
 * to another run's), holding regular files only, whose meta.json names the same model as the run's and
 * whose tensor files are the ones it records (each in .next, or already promoted). Anything else is not
 * moved into the run.
 */
function promotable(runDir: string, next: string): boolean {
  // (a writer killed mid-file leaves its temporary file, .<name>.<pid>…tmp, which is not promoted)
  const names = readdirSync(next).filter((n) => !/^\..*\.tmp$/.test(n));
  if (!names.includes("meta.json") || names.some((n) => !(FILES as readonly string[]).includes(n) || !lstatOrUndefined(join(next, n))?.isFile())) return false;
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(readFileSync(join(next, "meta.json"), "utf8")) as CheckpointMeta;
  } catch {
    return false;
  }
  if (typeof meta !== "object" || meta === null || meta.format !== CHECKPOINT_FORMAT || missingMetaField(meta) !== undefined) return false;
  if (lstatOrUndefined(join(runDir, "meta.json"))?.isFile()) {
    try {
      const live = JSON.parse(readFileSync(join(runDir, "meta.json"), "utf8")) as CheckpointMeta;
      if (live.spec?.modelHash !== undefined && live.spec.modelHash !== meta.spec.modelHash) return false;
    } catch {
      // a damaged live meta.json: the complete new checkpoint replaces it
    }
  }
  const matches = (file: string, expected: string): boolean => {
    const staged = join(next, file);
    const path = existsSync(staged) ? staged : join(runDir, file);
    return lstatOrUndefined(path)?.isFile() === true && sha256([readFileSync(path)]) === expected;
  };
  return matches("model.safetensors", meta.files.model) && matches("optimizer.safetensors", meta.files.optimizer);
}

/**
 * Finishes or discards a checkpoint write that a crash interrupted. Never follows a link: a `.next` that is
 * a link (or a file) is removed as a link, and never moves into the run what its writer did not leave there.
 */
export function recoverCheckpoint(runDir: string): void {
  const next = join(runDir, ".next");
  const st = lstatOrUndefined(next);
  if (st === undefined) return;
  if (st.isDirectory() && promotable(runDir, next)) promote(runDir);
  else rmSync(next, { recursive: true, force: true });
}

export function hasCheckpoint(runDir: string): boolean {
  return existsSync(join(runDir, "meta.json")) || existsSync(join(runDir, ".next", "meta.json"));
}

/**
 * Reads the checkpoint of a run. `recover` (the default, for the run's writer) first finishes or discards
 * a write a crash interrupted; a reader of a run that another process is training passes false, since a
 * .next/ there is a checkpoint being written.
 */
export function loadCheckpoint(runDir: string, options: { recover?: boolean } = {}): Checkpoint {
  if (!existsSync(runDir)) throw new UserError(`${runDir}: no such run directory`);
  if (options.recover ?? true) recoverCheckpoint(runDir);
  const metaPath = join(runDir, "meta.json");
  if (!existsSync(metaPath)) {
    throw new UserError(`${runDir} has no meta.json, so it holds no complete checkpoint (not a babygpt run, or its first checkpoint was never finished)`);
  }
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(readFileSync(metaPath, "utf8")) as CheckpointMeta;
  } catch {
    throw new UserError(`${metaPath} is not valid JSON`);
  }
  if (typeof meta !== "object" || meta === null || meta.format !== CHECKPOINT_FORMAT) {
    throw new UserError(`${metaPath} is not a babygpt checkpoint (format ${JSON.stringify((meta as Partial<CheckpointMeta> | null)?.format)})`);
  }
  const damaged = missingMetaField(meta);
  if (damaged) throw new UserError(`${metaPath} is damaged: ${damaged} is missing or has the wrong type`);
  const read = (file: string, expected: string): Map<string, NamedTensor> => {
    const path = join(runDir, file);
    if (!existsSync(path)) throw new UserError(`${runDir} is missing ${file}`);
    const bytes = readFileSync(path);
    const actual = sha256([bytes]);
    const decoded = decodeSafetensors(bytes, path);
    if (actual !== expected) throw new UserError(`${path} does not match its meta.json (sha256 ${actual.slice(0, 12)}…, recorded ${expected.slice(0, 12)}…); the file was changed or damaged`);
    return decoded.tensors;
  };
  return { meta, model: read("model.safetensors", meta.files.model), optimizer: read("optimizer.safetensors", meta.files.optimizer) };
}

/** The first field that loading, resuming or sampling relies on and that meta.json lacks (a hand-edited file). */
function missingMetaField(meta: CheckpointMeta): string | undefined {
  const m = meta as unknown as Record<string, unknown>;
  const obj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  const int = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;
  const str = (v: unknown): boolean => typeof v === "string";
  const state = (v: unknown): boolean => Array.isArray(v) && v.length === 4 && v.every((x) => Number.isInteger(x));
  const spec = m["spec"];
  const tok = m["tokenizer"];
  const rng = m["rng"];
  const files = m["files"];
  const checks: [string, boolean][] = [
    ["step", int(m["step"])],
    ["optimizerStep", int(m["optimizerStep"])],
    ["vocabSize", int(m["vocabSize"]) && (m["vocabSize"] as number) > 0],
    ["spec", obj(spec) && str(spec["name"]) && str(spec["path"]) && str(spec["modelHash"])],
    ["tokenizer", obj(tok) && ((tok["kind"] === "char" && str(tok["chars"])) || (tok["kind"] === "gpt2" && (tok["compact"] === null || (Array.isArray(tok["compact"]) && tok["compact"].every((x) => int(x))))) || (tok["kind"] === "bpe" && Array.isArray(tok["merges"]) && tok["merges"].every((x) => int(x))))],
    ["rng", obj(rng) && state(rng["batches"]) && state(rng["dropout"])],
    ["overrides", Array.isArray(m["overrides"]) && (m["overrides"] as unknown[]).every(str)],
    ["corpus", m["corpus"] === undefined || (obj(m["corpus"]) && str(m["corpus"]["path"]) && int(m["corpus"]["bytes"]) && str(m["corpus"]["sha256"]))],
    ["files", obj(files) && str(files["model"]) && str(files["optimizer"]) && (files["spec"] === undefined || str(files["spec"]))],
  ];
  return checks.find(([, ok]) => !ok)?.[0];
}
