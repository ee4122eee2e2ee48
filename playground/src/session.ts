// One model in the page: built from the compiled spec, trained step by step (the CLI trainer's step,
// batches, schedule and loss estimates), sampled, drawn as attention maps, and saved as the run files
// `babygpt sample` and `babygpt eval` read (model.safetensors, optimizer.safetensors, meta.json,
// spec.resolved.yaml), or loaded back from them.
import { stringify } from "yaml";
import { attentionMaps, type AttentionMap } from "../../runtime/attention/maps.js";
import { CHECKPOINT_FORMAT, type CheckpointMeta } from "../../runtime/checkpoint/checkpoint.js";
import { loadParameters, tensorsOf, toTensorMap } from "../../runtime/checkpoint/model-state.js";
import { decodeSafetensors, encodeSafetensors } from "../../runtime/checkpoint/safetensors.js";
import { getBatch } from "../../runtime/data/batches.js";
import { buildDataset, checkSplits, type Dataset } from "../../runtime/data/dataset.js";
import { buildTokenizer, tokenizerFromState, type Tokenizer } from "../../runtime/data/tokenizer.js";
import { UserError } from "../../runtime/errors.js";
import type { LanguageModel } from "../../runtime/nn/language-model.js";
import { tf } from "../../runtime/nn/tf.js";
import { Prng } from "../../runtime/random.js";
import { pickToken } from "../../runtime/sample.js";
import { estimateLoss } from "../../runtime/train/evaluate.js";
import { Optimizer } from "../../runtime/train/optimizer.js";
import { learningRate } from "../../runtime/train/schedule.js";
import { trainStep, type NamedParameters } from "../../runtime/train/step.js";
import { loadModelModule, type Compiled } from "./compile.js";
import { sha256Bytes } from "./shims/crypto.js";

type Ok = Extract<Compiled, { ok: true }>;

export interface EvalPoint {
  readonly step: number;
  readonly train: number;
  readonly val: number;
}

export interface TrainSettings {
  /** Train until this step. */
  readonly until: number;
  readonly evalEvery: number;
  readonly evalBatches: number;
}

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const concat = (chunks: readonly Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    out.set(c, off);
    off += c.length;
  }
  return out;
};

export class Session {
  readonly compiled: Ok;
  readonly tokenizer: Tokenizer;
  readonly model: LanguageModel;
  readonly params: NamedParameters;
  readonly optimizer: Optimizer;
  readonly batchRng: Prng;
  readonly losses: { step: number; loss: number }[] = [];
  readonly evals: EvalPoint[] = [];
  step = 0;
  #paused = false;
  #running = false;

  private constructor(compiled: Ok, tokenizer: Tokenizer) {
    this.compiled = compiled;
    this.tokenizer = tokenizer;
    const t = compiled.loaded.spec.training;
    this.model = loadModelModule(compiled.ir).createModel({ vocabSize: tokenizer.vocabSize, seed: t.seed });
    this.params = this.model.namedParameters();
    this.optimizer = new Optimizer(t.optimizer);
    this.batchRng = new Prng(t.seed);
    this.model.dropoutSeeds.reseed(t.seed ^ 0x5bd1e995);
  }

  /** A fresh model for the spec, with the tokenizer the spec builds from the corpus. */
  static fresh(compiled: Ok, corpus: string): Session {
    const d = compiled.loaded.spec.data;
    return new Session(compiled, buildTokenizer(d.tokenizer, corpus, d.compact_vocab));
  }

  /** A model from run files; `compiled` is their spec.resolved.yaml compiled. */
  static fromFiles(compiled: Ok, files: ReadonlyMap<string, Uint8Array>): Session {
    const need = (name: string): Uint8Array => {
      const f = files.get(name);
      if (!f) throw new UserError(`choose the run's ${name} too (model.safetensors, optimizer.safetensors, meta.json and spec.resolved.yaml)`);
      return f;
    };
    const meta = JSON.parse(new TextDecoder().decode(need("meta.json"))) as CheckpointMeta;
    if (meta.format !== CHECKPOINT_FORMAT) throw new UserError("meta.json is not a babygpt checkpoint");
    // as the CLI checks it: the spec's hash when meta.json records one, else the model hash below
    const specHash = hex(sha256Bytes(need("spec.resolved.yaml")));
    if (meta.files.spec !== undefined && meta.files.spec !== specHash) throw new UserError("spec.resolved.yaml does not match its meta.json (the file was changed or damaged)");
    if (meta.spec.modelHash !== compiled.ir.modelHash) throw new UserError("spec.resolved.yaml does not describe the model in meta.json");
    const session = new Session(compiled, tokenizerFromState(meta.tokenizer));
    loadParameters(session.model, decodeSafetensors(need("model.safetensors"), "model.safetensors").tensors, "model.safetensors");
    const slots = toTensorMap(decodeSafetensors(need("optimizer.safetensors"), "optimizer.safetensors").tensors);
    try {
      session.optimizer.restore(meta.optimizerStep, slots, session.params);
    } finally {
      tf.dispose([...slots.values()]);
    }
    session.batchRng.state = meta.rng.batches;
    session.model.dropoutSeeds.state = meta.rng.dropout;
    session.step = meta.step;
    if (meta.lastEval) session.evals.push(meta.lastEval);
    return session;
  }

  get running(): boolean {
    return this.#running;
  }

  get paused(): boolean {
    return this.#paused;
  }

  pause(): void {
    this.#paused = true;
  }

  dataset(corpus: string): Dataset {
    const ds = buildDataset({ text: corpus, path: "the loaded text", source: "--data", sha256: "", bytes: new TextEncoder().encode(corpus).length }, this.compiled.loaded.spec.data, this.tokenizer);
    checkSplits(ds, this.model.blockSize, "the loaded text");
    return ds;
  }

  /**
   * Trains until settings.until or a pause, yielding to the page after every step; onProgress after each
   * step and evaluation. Resolves with the step it stopped at.
   */
  async train(corpus: string, settings: TrainSettings, onProgress: () => void): Promise<number> {
    if (this.#running) throw new Error("already training");
    const ds = this.dataset(corpus);
    const { spec } = this.compiled.loaded;
    const t = spec.training;
    this.#running = true;
    this.#paused = false;
    // (await on the runtime's readers: they become asynchronous where a backend has no synchronous read.)
    const evaluate = async (): Promise<void> => {
      this.model.eval();
      // (undefined only for an estimate cut short, which the page never asks for.)
      const train = (await estimateLoss(this.model, ds.train, t.batch_size, settings.evalBatches, t.seed, this.step)) ?? NaN;
      const val = (await estimateLoss(this.model, ds.val, t.batch_size, settings.evalBatches, t.seed + 1, this.step)) ?? NaN;
      this.model.train();
      this.evals.push({ step: this.step, train, val });
      onProgress();
    };
    try {
      this.model.train();
      while (this.step < settings.until && !this.#paused) {
        if (this.step % settings.evalEvery === 0 && this.evals.at(-1)?.step !== this.step) await evaluate();
        const lr = learningRate(this.step, t.optimizer.lr, t.schedule, settings.until);
        const { x, y } = getBatch(ds.train, t.batch_size, spec.model.block_size, this.batchRng);
        try {
          const r = await trainStep(this.model, this.params, x, y, this.optimizer, lr, t.grad_clip);
          if (!r.applied) throw new UserError(`the loss became ${r.loss} at step ${this.step}; lower the learning rate`);
          this.losses.push({ step: this.step, loss: r.loss });
        } finally {
          tf.dispose([x, y]);
        }
        this.step += 1;
        onProgress();
        await new Promise((r) => setTimeout(r, 0));
      }
      if (!this.#paused && this.evals.at(-1)?.step !== this.step) await evaluate();
    } finally {
      this.model.eval();
      this.#running = false;
    }
    return this.step;
  }

  /** Streams `tokens` tokens after `prompt` (the CLI sampler's choice rule), yielding to the page between tokens. */
  async sample(prompt: string, tokens: number, temperature: number, topK: number | undefined, seed: number, onText: (text: string) => void): Promise<string> {
    const ids = Array.from(this.tokenizer.encode(prompt));
    const rng = new Prng(seed);
    const produced: number[] = [];
    this.model.eval();
    for (let n = 0; n < tokens; n++) {
      const window = ids.slice(-this.model.blockSize);
      const last = tf.tidy(() => {
        const { logits } = this.model.forward(tf.tensor2d(window, [1, window.length], "int32"));
        const V = logits.shape[2];
        return tf.reshape(tf.slice(logits, [0, window.length - 1, 0], [1, 1, V]), [V]);
      });
      const values = (await last.data()) as Float32Array;
      last.dispose();
      const next = pickToken(values, temperature, topK, rng);
      ids.push(next);
      produced.push(next);
      onText(this.tokenizer.decode(produced));
      await new Promise((r) => setTimeout(r, 0));
    }
    return this.tokenizer.decode(produced);
  }

  /** The maps of every head for `prompt` (its last block_size tokens), and the tokens as text. */
  async attention(prompt: string): Promise<{ maps: AttentionMap[]; tokens: string[] }> {
    const ids = Array.from(this.tokenizer.encode(prompt)).slice(-this.model.blockSize);
    this.model.eval();
    return { maps: await attentionMaps(this.model, ids), tokens: ids.map((id) => this.tokenizer.decode([id])) };
  }

  /** The run files, as the CLI trainer writes them. */
  async files(backend: string, versions: Record<string, string>): Promise<Map<string, Uint8Array>> {
    const { loaded } = this.compiled;
    const model = concat(encodeSafetensors(await tensorsOf(this.params), { format: "pt", step: String(this.step) }));
    const optimizer = concat(encodeSafetensors(await tensorsOf(this.optimizer.state().slots), { step: String(this.optimizer.step) }));
    const last = this.evals.at(-1);
    const enc = new TextEncoder();
    const spec = enc.encode(`# ${loaded.files[0]!.path} (edited in the playground), after extends and defaults\n${stringify(loaded.spec)}`);
    const meta: CheckpointMeta = {
      format: CHECKPOINT_FORMAT,
      step: this.step,
      spec: { name: loaded.spec.name, path: loaded.files[0]!.path, sha256: loaded.files[0]!.sha256, modelHash: this.compiled.ir.modelHash },
      tokenizer: this.tokenizer.state(),
      vocabSize: this.tokenizer.vocabSize,
      rng: { batches: this.batchRng.state, dropout: this.model.dropoutSeeds.state },
      optimizerStep: this.optimizer.step,
      backend,
      versions,
      ...(last ? { lastEval: last } : {}),
      overrides: [],
      files: { model: hex(sha256Bytes(model)), optimizer: hex(sha256Bytes(optimizer)), spec: hex(sha256Bytes(spec)) },
      savedAt: new Date().toISOString(),
    };
    return new Map([
      ["model.safetensors", model],
      ["optimizer.safetensors", optimizer],
      ["meta.json", enc.encode(`${JSON.stringify(meta, null, 2)}\n`)],
      ["spec.resolved.yaml", spec],
    ]);
  }

  dispose(): void {
    this.model.dispose();
    this.optimizer.dispose();
  }
}
