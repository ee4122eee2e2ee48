// The names generated code already uses, in either target, which a layer or a block class may not take:
// a layer becomes a property of its class (TypeScript camel-cases it) and an attribute of a
// torch.nn.Module, and a block becomes a class of the file. Lowering refuses them at the spec's line.
import { PY_TAKEN_NAMES } from "../text/python.js";
import { TS_TAKEN_NAMES } from "../text/typescript.js";

/**
 * Members every generated TypeScript layer class inherits (runtime/nn's Module and LanguageModel): a layer
 * whose property would be one of these shadows it (a layer named forward replaces the forward method).
 */
const TS_MEMBERS = new Set([
  "constructor",
  "forward",
  "train",
  "eval",
  "training",
  "dispose",
  "namedParameters",
  "parameterCount",
  "param",
  "buffer",
  "module",
  "modules",
  "apply",
  "shareDropoutSeeds",
  "shared",
  "namedModules",
  "nextDropoutSeed",
  "dropoutSeeds",
  "shareAuxLosses",
  "addAuxLoss",
  "takeAuxLoss",
  "vocabSize",
  "blockSize",
]);

/** Python's keywords: a layer with one of these names cannot be an attribute (`self.lambda`). */
const PY_KEYWORDS = new Set(
  "False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case".split(" "),
);

/**
 * What torch.nn.Module already has (PyTorch 1.13 and 2.x): a layer attribute of one of these names would
 * hide it (`self.to = nn.Linear(...)` breaks `model.to(device)`), and add_module refuses most of them.
 */
const PY_MODULE_MEMBERS = new Set(
  (
    "add_module apply bfloat16 buffers call_super_init children compile cpu cuda double dump_patches eval extra_repr float forward " +
    "get_buffer get_extra_state get_parameter get_submodule half ipu load_state_dict modules mtia named_buffers named_children " +
    "named_modules named_parameters parameters register_backward_hook register_buffer register_forward_hook " +
    "register_forward_pre_hook register_full_backward_hook register_full_backward_pre_hook register_load_state_dict_post_hook " +
    "register_load_state_dict_pre_hook register_module register_parameter register_state_dict_post_hook " +
    "register_state_dict_pre_hook requires_grad_ set_extra_state set_submodule share_memory state_dict to to_empty train " +
    "training type xpu zero_grad"
  ).split(" "),
);

/** Attributes the generated Python model class itself sets or defines, beyond nn.Module's. */
const PY_MODEL_MEMBERS = new Set(["config", "generate", "aux_loss"]);

/**
 * Attributes the generated Python module looks for on every layer: take_aux_losses collects the lists
 * named aux_losses, so a layer of that name would be taken for one.
 */
const PY_LAYER_MEMBERS = new Set(["aux_losses"]);

/** Every torch.nn.Module member name above, for the test that checks them against the installed torch. */
export const PY_MODULE_MEMBER_NAMES: ReadonlySet<string> = PY_MODULE_MEMBERS;

/** The property a layer name becomes in TypeScript (snake_case → camelCase). */
export function propertyOf(layerName: string): string {
  return layerName.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Why a layer cannot have this name, or undefined when every target can use it. */
export function reservedLayerName(name: string, scope: "model" | "block"): string | undefined {
  if (TS_MEMBERS.has(propertyOf(name))) return `a layer named "${name}" would hide the class's own ${propertyOf(name)}`;
  if (PY_KEYWORDS.has(name)) return `"${name}" is a Python keyword, which the PyTorch module cannot use as an attribute`;
  if (PY_MODULE_MEMBERS.has(name)) return `torch.nn.Module already has a member named "${name}", which the PyTorch module's layer would hide`;
  if (scope === "model" && PY_MODEL_MEMBERS.has(name)) return `the generated PyTorch model already has a member named "${name}"`;
  if (PY_LAYER_MEMBERS.has(name)) return `"${name}" is where a generated PyTorch layer keeps its auxiliary losses`;
  return undefined;
}

/**
 * The helper classes builders declare (compiler/tree/builders/): a block class of one of these names
 * would take the name, and the helper class would be renamed.
 */
const HELPER_CLASSES = new Set(["LayerNorm", "RMSNorm", "Head", "MultiHeadAttention", "CausalSelfAttention", "FeedForward", "MixtureOfExperts"]);

/**
 * Which generated file already uses a top-level name (its imports, globals and own definitions), or
 * undefined: a class of the file (the model's, a block's) may not take it.
 */
export function reservedClassName(name: string): string | undefined {
  if (TS_TAKEN_NAMES.has(name)) return "a name the generated TypeScript already uses";
  if (PY_TAKEN_NAMES.has(name) || PY_KEYWORDS.has(name)) return `a name the generated PyTorch module already uses${name === "F" ? " (torch.nn.functional as F)" : ""}`;
  if (HELPER_CLASSES.has(name)) return "a helper class generated code already declares";
  return undefined;
}
