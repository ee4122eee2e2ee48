// The root of the IR: one model, as the emitter and the runtime see it.
import type { Diagnostic } from "../diagnostics/diagnostic.js";
import type { SpecFile } from "../spec/load.js";
import type { IrNode } from "./nodes/index.js";

export interface ModelIR {
  readonly kind: "model";
  /** The spec's name (`gpt`), used for files, runs and the generated index. */
  readonly name: string;
  /** Name of the generated model class (`GptModel`). */
  readonly className: string;
  readonly description: string;
  /** The spec file first, then the files it extends. */
  readonly files: readonly SpecFile[];
  readonly blockSize: number;
  readonly nEmbd: number | undefined;
  readonly init: "torch" | "gpt" | "gpt2";
  /** Residual applications in the model (a repeat counts each copy): gpt2's init scales by 1/sqrt of it. */
  readonly residuals: number;
  /** The logits are capped smoothly: z → logitSoftcap·tanh(z / logitSoftcap). */
  readonly logitSoftcap: number | undefined;
  /** The output layer's weight is the token table (the linear node says which, tiedTo). */
  readonly tieEmbeddings: boolean;
  readonly layers: readonly IrNode[];
  /** sha256 of the resolved `model` section: checkpoints record it to recognise their architecture. */
  readonly modelHash: string;
  /** Combinations that compile but train badly by construction, each located (the CLI prints them). */
  readonly warnings: readonly Diagnostic[];
}
