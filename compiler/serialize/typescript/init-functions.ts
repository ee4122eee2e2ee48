// The weight initialization of a generated TypeScript model: a function of the file that the model's
// constructor applies to every module in the order they were built (nanoGPT's _init_weights through
// apply), drawing from the Initializer the model seeds. One per model.init style; a Linear whose field
// carries an init rule (its initRule: "zero", or GPT-2's "residual" scaling) is drawn by that rule.
import type { ModelDecl } from "../../tree/nodes.js";

export interface InitFunction {
  readonly name: string;
  /** What it does, for the comment at the call. */
  readonly summary: string;
  readonly doc: string;
  /** Its body; its parameters are (module: Module, init: Initializer). */
  readonly body: string;
}

/** The init function for a style, with the lines of the rules the file's modules use. */
export function initFunction(style: ModelDecl["initStyle"], zeroRule: boolean): InitFunction {
  const zero = zeroRule ? 'if (module.initRule === "zero") init.constant(module.weight, 0); // starts at zero (zero_init)\n  else ' : "";
  switch (style) {
    case "gpt":
      return {
        name: "initGptWeights",
        summary: "GPT-2's initialization: N(0, 0.02) weights and zero biases",
        doc: "GPT-2's initialization: N(0, 0.02) for every linear and embedding weight, zero biases.",
        body: `if (module instanceof Linear) {
  ${zero}if (module.ownsWeight) init.normal(module.weight, 0.02); // a tied weight is the embedding's, drawn there
  if (module.bias) init.constant(module.bias, 0);
} else if (module instanceof Embedding) {
  init.normal(module.weight, 0.02);
}`,
      };
    case "gpt2":
      return {
        name: "initGpt2Weights",
        summary: "GPT-2's initialization with its scaled residual projections",
        doc: "GPT-2's initialization: N(0, 0.02) for every linear and embedding weight, zero biases; the last projection of every residual body N(0, 0.02/sqrt(R)), R the residual applications, so the stream's variance does not grow with depth.",
        body: `if (module instanceof Linear) {
  const std = module.initRule === "residual" ? 0.02 / Math.sqrt(config.nResidual) : 0.02;
  ${zero}if (module.ownsWeight) init.normal(module.weight, std); // a tied weight is the embedding's, drawn there
  if (module.bias) init.constant(module.bias, 0);
} else if (module instanceof Embedding) {
  init.normal(module.weight, 0.02);
}`,
      };
    case "torch":
      return {
        name: "initTorchDefaults",
        summary: "PyTorch's default initialization, drawn from babygpt's seeded generator",
        doc: "PyTorch's default initialization, drawn from babygpt's seeded generator: nn.Linear's U(±1/sqrt(in)) for weights and biases, nn.Embedding's N(0, 1).",
        body: `if (module instanceof Linear) {
  const bound = 1 / Math.sqrt(module.nIn);
  ${zero}if (module.ownsWeight) init.uniform(module.weight, bound); // a tied weight is the embedding's, drawn there
  if (module.bias) init.uniform(module.bias, bound);
} else if (module instanceof Embedding) {
  init.normal(module.weight, 1);
}`,
      };
  }
}
