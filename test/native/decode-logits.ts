// The logits a native decoder gives on a fixed schedule of steps, for decode-kernels.test.ts: in this
// process, and as a script run in a child (under BABYGPT_DECODE_KERNEL=avx2), which prints them with the
// kernels that ran: `node --import tsx test/native/decode-logits.ts SPEC [SET ...]`.
import { join } from "node:path";
import { decodePlan, loadSpec } from "../../compiler/index.js";
import { selectBackend } from "../../runtime/backend/select.js";
import { resolveModel } from "../../runtime/model-source.js";
import { loadAddon } from "../../runtime/native/addon.js";
import { backendSampling } from "../../runtime/sampling/backends.js";
import { PROJECT_ROOT } from "../helpers/project.js";

export interface ScheduledLogits {
  /** The decoders' kernels in the process that computed them. */
  readonly kernels: string;
  /** Per step: one position per sequence, or several (a prompt, a window), and the logits [B, vocab]. */
  readonly steps: { readonly wide: boolean; readonly logits: Float32Array }[];
}

const B = 3;
const VOCAB = 65;

/** Three sequences: one position at a time to the context's end, two windows, then a prompt of 3 positions. */
export async function scheduledLogits(spec: string, sets: readonly string[]): Promise<ScheduledLogits> {
  await selectBackend("native");
  const path = join(PROJECT_ROOT, spec);
  const { module, ir } = await resolveModel(path, loadSpec(path, { cwd: PROJECT_ROOT, sets }), { compile: false, sets });
  const plan = decodePlan(ir, VOCAB);
  if ("unsupported" in plan) throw new Error(`${spec}: no plan: ${plan.unsupported}`);
  const model = module.createModel({ vocabSize: VOCAB, seed: 7 }).eval();
  const decoder = backendSampling("native")!.decoder(plan, model, { batch: B, choice: { temperature: 1 }, logits: true });
  if ("unsupported" in decoder) throw new Error(decoder.unsupported);
  const block = plan.blockSize;
  // Token ids that do not depend on the logits, so both processes feed the same ones.
  const token = (b: number, n: number): number => (n * 7 + b * 13 + 1) % VOCAB;
  // Sequence positions from … from + T − 1 of each sequence.
  const feed = (T: number, from: number): Int32Array => Int32Array.from({ length: B * T }, (_, i) => token(Math.floor(i / T), from + (i % T)));
  const steps: ScheduledLogits["steps"] = [];
  const uniforms = new Float64Array(B).fill(0.5);
  const run = (T: number, past: number, from = past): void => {
    decoder.step(feed(T, from), T, past, uniforms);
    steps.push({ wide: T > 1, logits: Float32Array.from(decoder.logits!) });
  };
  try {
    for (let past = 0; past < block; past++) run(1, past);
    run(block, 0, 1); // the window slides: positions 1 … block, then 2 … block + 1
    run(block, 0, 2);
    run(3, 0); // a prompt of 3 positions, the cache started afresh
  } finally {
    decoder.dispose();
  }
  return { kernels: loadAddon().decoderKernels(), steps };
}

if (process.argv[1]?.endsWith("decode-logits.ts")) {
  const [spec, ...sets] = process.argv.slice(2);
  const r = await scheduledLogits(spec!, sets);
  process.stdout.write(JSON.stringify({ kernels: r.kernels, steps: r.steps.map((s) => ({ wide: s.wide, logits: Buffer.from(s.logits.buffer).toString("base64") })) }));
}
