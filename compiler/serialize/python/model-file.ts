// The module tree as one PyTorch module: the header, imports, the config dataclass, the module-level
// definitions its ops and library classes call, the helper classes, the model class and its factory.
// Rendered with handlebars templates; a pure function of the tree, with no knowledge of layer kinds.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import { LIBRARY } from "../../tree/library.js";
import type { ClassDecl, Init, Make, ModuleFile } from "../../tree/nodes.js";
import { OPS, type PyHelper } from "../../tree/ops/index.js";
import { fileRecordsAuxLoss, initHas, makesOf, recordsAuxLoss, visitFile } from "../../tree/walk.js";
import { spellPy, spellPyStmts, pyLiteral } from "./spell.js";
import { pyComment, pyString } from "../../text/python.js";
import { comment, docstring, docText, WIDTH } from "./text.js";

const template = (file: string): HandlebarsTemplateDelegate =>
  Handlebars.compile(readFileSync(fileURLToPath(new URL(`./${file}`, import.meta.url)), "utf8"), { noEscape: true });
const moduleTemplate = template("model.py.hbs");
const classTemplate = template("class.py.hbs");

const INIT_GPT_WEIGHTS: PyHelper = {
  name: "init_gpt_weights",
  order: 80,
  text: `def init_gpt_weights(module: nn.Module) -> None:
    """GPT-2's initialization: N(0, 0.02) for every linear and embedding weight, zero biases."""
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Embedding):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)`,
};

const TAKE_AUX_LOSSES: PyHelper = {
  name: "take_aux_losses",
  order: 85,
  text: `def take_aux_losses(model: nn.Module) -> torch.Tensor | None:
    """The auxiliary losses the model's layers recorded in the forward just run (a mixture of experts' load
    balancing; a layer applied twice recorded two), summed, and each layer's list emptied for the next."""
    losses: list[torch.Tensor] = []
    for module in model.modules():
        if hasattr(module, "aux_losses"):
            losses += module.aux_losses
            module.aux_losses = []
    return torch.stack(losses).sum() if losses else None`,
};

type Classes = ReadonlyMap<string, ClassDecl>;

/** Whether a class's constructor reads the config (a block's does): it then takes config. */
function takesConfig(decl: ClassDecl | undefined): boolean {
  return decl !== undefined && initHas(decl.init, (e) => e.kind === "config" || e.kind === "vocab");
}

/** A doc sentence as a trailing comment: "What it does." → "what it does". */
function trailing(doc: string): string {
  const t = doc.trim().replace(/\.$/, "");
  return /^[A-Z][a-z]/.test(t) ? t[0]!.toLowerCase() + t.slice(1) : t;
}

/** A statement with its doc: as a trailing comment when the line fits, else as a comment line above. */
function documented(code: string, doc: string | undefined, indent: number): string[] {
  if (!doc) return [code];
  const line = `${code}  # ${pyComment(trailing(doc))}`;
  return indent + line.length <= WIDTH ? [line] : [...comment(doc, indent).map((l) => l.trimStart()), code];
}

/** `callee(args)`, or, when it would pass the file's width, its arguments on lines of their own. */
export function wrapCall(start: string, args: readonly string[], end: string, indent: number): string[] {
  const one = `${start}(${args.join(", ")})${end}`;
  if (indent + one.length <= WIDTH) return [one];
  const inner = `    ${args.join(", ")}`;
  if (indent + inner.length <= WIDTH) return [`${start}(`, inner, `)${end}`];
  return [`${start}(`, ...args.map((a) => `    ${a},`), `)${end}`];
}

/** How a field is built: a library class, or a class of the file (its sizes by name when more than two). */
function makeCall(make: Make, classes: Classes): { readonly callee: string; readonly args: readonly string[] } {
  if (make.kind === "library") {
    const args: Record<string, string | boolean | undefined> = {};
    for (const [k, a] of Object.entries(make.args)) args[k] = typeof a === "object" ? spellPy(a).text : a;
    const text = LIBRARY[make.name].py(args);
    return { callee: text, args: [] };
  }
  const decl = classes.get(make.name)!;
  const values = make.args.map((a) => spellPy(a).text);
  const args = decl.params.length > 2 ? decl.params.map((p, i) => `${p.name}=${values[i]}`) : values;
  return { callee: make.name, args: [...(takesConfig(decl) ? ["config"] : []), ...args] };
}

function spellMake(make: Make, classes: Classes): string {
  const { callee, args } = makeCall(make, classes);
  return make.kind === "library" ? callee : `${callee}(${args.join(", ")})`;
}

/** __init__'s statements after super().__init__(), at 8 spaces. */
function initLines(init: readonly Init[], classes: Classes): string[] {
  return init.flatMap((f): string[] => {
    switch (f.kind) {
      case "module": {
        const { callee, args } = makeCall(f.make, classes);
        if (f.make.kind === "class" && 8 + `self.${f.name} = ${spellMake(f.make, classes)}`.length > WIDTH) {
          return [...(f.doc ? comment(f.doc, 8).map((l) => l.trimStart()) : []), ...wrapCall(`self.${f.name} = ${callee}`, args, "", 8)];
        }
        return documented(`self.${f.name} = ${spellMake(f.make, classes)}`, f.doc, 8);
      }
      case "modules":
        return documented(`self.${f.name} = nn.ModuleList([${spellMake(f.make, classes)} for _ in range(${spellPy(f.count).text})])`, f.doc, 8);
      case "parameter":
        return documented(`self.${f.name} = nn.Parameter(torch.${f.fill === 1 ? "ones" : "zeros"}(${f.shape.map((s) => spellPy(s).text).join(", ")}))`, f.doc, 8);
      case "buffer":
        // A buffer, not a parameter: it moves with .to(device) but is neither trained nor saved, as in babygpt.
        return documented(`self.register_buffer("${f.name}", ${spellPy(f.value).text}, persistent=False)`, f.doc, 8);
      case "value":
        return documented(`self.${f.name} = ${spellPy(f.value).text}`, f.doc, 8);
      case "unpack":
        return [`${f.names.join(", ")} = ${spellPy(f.value).text}${f.comment ? `  # ${pyComment(f.comment)}` : ""}`];
      case "note":
        return f.only === "typescript" ? [] : comment(f.text, 8).map((l) => l.trimStart());
    }
  });
}

/** The list a class whose forward records auxiliary losses keeps them in, until the model takes them. */
const AUX_LOSSES_LINE = "self.aux_losses: list[torch.Tensor] = []  # what forward adds to the loss, until the model takes it";

function renderClass(decl: ClassDecl, classes: Classes): string {
  const params = ["self", ...decl.params.map((p) => `${p.name}: ${p.float ? "float" : "int"}`)];
  if (takesConfig(decl)) params.splice(1, 0, "config: ModelConfig");
  return classTemplate({
    name: decl.name,
    doc: docstring(docText(decl.doc), 4),
    signature: wrapCall("def __init__", params, ":", 4),
    init: [...initLines(decl.init, classes), ...(decl.forward && recordsAuxLoss(decl.forward.body) ? [AUX_LOSSES_LINE] : [])],
    forward: decl.forward ? spellPyStmts(decl.forward.body) : undefined,
  }).trimEnd();
}

/** The module-level definitions the file's ops and library classes call, each once, in their order. */
function helpersOf(file: ModuleFile): PyHelper[] {
  const found = new Map<string, PyHelper>();
  const add = (h: PyHelper): void => {
    if (found.has(h.name)) return;
    found.set(h.name, h);
    h.uses?.forEach(add);
  };
  visitFile(file, (e) => {
    if (e.kind === "op") OPS.get(e.op)?.pyHelpers?.forEach(add);
  });
  for (const init of [...file.classes.map((c) => c.init), file.model.init]) {
    for (const m of makesOf(init)) if (m.kind === "library") LIBRARY[m.name].pyHelpers?.forEach(add);
  }
  if (file.model.initStyle === "gpt") add(INIT_GPT_WEIGHTS);
  if (fileRecordsAuxLoss(file)) add(TAKE_AUX_LOSSES);
  return [...found.values()].sort((a, b) => a.order - b.order);
}

/** A config field of the dataclass, with its doc as a trailing comment or a comment above. */
function configLine(name: string, value: string, doc: string, float: boolean): string[] {
  return documented(`${name}: ${float ? "float" : "int"} = ${value}`, doc, 4).map((l) => `    ${l}`);
}

export function emitTorchModelFile(file: ModuleFile): string {
  const classes: Classes = new Map(file.classes.map((c) => [c.name, c]));
  const [spec, ...parents] = file.files;
  const text = moduleTemplate({
    header: [
      `# Code generated by babygpt from ${pyComment(spec!.path)} (sha256 ${pyComment(spec!.sha256)}). DO NOT EDIT.`,
      ...parents.map((p, i) => `# ${i === 0 ? "It extends" : "which extends"} ${pyComment(p.path)} (sha256 ${pyComment(p.sha256)}).`),
      `# Regenerate with \`npx babygpt compile ${pyComment(spec!.path)} --target pytorch\`.`,
    ],
    name: file.name,
    nameLiteral: pyString(file.name),
    specLiteral: pyString(spec!.path),
    spec,
    modelHash: file.modelHash,
    config: file.config.flatMap((s) => configLine(s.name, pyLiteral(s.value, s.float), s.doc, s.float)),
    helpers: helpersOf(file).map((h) => h.text),
    classes: file.classes.map((c) => renderClass(c, classes)),
    className: file.model.name,
    doc: docstring(docText(file.model.doc), 4),
    init: initLines(file.model.init, classes),
    gptInit: file.model.initStyle === "gpt",
    auxLoss: fileRecordsAuxLoss(file),
    forward: spellPyStmts(file.model.forward.body),
  });
  return `${text.trimEnd()}\n`;
}
