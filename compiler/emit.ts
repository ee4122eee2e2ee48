// The IR → generated source, for each target: the module tree is built once and written by the target's
// serializer.
import type { ModelIR } from "./ir/model.js";
import { emitModelFile, type EmitOptions } from "./serialize/typescript/model-file.js";
import { buildModuleFile } from "./tree/build.js";

export type { EmitOptions } from "./serialize/typescript/model-file.js";
export { DEFAULT_RUNTIME_IMPORT } from "./serialize/typescript/model-file.js";

/** The TypeScript model over runtime/nn. */
export function emitTypeScript(ir: ModelIR, options: EmitOptions = {}): string {
  return emitModelFile(buildModuleFile(ir), options);
}

export { emitPython } from "./emit-python.js";
