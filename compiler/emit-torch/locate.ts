// The PyTorch target's own refusals, located in the spec: a layer name Python or torch.nn.Module already
// uses is reported at that layer's `name:` (file:line:col), as every other spec error is.
import { SpecError } from "../diagnostics/diagnostic.js";
import { childPointer, locate, type Pointer } from "../spec/located.js";
import type { LoadedSpec } from "../spec/load.js";
import type { ModelIR } from "../ir/model.js";
import { UnusableNameError } from "./context.js";
import { emitTorchModelFile } from "./model-file.js";

/** Where the spec writes `name: <name>` in its layer tree (the first such layer). */
function pointerOfName(layers: unknown, name: string, at: Pointer): Pointer | undefined {
  if (!Array.isArray(layers)) return undefined;
  for (const [i, layer] of layers.entries()) {
    const here = childPointer(at, i);
    const l = layer as { name?: unknown; body?: unknown };
    if (l.name === name) return childPointer(here, "name");
    const inner = pointerOfName(l.body, name, childPointer(here, "body"));
    if (inner) return inner;
  }
  return undefined;
}

/** emitTorchModelFile, with its refusals as located spec errors. */
export function emitTorchModule(ir: ModelIR, loaded: LoadedSpec): string {
  try {
    return emitTorchModelFile(ir);
  } catch (e) {
    if (!(e instanceof UnusableNameError)) throw e;
    const pointer = pointerOfName(loaded.spec.model.layers, e.layerName, "/model/layers") ?? "/model/layers";
    throw new SpecError([{ loc: locate(loaded.locs, pointer), message: e.message }]);
  }
}
