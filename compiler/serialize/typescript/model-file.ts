// The module tree as one TypeScript file over runtime/nn: the header, imports (the names its syntax tree
// uses), the config, the helper classes, the model class and its factory. A pure function of the tree,
// with no knowledge of layer kinds; formatted by ts-morph with one formatter configuration.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import { Project, StructureKind, VariableDeclarationKind, type ClassDeclarationStructure, type OptionalKind, type PropertyDeclarationStructure } from "ts-morph";
import { LIBRARY } from "../../tree/library.js";
import { OP_RUNTIME_NAMES } from "../../tree/ops/index.js";
import type { ClassDecl, Field, Forward, Init, Make, ModuleFile, Param } from "../../tree/nodes.js";
import { fileRecordsAuxLoss, initHas, makesOf } from "../../tree/walk.js";
import { tsDocComment, tsLineComment, tsString } from "../../text/typescript.js";
import { FORMAT, wrap } from "./format.js";
import { freeNames } from "./free-names.js";
import { initFunction } from "./init-functions.js";
import { camel, noteLines, reassigned, spellExpr, spellStmts, tensorType, unpacked, type TsScope } from "./spell.js";

export interface EmitOptions {
  /** Module specifier of the runtime's nn package, as seen from the emitted file. */
  readonly runtimeImport?: string;
}

export const DEFAULT_RUNTIME_IMPORT = "../runtime/nn/index.js";

const header = Handlebars.compile(readFileSync(fileURLToPath(new URL("./header.hbs", import.meta.url)), "utf8"), { noEscape: true });

/**
 * Every name of runtime/nn a file may use: the modules and bases its classes build on, the loss its
 * model's forward returns, and the names the ops' spellings use (each op lists its own,
 * compiler/tree/ops/); it imports those its syntax tree does use.
 */
export const RUNTIME_VALUES: readonly string[] = [...new Set(["Dropout", "Embedding", "Initializer", "LanguageModel", "Linear", "Module", "crossEntropy", "tf", ...OP_RUNTIME_NAMES])].sort();
const RUNTIME_TYPES = ["KvCache", "ModelOptions", "ModelOutput"];

/** Classes of the file by name, to ask what a class's constructor takes. */
type Classes = ReadonlyMap<string, ClassDecl>;

/** Whether a class's constructor reads the vocabulary size, directly or through a class it builds. */
function classTakesVocab(decl: ClassDecl | undefined, classes: Classes): boolean {
  if (decl === undefined) return false;
  return initHas(decl.init, (e) => e.kind === "vocab") || makesOf(decl.init).some((m) => m.kind === "class" && classTakesVocab(classes.get(m.name), classes));
}

/** Whether a field of the file draws its module by an init rule. */
function usesInitRule(file: ModuleFile, rule: "zero" | "residual"): boolean {
  return [...file.classes.map((c) => c.init), file.model.init].some((init) => init.some((f) => f.kind === "module" && f.initRule === rule));
}

/** A doc comment at `indent` spaces: one line when it fits in 100 columns, else wrapped. */
function jsDoc(prose: string, indent: number): string {
  const text = tsDocComment(prose);
  const one = `/** ${text} */`;
  if (indent + one.length <= 100) return one;
  return ["/**", ...wrap(text, 100 - indent - 3).map((l) => ` * ${l}`), " */"].join("\n");
}

/** Prose for a doc comment: wrapped to the file's width, nothing in it able to end the comment. */
function docText(prose: string): string {
  return wrap(tsDocComment(prose), 100).join("\n");
}

/** The constructor's parameters: by name for two or fewer, else one object `o`. */
const paramObject = (params: readonly Param[]): boolean => params.length > 2;

function spellMake(make: Make, scope: TsScope, classes: Classes): string {
  if (make.kind === "library") {
    const args: Record<string, string | boolean | undefined> = {};
    for (const [k, a] of Object.entries(make.args)) args[k] = typeof a === "object" ? spellExpr(a, scope) : a;
    return LIBRARY[make.name].ts(args);
  }
  const decl = classes.get(make.name)!;
  const values = make.args.map((a) => spellExpr(a, scope));
  const props = decl.params.map((p, i) => `${camel(p.name)}: ${values[i]}`);
  // An object too long for one line gets a line per size (the formatter indents them).
  const object = props.join(", ").length > 70 ? `{\n${props.map((p) => `${p},`).join("\n")}\n}` : `{ ${props.join(", ")} }`;
  const args = paramObject(decl.params) ? [object] : values;
  if (classTakesVocab(decl, classes)) args.push(scope.model ? "this.vocabSize" : "vocabSize");
  return `new ${make.name}(${args.join(", ")})`;
}

function fieldType(f: Field): string {
  switch (f.kind) {
    case "module":
      return f.make.kind === "library" ? LIBRARY[f.make.name].tsType : f.make.name;
    case "modules":
      return `${f.make.kind === "library" ? LIBRARY[f.make.name].tsType : f.make.name}[]`;
    case "parameter":
      return "tf.Variable";
    case "buffer":
      return f.rank === "any" ? "tf.Tensor" : tensorType(f.rank);
    case "value":
      return "number";
  }
}

function initLines(init: readonly Init[], scope: TsScope, classes: Classes): string[] {
  return init.flatMap((f): string[] => {
    const target = "name" in f ? `this.${camel(f.name)}` : "";
    switch (f.kind) {
      case "module":
        return [
          `${target} = this.module("${f.name}", ${spellMake(f.make, scope, classes)});`,
          ...(f.initRule ? [`${target}.initRule = "${f.initRule}"; // ${f.initRule === "zero" ? "starts at zero" : "GPT-2's scaled residual projection"}`] : []),
        ];
      case "modules":
        if (f.shared) return [`${target} = this.shared("${f.name}", ${spellMake(f.make, scope, classes)}, ${spellExpr(f.count, scope)});`];
        return [`${target} = this.modules("${f.name}", Array.from({ length: ${spellExpr(f.count, scope)} }, () => ${spellMake(f.make, scope, classes)}));`];
      case "parameter":
        return [`${target} = this.param("${f.name}", tf.${f.fill === 1 ? "ones" : "zeros"}([${f.shape.map((s) => spellExpr(s, scope)).join(", ")}]));`];
      case "buffer":
        return [`${target} = this.buffer("${f.name}", ${spellExpr(f.value, scope)});`];
      case "value":
        return [`${target} = ${spellExpr(f.value, scope)};`];
      case "unpack":
        return [`const [${unpacked(f.names)}] = ${spellExpr(f.value, scope)};${f.comment ? ` // ${tsLineComment(f.comment)}` : ""}`];
      case "note":
        return f.only === "python" ? [] : noteLines(f.text, f.verbatim === true);
    }
  });
}

function properties(init: readonly Init[]): OptionalKind<PropertyDeclarationStructure>[] {
  return init.flatMap((f) =>
    f.kind === "note" || f.kind === "unpack" ? [] : [{ name: camel(f.name), type: fieldType(f), isReadonly: true, ...(f.doc ? { docs: [docText(f.doc)] } : {}) }],
  );
}

/** forward's statements, in a tf.tidy of their own when the tree scopes them. */
function forwardBody(fwd: Forward, scope: TsScope, tail: readonly string[] = []): string[] {
  const body = [...spellStmts(fwd.body, scope, reassigned(fwd.body)), ...tail];
  return fwd.scoped ? ["return tf.tidy(() => {", ...body, "});"] : body;
}

function helperClass(decl: ClassDecl, classes: Classes): ClassDeclarationStructure {
  const scope: TsScope = { model: false, paramObject: paramObject(decl.params) };
  const params = scope.paramObject
    ? [{ name: "o", type: `{ ${decl.params.map((p) => `${camel(p.name)}: number`).join("; ")} }` }]
    : decl.params.map((p) => ({ name: camel(p.name), type: "number" }));
  if (classTakesVocab(decl, classes)) params.push({ name: "vocabSize", type: "number" });
  const fwd = decl.forward;
  const generic = fwd?.rank === "any";
  return {
    kind: StructureKind.Class,
    name: decl.name,
    extends: "Module",
    docs: [docText(decl.doc)],
    properties: properties(decl.init),
    ctors: [{ parameters: params, statements: ["super();", ...initLines(decl.init, scope, classes)] }],
    methods: fwd
      ? [
          {
            name: "forward",
            ...(generic ? { typeParameters: ["T extends tf.Tensor"] } : {}),
            parameters: [{ name: "x", type: generic ? "T" : tensorType(fwd.rank as 2 | 3 | 4) }, ...(fwd.cache ? [{ name: "cache", type: "KvCache", hasQuestionToken: true }] : [])],
            returnType: generic ? "T" : tensorType(fwd.rank as 2 | 3 | 4),
            statements: forwardBody(fwd, scope),
          },
        ]
      : [],
  };
}

/** The model forward's last lines: logits, and with targets the loss (and the layers' auxiliary losses). */
function modelReturn(aux: boolean): string[] {
  if (!aux) return ["return targets ? { logits, loss: crossEntropy(logits, targets) } : { logits };"];
  return [
    ...noteLines("What the layers added to the training loss in this forward (the experts' load balancing), summed: the trainer adds it to the cross-entropy and records it apart.", false),
    "const aux = this.takeAuxLoss();",
    "return targets ? { logits, loss: crossEntropy(logits, targets), aux } : { logits };",
  ];
}

export function emitModelFile(file: ModuleFile, options: EmitOptions = {}): string {
  const classes: Classes = new Map(file.classes.map((c) => [c.name, c]));
  const model = file.model;
  const project = new Project({ useInMemoryFileSystem: true });
  const src = project.createSourceFile("model.ts", "", { overwrite: true });
  const [spec, ...parents] = file.files;

  src.addVariableStatement({
    declarationKind: VariableDeclarationKind.Const,
    isExported: true,
    docs: ["The model's sizes, from the spec. The vocabulary size is not here: it comes from the tokenizer at run time."],
    declarations: [{ name: "config", initializer: `{\n${file.config.map((s) => `${jsDoc(s.doc, 2)}\n${camel(s.name)}: ${s.value},`).join("\n")}\n} as const` }],
  });
  src.addVariableStatement({
    declarationKind: VariableDeclarationKind.Const,
    isExported: true,
    docs: ["Where this code came from; checkpoints record modelHash to recognise the architecture they hold."],
    declarations: [
      {
        name: "meta",
        initializer: ["{", `name: ${tsString(file.name)},`, `spec: ${tsString(spec!.path)},`, `specSha256: ${tsString(spec!.sha256)},`, `modelHash: ${tsString(file.modelHash)},`, "} as const"].join("\n"),
      },
    ],
  });
  const init = initFunction(model.initStyle, usesInitRule(file, "zero"));
  src.addFunction({
    name: init.name,
    docs: [docText(init.doc)],
    parameters: [
      { name: "module", type: "Module" },
      { name: "init", type: "Initializer" },
    ],
    returnType: "void",
    statements: init.body,
  });
  for (const c of file.classes) src.addClass(helperClass(c, classes));

  const scope: TsScope = { model: true, paramObject: false };
  src.addClass({
    kind: StructureKind.Class,
    name: model.name,
    isExported: true,
    extends: "LanguageModel",
    docs: [docText(model.doc)],
    properties: properties(model.init),
    ctors: [
      {
        parameters: [{ name: "options", type: "ModelOptions" }],
        statements: [
          "super(options, config); // records vocabSize and blockSize",
          ...initLines(model.init, scope, classes),
          ...noteLines(`${init.summary}, module by module in the order they were built (not for a model a checkpoint is loaded into at once).`, false),
          `if (options.initialize !== false) {\nconst init = new Initializer(options.seed);\nthis.apply((module) => ${init.name}(module, init));\n}`,
        ],
      },
    ],
    methods: [
      {
        name: "forward",
        hasOverrideKeyword: true,
        docs: ["idx (B, T) token indices → logits (B, T, vocab), and the mean cross-entropy when targets (B, T) are\ngiven."],
        parameters: [
          { name: "idx", type: "tf.Tensor2D" },
          { name: "targets", type: "tf.Tensor2D", hasQuestionToken: true },
          // While sampling: what the attention layers saw before idx (runtime/sample.ts feeds it).
          ...(model.forward.cache ? [{ name: "cache", type: "KvCache", hasQuestionToken: true }] : []),
        ],
        returnType: "ModelOutput",
        statements: forwardBody(model.forward, scope, modelReturn(fileRecordsAuxLoss(file))),
      },
    ],
  });
  src.addFunction({
    name: "createModel",
    isExported: true,
    docs: ["The entry point the runtime uses to build this model."],
    parameters: [{ name: "options", type: "ModelOptions" }],
    returnType: model.name,
    statements: [`return new ${model.name}(options);`],
  });

  const used = new Set(freeNames(src));
  const runtime = src.insertImportDeclaration(0, {
    moduleSpecifier: "runtime",
    namedImports: [...RUNTIME_VALUES.filter((n) => used.has(n)), ...RUNTIME_TYPES.filter((n) => used.has(n)).map((t) => `type ${t}`)],
  });
  // A path can hold what ts-morph's quoting leaves raw (a carriage return, U+2028): spell it here.
  runtime.getModuleSpecifier().replaceWithText(tsString(options.runtimeImport ?? DEFAULT_RUNTIME_IMPORT));
  src.formatText(FORMAT);
  const shown = (f: (typeof file.files)[number]): { path: string; sha256: string } => ({ path: tsLineComment(f.path), sha256: tsLineComment(f.sha256) });
  return `${header({ spec: shown(spec!), parents: parents.map(shown) })}\n${src.getFullText().trimEnd()}\n`;
}
