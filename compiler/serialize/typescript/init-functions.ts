// The weight initialization of a generated TypeScript model: a function of the file that the model's
// constructor applies to every module in the order they were built (nanoGPT's _init_weights through
// apply), drawing from the Initializer the model seeds. One per model.init style.
import type { ModelDecl } from "../../tree/nodes.js";

export interface InitFunction {
  readonly name: string;
  /** What it does, for the comment at the call. */
  readonly summary: string;
  readonly doc: string;
  /** Its body; its parameters are (module: Module, init: Initializer). */
  readonly body: string;
}

export const INIT_FUNCTIONS: { readonly [S in ModelDecl["initStyle"]]: InitFunction } = {
  gpt: {
    name: "initGptWeights",
    summary: "GPT-2's initialization: N(0, 0.02) weights and zero biases",
    doc: "GPT-2's initialization: N(0, 0.02) for every linear and embedding weight, zero biases.",
    body: `if (module instanceof Linear) {
  if (module.ownsWeight) init.normal(module.weight, 0.02); // a tied weight is the embedding's, drawn there
  if (module.bias) init.constant(module.bias, 0);
} else if (module instanceof Embedding) {
  init.normal(module.weight, 0.02);
}`,
  },
  torch: {
    name: "initTorchDefaults",
    summary: "PyTorch's default initialization, drawn from babygpt's seeded generator",
    doc: "PyTorch's default initialization, drawn from babygpt's seeded generator: nn.Linear's U(±1/sqrt(in)) for weights and biases, nn.Embedding's N(0, 1).",
    body: `if (module instanceof Linear) {
  const bound = 1 / Math.sqrt(module.nIn);
  if (module.ownsWeight) init.uniform(module.weight, bound); // a tied weight is the embedding's, drawn there
  if (module.bias) init.uniform(module.bias, bound);
} else if (module instanceof Embedding) {
  init.normal(module.weight, 1);
}`,
  },
};
