// Spelling Python: number literals, docstrings and comments wrapped to the file's width, and the names a
// layer cannot take in a torch.nn.Module.
import { wrap } from "../emit/format.js";

/** The widest line the emitted Python aims for (nanoGPT's model.py stays near it too). */
export const WIDTH = 100;

/** A float literal as a reader expects it: 0.2, 1e-05 → 1e-5, 3e-4. */
export function pyNum(n: number): string {
  if (Number.isInteger(n)) return `${n}.0`;
  return Math.abs(n) < 1e-3 ? n.toExponential() : String(n);
}

/** A docstring at `indent` spaces: one line when it fits, else a wrapped paragraph closed on its own line. */
export function docstring(text: string, indent: number): string[] {
  const pad = " ".repeat(indent);
  const one = `${pad}"""${text.trim()}"""`;
  if (one.length <= WIDTH) return [one];
  const lines = wrap(text, WIDTH - indent - 3);
  return [`${pad}"""${lines[0]}`, ...lines.slice(1).map((l) => `${pad}${l}`), `${pad}"""`];
}

/** `# ...` comment lines at `indent` spaces, wrapped. */
export function comment(text: string, indent: number): string[] {
  const pad = " ".repeat(indent);
  return wrap(text, WIDTH - indent - 2).map((l) => `${pad}# ${l}`);
}

/** Python's keywords: a layer with one of these names cannot be an attribute (`self.lambda`). */
const KEYWORDS = new Set(
  "False None True and as assert async await break class continue def del elif else except finally for from global if import in is lambda nonlocal not or pass raise return try while with yield match case".split(" "),
);

/**
 * What torch.nn.Module already has (PyTorch 1.13 and 2.x): a layer attribute of one of these names would
 * hide it (`self.to = nn.Linear(...)` breaks `model.to(device)`), and add_module refuses most of them.
 */
const MODULE_MEMBERS = new Set(
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

/** Attributes the generated model class itself sets or defines, beyond nn.Module's. */
const MODEL_MEMBERS = new Set(["config", "generate"]);

/** Why a layer name cannot be an attribute in the PyTorch target, or undefined when it can. */
export function unusableName(name: string, scope: "model" | "block"): string | undefined {
  if (KEYWORDS.has(name)) return `"${name}" is a Python keyword`;
  if (MODULE_MEMBERS.has(name)) return `torch.nn.Module already has a member named "${name}"`;
  if (scope === "model" && MODEL_MEMBERS.has(name)) return `the generated model class already has a member named "${name}"`;
  return undefined;
}

/** Top-level names of an emitted module that a block class may not take. */
export const RESERVED_CLASS_NAMES = new Set(["ModelConfig", "META", "TiedHead", "False", "None", "True"]);

/** Every name the lists above hold, for the test that checks them against the installed torch. */
export const MODULE_MEMBER_NAMES: ReadonlySet<string> = MODULE_MEMBERS;
