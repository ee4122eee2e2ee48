// The shape of a benchmark results file (bench/results/<date>.json): what bench.ts measures and writes,
// and what report.ts renders from it.
import type { OurSampling, SampleProfile, SamplingProtocol, TorchSampling } from "./sampling.js";

/** What was seen of a measurement that did not give a number: the facts its note is written from. */
export interface Observed {
  /** Seconds from the child's start to its end (or to the kill at the budget). */
  readonly seconds: number;
  /** Training steps that finished, warm-up ones included, and the first one's milliseconds. */
  readonly stepsDone: number;
  readonly firstStepMs?: number;
  /** The child's RSS at its last report. */
  readonly lastRssMiB?: number;
  /** The exit code or signal. */
  readonly exit: string;
  /** For a package that did not load: whether its directory exists under node_modules. */
  readonly packageDir?: { readonly path: string; readonly exists: boolean };
}

export interface OurResult {
  readonly backend: string;
  readonly status: "ok" | "partial" | "timeout" | "unavailable" | "failed";
  readonly note?: string;
  readonly iters: number;
  /** The run log's name for the backend: "native (OpenBLAS 0.3.21, 2 threads)". */
  readonly description?: string;
  readonly msPerIter?: number;
  readonly tokensPerSec?: number;
  readonly peakRssMiB?: number;
  readonly rssBeforeModelMiB?: number;
  /** The sampling protocol's runs (bench/sampling.ts): with the KV cache and without, in this process. */
  readonly sampling?: readonly OurSampling[];
  /** Results from before the protocol: one generation of 64 tokens from 1, the default path. */
  readonly sampleTokensPerSec?: number;
  /** Where a sampled token's time goes, before and after the decode plan (native, bigram and baby GPT). */
  readonly sampleProfile?: SampleProfile;
  /** A 768x768x768 float32 tf.matMul on this backend, in the same process. */
  readonly sgemmGflops?: number;
  readonly observed?: Observed;
  /** webgpu: the adapter, and whether it is a software one (WebGPU emulated on the CPU). */
  readonly adapter?: string;
  readonly software?: boolean;
}

export interface TorchSetting {
  /** Thread setting: OMPxBLAS on the pthread OpenBLAS, ompN on the OpenMP one. */
  readonly setting: string;
  /**
   * The training step on the generated module: model.py's (babygpt's) or nanogpt_style.py's (foreach).
   * "lecture", or absent, in results from before the generated modules: model.py's one module per head.
   */
  readonly style?: "babygpt" | "nanogpt" | "lecture";
  readonly blas_build?: "pthread" | "openmp";
  readonly ms_per_iter: number;
  readonly tokens_per_sec: number;
  /** The sampling protocol's run (bench/sampling.ts), in the workers of the first training step only. */
  readonly sampling?: TorchSampling;
  /** Results from before the protocol: up to 256 tokens one generate(idx, 1) at a time, within a time budget. */
  readonly sample_tokens_per_sec?: number;
  readonly peak_rss_mib?: number;
  readonly sgemm_gflops?: number;
  readonly error?: string;
}

export interface TorchResult {
  readonly available: boolean;
  readonly note?: string;
  readonly raw?: Record<string, unknown>;
  /** The fastest over every model and setting: the denominator of ours / PyTorch. */
  readonly best?: TorchSetting;
  readonly bestByStyle?: Readonly<Record<string, TorchSetting | null>>;
  readonly settings?: readonly TorchSetting[];
}

export interface BenchReport {
  readonly date: string;
  readonly machine: { readonly cpu: string; readonly cores: number; readonly memoryGiB: number };
  readonly versions: Record<string, string>;
  readonly quick: boolean;
  /** What both sides' sampling ran (absent in results from before the protocol). */
  readonly sampling?: SamplingProtocol;
  readonly configs: readonly {
    readonly name: string;
    readonly spec: string;
    readonly batch: number;
    readonly block: number;
    readonly params: number;
    readonly estimateMiB: number;
    /** Training FLOPs per token: 3x the IR's forward count (forward, and backward at twice that). */
    readonly trainFlopsPerToken?: number;
    readonly ours: readonly OurResult[];
    readonly torch: TorchResult;
  }[];
  readonly compile: { readonly perSpec: readonly { readonly spec: string; readonly ms: number }[]; readonly totalMs: number };
  readonly profile?: string;
}

/** One paired round of bench/paired-sampling.ts: our side's figures (tokens/s) and PyTorch's settings. */
export interface PairedSamplingRound {
  /** The decode plan with the KV cache, one sample, by the protocol. */
  readonly ours: number;
  /** The same without the cache. */
  readonly uncached: number;
  /** A batch of the protocol's size over one sample (tokens/s of every sample / of one). */
  readonly batchByProtocol?: number;
  /** The same within the context (no window sliding), over this many new tokens. */
  readonly batchWithinContext?: number;
  readonly withinContextTokens?: number;
  readonly torch: readonly { readonly setting: string; readonly tokensPerSec: number }[];
  /** ours over PyTorch's fastest setting in the round. */
  readonly ratio: number;
  /** The 1-minute load average after the round. */
  readonly load: number;
}

/** One config of bench/results/paired-sampling-<date>.json: medians over the rounds. */
export interface PairedSampling {
  readonly config: string;
  readonly spec: string;
  readonly rounds: readonly PairedSamplingRound[];
  readonly medianRatio: number;
  readonly oursMedian: number;
  readonly torchFastestMedian: number;
  readonly cacheOverNoCache: number;
  readonly batchByProtocol?: number;
  readonly batchWithinContext?: number;
  readonly withinContextTokens?: number;
}

/** One paired round of bench/batch-ceiling.ts (tokens/s count every sample's tokens). */
export interface BatchCeilingRound {
  /** Ours, the decode plan with the KV cache: one sample, and a batch, by the protocol. */
  readonly one: number;
  readonly batch: number;
  /** The same within the context (`withinContextTokens` new tokens). */
  readonly oneWithin: number;
  readonly batchWithin: number;
  /** PyTorch's generate, its fastest setting in the round: one row, and a batch of rows. */
  readonly torchOne: number;
  readonly torchBatch: number;
  /** The machine's product speed: the cores × this build's best single-threaded square sgemm (GFLOP/s). */
  readonly productGflops: number;
  /** The 1-minute load average after the round. */
  readonly load: number;
}

/** bench/results/batch-ceiling-<date>.json: a batch of samples against one, and what the machine allows. */
export interface BatchCeilingFile {
  readonly command: string;
  readonly date: string;
  readonly machine: { readonly cpu: string; readonly cores: number };
  readonly backend: string;
  readonly spec: string;
  readonly protocol: SamplingProtocol;
  readonly withinContextTokens: number;
  /** The products' floating-point operations of one generation (bench/plan-flops.ts): one sample, the batch. */
  readonly flops: { readonly one: number; readonly batch: number; readonly oneWithin: number; readonly batchWithin: number };
  readonly rounds: readonly BatchCeilingRound[];
}
