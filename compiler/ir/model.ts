// The root of the IR: one model, as the emitter and the runtime see it.
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
  readonly init: "torch" | "gpt";
  /** The output layer's weight is the token table (the linear node says which, tiedTo). */
  readonly tieEmbeddings: boolean;
  readonly layers: readonly IrNode[];
  /** sha256 of the resolved `model` section: checkpoints record it to recognise their architecture. */
  readonly modelHash: string;
}
