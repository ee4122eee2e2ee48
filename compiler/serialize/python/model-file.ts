// The module tree as one PyTorch module: the header, imports, the config dataclass, the module-level
// definitions its ops and library classes call, the helper classes, the model class and its factory.
// Rendered with handlebars templates; a pure function of the tree, with no knowledge of layer kinds.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import { LIBRARY } from "../../tree/library.js";
import type { ClassDecl, Expr, Init, Make, ModuleFile } from "../../tree/nodes.js";
import { OPS, type PyHelper } from "../../tree/ops/index.js";
import { fileRecordsAuxLoss, initHas, makesOf, recordsAuxLoss, visitFile, visitStmts } from "../../tree/walk.js";
import { inForward, pyLiteral, spellPy, spellPyStmts } from "./spell.js";
import { pyComment, pyString } from "../../text/python.js";
import { comment, docstring, docText, WIDTH } from "./text.js";

const template = (file: string): HandlebarsTemplateDelegate =>
  Handlebars.compile(readFileSync(fileURLToPath(new URL(`./${file}`, import.meta.url)), "utf8"), { noEscape: true });
const moduleTemplate = template("model.py.hbs");
const classTemplate = template("class.py.hbs");

/** The zero rule's lines in an init function: a Linear marked init_rule "zero" starts at zero. */
const ZERO_RULE = `
    if getattr(module, "init_rule", None) == "zero":  # zero_init: the layer starts adding nothing
        nn.init.zeros_(module.weight)`;

/** The init function of a style (none for torch's defaults without rules), and the line that applies it. */
function initOf(style: ModuleFile["model"]["initStyle"], zeroRule: boolean): { helper?: PyHelper; apply: string } {
  const zero = zeroRule ? ZERO_RULE : "";
  switch (style) {
    case "gpt":
      return {
        apply: "self.apply(init_gpt_weights)  # N(0, 0.02) weights and zero biases, as GPT-2",
        helper: {
          name: "init_gpt_weights",
          order: 80,
          text: `def init_gpt_weights(module: nn.Module) -> None:
    """GPT-2's initialization: N(0, 0.02) for every linear and embedding weight, zero biases."""
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Embedding):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)${zero}`,
        },
      };
    case "gpt2":
      return {
        apply: "self.apply(lambda module: init_gpt2_weights(module, config.n_residual))  # GPT-2's, residual projections scaled",
        helper: {
          name: "init_gpt2_weights",
          order: 80,
          text: `def init_gpt2_weights(module: nn.Module, n_residual: int) -> None:
    """GPT-2's initialization: N(0, 0.02) for every linear and embedding weight, zero biases; the last
    projection of every residual body (init_rule "residual") N(0, 0.02/sqrt(n_residual)), so the residual
    stream's variance does not grow with depth."""
    if isinstance(module, nn.Linear):
        std = 0.02 / n_residual**0.5 if getattr(module, "init_rule", None) == "residual" else 0.02
        nn.init.normal_(module.weight, mean=0.0, std=std)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Embedding):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)${zero}`,
        },
      };
    case "torch":
      if (!zeroRule) return { apply: "# Weights keep PyTorch's default initialization (nn.Linear's U(±1/sqrt(in)), nn.Embedding's N(0, 1))." };
      return {
        apply: "self.apply(init_zero_rules)  # PyTorch's defaults, but zero_init's layers start at zero",
        helper: {
          name: "init_zero_rules",
          order: 80,
          text: `def init_zero_rules(module: nn.Module) -> None:
    """PyTorch's default initialization stays; a linear layer marked init_rule "zero" starts at zero."""${ZERO_RULE}`,
        },
      };
  }
}

/** Whether a field of the file draws its module by the zero rule. */
function usesZeroRule(file: ModuleFile): boolean {
  return [...file.classes.map((c) => c.init), file.model.init].some((init) => init.some((f) => f.kind === "module" && f.initRule === "zero"));
}

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

const readsConfig = (e: Expr): boolean => e.kind === "config" || e.kind === "vocab";

/** Whether a class's forward reads the config (a shared repeat's count): it then keeps it as self.config. */
function keepsConfig(decl: ClassDecl | undefined): boolean {
  if (!decl?.forward) return false;
  let found = false;
  visitStmts(decl.forward.body, (e) => {
    if (readsConfig(e)) found = true;
  });
  return found;
}

/**
 * Whether a class reads the config (a block's constructor does), or builds a class that does (a block
 * of two defined kinds passes it on): it then takes config.
 */
function takesConfig(decl: ClassDecl | undefined, classes: Classes, seen: Set<string> = new Set()): boolean {
  if (decl === undefined || seen.has(decl.name)) return false;
  seen.add(decl.name);
  if (initHas(decl.init, readsConfig) || keepsConfig(decl)) return true;
  return decl.init.some((f) => (f.kind === "module" || f.kind === "modules") && f.make.kind === "class" && takesConfig(classes.get(f.make.name), classes, seen));
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
  return { callee: make.name, args: [...(takesConfig(decl, classes) ? ["config"] : []), ...args] };
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
        const rule = f.initRule ? [`self.${f.name}.init_rule = "${f.initRule}"  # ${f.initRule === "zero" ? "starts at zero" : "GPT-2's scaled residual projection"}`] : [];
        return [...documented(`self.${f.name} = ${spellMake(f.make, classes)}`, f.doc, 8), ...rule];
      }
      case "modules":
        if (f.shared) return documented(`self.${f.name} = nn.ModuleList([${spellMake(f.make, classes)}])`, f.doc ?? `one module's weights, applied ${spellPy(f.count).text} times`, 8);
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
  if (takesConfig(decl, classes)) params.splice(1, 0, "config: ModelConfig");
  return classTemplate({
    name: decl.name,
    doc: docstring(docText(decl.doc), 4),
    signature: wrapCall("def __init__", params, ":", 4),
    init: [...(keepsConfig(decl) ? ["self.config = config"] : []), ...initLines(decl.init, classes), ...(decl.forward && recordsAuxLoss(decl.forward.body) ? [AUX_LOSSES_LINE] : [])],
    forward: decl.forward ? inForward(() => spellPyStmts(decl.forward!.body)) : undefined,
  }).trimEnd();
}

/** The module-level definitions the file's ops and library classes call, each once, in their order. */
function helpersOf(file: ModuleFile): PyHelper[] {
  const found = new Map<string, PyHelper>();
  const add = (h: PyHelper): void => {
    const known = found.get(h.name);
    if (known && (known.rank ?? 0) >= (h.rank ?? 0)) return;
    found.set(h.name, h);
    h.uses?.forEach(add);
  };
  visitFile(file, (e) => {
    if (e.kind !== "op") return;
    const helpers = OPS.get(e.op)?.pyHelpers;
    (typeof helpers === "function" ? helpers(e.args) : (helpers ?? [])).forEach(add);
  });
  for (const init of [...file.classes.map((c) => c.init), file.model.init]) {
    for (const m of makesOf(init)) if (m.kind === "library") LIBRARY[m.name].pyHelpers?.forEach(add);
  }
  const init = initOf(file.model.initStyle, usesZeroRule(file)).helper;
  if (init) add(init);
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
    initLine: initOf(file.model.initStyle, usesZeroRule(file)).apply,
    auxLoss: fileRecordsAuxLoss(file),
    forward: inForward(() => spellPyStmts(file.model.forward.body)),
  });
  return `${text.trimEnd()}\n`;
}
