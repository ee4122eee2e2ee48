// The IR → the PyTorch module, apart from the TypeScript target so a caller that needs only Python (the
// torch engine) loads no TypeScript tooling.
import type { ModelIR } from "./ir/model.js";
import { emitTorchModelFile } from "./serialize/python/model-file.js";
import { buildModuleFile } from "./tree/build.js";

export function emitPython(ir: ModelIR): string {
  return emitTorchModelFile(buildModuleFile(ir));
}
