// The GPU kit's results file (<out>/gpu-kit-<date>-<time>.json): what `./run.sh` measured, written by
// kit/measure/run.ts and rendered by `babygpt bench --render-gpu` (bench/gpu-report.ts). Every part has
// a status and, where it has no figure, the reason in one line.

export const KIT_RESULTS_KIND = "babygpt-gpu-kit";

/** How a part ended: ok (it has its figures), failed or timeout (the note says why), skipped (not run). */
export type PartStatus = "ok" | "failed" | "timeout" | "skipped";

export interface PartOutcome {
  readonly status: PartStatus;
  /** Why it has no figures, or what limited them, in one line. */
  readonly note?: string;
  /** Seconds it ran, and the most it was given. */
  readonly seconds?: number;
  readonly limitSeconds?: number;
}

export interface KitInfo {
  readonly babygpt: string;
  /** The commit the kit was built from (with "+changes" when the worktree differed from it). */
  readonly commit: string;
  readonly built: string;
  readonly node: string;
  readonly tfjs: string;
  readonly dawn: string;
  readonly vulkanLoader: string;
}

export interface HostInfo {
  readonly hostname: string;
  readonly os: string;
  readonly cpu: string;
  readonly cores: number;
  readonly memoryGiB: number;
  readonly glibc: string;
  /** What run.sh found missing, in its one line (empty when nothing is). */
  readonly missing: string;
  /** The Vulkan driver run.sh pointed the loader at (NVIDIA's ICD file, or one it wrote), or "none found". */
  readonly vulkanDriver: string;
  /** Whose libstdc++ the kit's Node and dawn.node run with: the host's, or the kit's own where the host's is too old. */
  readonly libstdcxx: string;
}

export interface GpuInfo extends PartOutcome {
  readonly gpus: readonly { readonly name: string; readonly driver: string; readonly memoryMiB: number; readonly computeCapability?: string }[];
}

export interface AdapterInfo extends PartOutcome {
  readonly vendor?: string;
  readonly architecture?: string;
  readonly device?: string;
  readonly description?: string;
  /** Why it is WebGPU on the CPU (lavapipe, SwiftShader), or null for a GPU. */
  readonly software?: string | null;
  readonly features?: readonly string[];
  readonly limits?: Readonly<Record<string, number>>;
}

export interface StepFigures extends PartOutcome {
  /** Median milliseconds of a training step after the warm-up, and the tokens per second that makes. */
  readonly msPerStep?: number;
  readonly tokensPerSec?: number;
  /** Steps timed (the median is over these) and warm-up steps before them. */
  readonly timedSteps?: number;
  readonly warmupSteps?: number;
  /** Milliseconds of the first step (shader compilation on webgpu). */
  readonly firstStepMs?: number;
}

export interface TorchFigures extends StepFigures {
  readonly device?: string;
  readonly torch?: string;
  readonly cuda?: string;
  readonly precision?: string;
  /** Whether attention ran through F.scaled_dot_product_attention (flash attention on a GPU). */
  readonly sdpa?: boolean;
  /** The engine's own mean over every step after the first. */
  readonly meanMs?: number;
}

export interface ModelFigures {
  readonly name: string;
  readonly spec: string;
  readonly batch: number;
  readonly block: number;
  readonly params?: number;
  readonly webgpu: StepFigures;
  readonly torch: TorchFigures;
  /** webgpu's tokens/s over the torch engine's (1 = as fast; below 1 = slower), where both ran. */
  readonly webgpuOverTorch?: number;
}

export interface KernelRow {
  readonly op: string;
  readonly kernelMs: number;
  readonly compositeMs: number;
  readonly kernelDispatches: number;
  readonly compositeDispatches: number;
  readonly compositeAgrees: boolean;
}

export interface KernelFigures extends PartOutcome {
  readonly rows: readonly KernelRow[];
  readonly flags: readonly { readonly batchSize: number; readonly cpuForward: boolean; readonly stepMs: number }[];
}

export interface FullRun extends PartOutcome {
  readonly spec: string;
  readonly iterations?: number;
  readonly of?: number;
  readonly exactValLoss?: number;
  readonly valTokens?: number;
  readonly minutes?: number;
  readonly msPerStep?: number;
  readonly evals?: readonly { readonly step: number; readonly train: number; readonly val: number }[];
  readonly device?: string;
  readonly precision?: string;
  /** The run directory on the GPU machine (its checkpoint, metrics.jsonl). */
  readonly runDir?: string;
}

export interface KitResults {
  readonly kind: typeof KIT_RESULTS_KIND;
  readonly version: 1;
  readonly command: string;
  readonly date: string;
  readonly budgetSeconds: number;
  readonly seconds: number;
  readonly kit: KitInfo;
  readonly host: HostInfo;
  readonly corpus: { readonly path: string | null; readonly sha256: string | null; readonly note?: string };
  readonly gpu: GpuInfo;
  readonly adapter: AdapterInfo;
  readonly torch: PartOutcome & { readonly python?: string; readonly version?: string; readonly cuda?: boolean; readonly devices?: readonly string[] };
  readonly models: readonly ModelFigures[];
  readonly kernels: KernelFigures;
  readonly full: FullRun;
}
