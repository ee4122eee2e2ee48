// What `compile` emits: TypeScript for the tfjs runtime, PyTorch for the torch engine. Apart from
// compile.ts, which loads ts-morph, so that the CLI's help can name them without loading it.
export const TARGETS = ["typescript", "pytorch"] as const;
export type Target = (typeof TARGETS)[number];
