// What "the same numbers" means between babygpt's TypeScript model and the PyTorch module compiled from
// the same spec: relative errors (see relativeError in compare.ts) per kind of check. The parity tests
// and `babygpt parity` both judge by these, so a spec the command passes is one the tests would pass.

/** The kinds of check, in the order they are reported. */
export const PARITY_KINDS = ["logits", "loss", "grad", "steps"] as const;
export type ParityKind = (typeof PARITY_KINDS)[number];

export type Tolerances = Readonly<Record<ParityKind, number>>;

/**
 * Measured against PyTorch 1.13 with OpenBLAS, the worst errors over all specs are about 6e-7 for logits
 * and loss, 1e-4 for a gradient (a deep stack without residuals, where terms cancel) and 4e-6 for the
 * losses after optimizer steps (Adam amplifies rounding in near-zero gradients). Logits are held to 1e-5
 * and step losses to 1e-4, tighter than 1e-4 and 1e-3, which would let real differences through: GELU's
 * tanh approximation moves the logits by 2e-5, and AdamW sparing biases and LayerNorm gains from weight
 * decay moves the losses by 3e-4 to 7e-4 within five steps.
 */
export const PARITY_TOLERANCES: Tolerances = { logits: 1e-5, loss: 1e-5, grad: 1e-3, steps: 1e-4 };

/** Gradients no larger than this are compared absolutely (see relativeError): 1e-3 of it is 1e-9. */
export const GRAD_FLOOR = 1e-6;

/** What each kind compares, for tables and help. */
export const KIND_MEANING: Readonly<Record<ParityKind, string>> = {
  logits: "the logits of one batch",
  loss: "its cross-entropy",
  grad: "each parameter's gradient after one backward pass",
  steps: "the losses over a few steps of each optimizer",
};
