// Lowering: a validated spec becomes the IR. Walks the layer list in order, carrying the input width so
// each kind can infer its shapes and reject ones that do not compose; assigns every layer its name.
import { canonicalJson, sha256 } from "../../util/hash.js";
import { SpecError, type Diagnostic } from "../diagnostics/diagnostic.js";
import { childPointer, locate, type LocMap, type Pointer } from "../spec/located.js";
import type { LoadedSpec } from "../spec/load.js";
import type { LayerSpec, Spec } from "../spec/types.generated.js";
import type { LowerContext, LoweredList } from "./node-def.js";
import type { ModelIR } from "./model.js";
import { nodeDef, type BlockNode, type IrNode, type NodeKind } from "./nodes/index.js";
import { propertyOf, reservedClassName, reservedLayerName } from "./reserved-names.js";
import { showWidth, type Width } from "./width.js";


export function lowerSpec(loaded: LoadedSpec): ModelIR {
  const { spec, locs } = loaded;
  const className = `${pascalCase(spec.name)}Model`;
  if (reservedClassName(className)) {
    throw located(locs, "/name", `the model's class would be named ${className}, which generated code already uses; choose another name`);
  }
  checkDescription(loaded);
  const env: Env = { spec, locs, classes: new Map(), className, expansions: loaded.expansions ?? new Map() };
  const lowered = lowerList(env, spec.model.layers, "/model/layers", "tokens");
  const top = spec.model.tie_embeddings ? { ...lowered, nodes: tieEmbeddings(locs, lowered.nodes) } : lowered;
  const lastIndex = spec.model.layers.length - 1;
  if (top.output !== "vocab") {
    const got = top.output === "tokens" ? "token indices (B, T)" : `(B, T, ${showWidth(top.output)})`;
    throw new SpecError([
      {
        loc: locate(locs, `/model/layers/${lastIndex}`),
        message: `the model must end in vocab-wide logits (B, T, vocab), but its last layer outputs ${got}; end with a linear layer with out: vocab`,
      },
    ]);
  }
  return {
    kind: "model",
    name: spec.name,
    className,
    description: spec.description ?? "",
    files: loaded.files,
    blockSize: spec.model.block_size,
    nEmbd: spec.model.n_embd,
    init: spec.model.init,
    residuals: countResiduals(top.nodes),
    logitSoftcap: spec.model.logit_softcap,
    layers: top.nodes,
    tieEmbeddings: spec.model.tie_embeddings,
    modelHash: sha256(canonicalJson(withoutLaterDefaults(spec.model))),
    warnings: warningsOf(loaded),
  };
}

/**
 * A description is prose shown in the generated code's doc comments: a control character other than a
 * tab or a line break (a NUL, which Python source cannot hold, an escape sequence) is refused where the
 * spec writes it rather than carried into code.
 */
function checkDescription(loaded: LoadedSpec): void {
  const text = loaded.spec.description ?? "";
  const at = text.search(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/);
  if (at < 0) return;
  const code = `U+${text.charCodeAt(at).toString(16).toUpperCase().padStart(4, "0")}`;
  throw located(loaded.locs, "/description", `the description holds the control character ${code} (at character ${at + 1}); a description is prose: tabs and line breaks are fine, other control characters are not`);
}

/**
 * Combinations that are legal but train badly by construction, located at the key that causes them. Tied
 * embeddings under init: torch draw the shared table from N(0, 1): the output layer then starts with
 * logits about sqrt(n_embd) wide, and training begins near a loss of 49 instead of ln(vocab).
 */
function warningsOf(loaded: LoadedSpec): Diagnostic[] {
  const { spec, locs } = loaded;
  const out: Diagnostic[] = [];
  if (spec.model.tie_embeddings && spec.model.init === "torch") {
    out.push({
      loc: locate(locs, "/model/tie_embeddings"),
      message: "tie_embeddings under init: torch draws the shared table from N(0, 1), so the tied output layer starts with huge logits (a first loss near 49); set model.init: gpt",
    });
  }
  return out;
}

/** Residual applications in a layer list: a residual node once per copy a repeat makes of it. */
function countResiduals(nodes: readonly IrNode[]): number {
  let n = 0;
  for (const node of nodes) {
    if (node.kind === "residual") n++;
    if (node.kind === "repeat") n += node.times * countResiduals(node.block.body);
    else for (const group of nodeDef(node.kind).children(node as never)) n += countResiduals(group.nodes);
  }
  return n;
}

/**
 * model.tie_embeddings: the last layer, a linear of out: vocab, takes the first layer's token table as its
 * weight. The table is (vocab, dim) and the head's weight (vocab, in): the widths must agree.
 */
function tieEmbeddings(locs: LocMap, nodes: readonly IrNode[]): IrNode[] {
  const first = nodes[0];
  const last = nodes[nodes.length - 1];
  if (first?.kind !== "token_embedding" || last?.kind !== "linear" || last.outWidth !== "vocab") {
    throw located(locs, "/model/tie_embeddings", "tie_embeddings needs a model that starts with a token_embedding and ends with a linear of out: vocab");
  }
  if (first.dim !== last.inWidth) {
    throw located(
      locs,
      "/model/tie_embeddings",
      `tie_embeddings shares the token table (vocab, ${showWidth(first.dim)}) with the output layer, but that layer reads width ${showWidth(last.inWidth)}; the widths must be equal`,
    );
  }
  return [...nodes.slice(0, -1), { ...last, tiedTo: first.name }];
}

/**
 * The labels a layer list has saved (kind save), and the list around it: an add reads a label saved
 * before it in its own list or in a list around it, but not across a class (a block's or repeat's body).
 */
interface LabelScope {
  readonly saved: Map<string, { readonly width: Width; readonly pointer: Pointer }>;
  readonly parent?: LabelScope;
  /** The scope begins a class of its own: labels of the lists around it are out of reach. */
  readonly classBoundary: boolean;
}

interface Env {
  readonly spec: Spec;
  /** Where a defined kind was inserted as a block (compiler/spec/define.ts). */
  readonly expansions: ReadonlyMap<Pointer, string>;
  readonly locs: LocMap;
  /** Block classes seen so far, by class name, with their structure, to catch two different `Block`s. */
  readonly classes: Map<string, { structure: string; pointer: Pointer }>;
  /** The model's own class name, which no block may take. */
  readonly className: string;
}

function lowerList(env: Env, specs: readonly LayerSpec[], pointer: Pointer, input: Width | "tokens", labels?: LabelScope): LoweredList {
  const names = assignNames(env, specs, pointer);
  return lowerWithNames(env, specs, pointer, input, names, { saved: new Map(), ...(labels ? { parent: labels } : {}), classBoundary: labels !== undefined });
}

/** Where a label was saved that a layer of `scope` can read, or why none can be. */
function findLabel(scope: LabelScope, label: string): { width: Width; at: Pointer } | { beyond: Pointer } | undefined {
  let crossed = false;
  for (let s: LabelScope | undefined = scope; s; s = s.parent) {
    const hit = s.saved.get(label);
    if (hit) return crossed ? { beyond: hit.pointer } : { width: hit.width, at: hit.pointer };
    if (s.classBoundary) crossed = true;
  }
  return undefined;
}

function lowerWithNames(
  env: Env,
  specs: readonly LayerSpec[],
  pointer: Pointer,
  input: Width | "tokens",
  names: ReadonlyMap<Pointer, string>,
  labels: LabelScope,
): LoweredList {
  const nodes: IrNode[] = [];
  let width = input;
  specs.forEach((layer, i) => {
    const here = childPointer(pointer, i);
    const ctx: LowerContext = {
      pointer: here,
      input: width,
      name: names.get(here) ?? "",
      nEmbd: env.spec.model.n_embd,
      blockSize: env.spec.model.block_size,
      defaultDropout: env.spec.training.dropout,
      // A list- or mapping-valued key (a residual's body) is blamed at the key; a scalar at its value.
      error: (message, key) => {
        const value = key === undefined ? undefined : (layer as unknown as Record<string, unknown>)[key];
        const part = typeof value === "object" && value !== null ? "key" : "value";
        return located(env.locs, key ? childPointer(here, key) : here, message, part);
      },
      lowerList: (key, listInput, scope) => {
        const path = typeof key === "string" ? [key] : key;
        const list = path.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], layer) as LayerSpec[];
        const at = path.reduce<Pointer>((p, k) => childPointer(p, k), here);
        return scope === "new"
          ? lowerList(env, list, at, listInput, labels)
          : lowerWithNames(env, list, at, listInput, names, { saved: new Map(), parent: labels, classBoundary: false });
      },
      saveLabel: (label, w, key) => {
        const known = findLabel(labels, label);
        if (known) {
          const where = locate(env.locs, "at" in known ? known.at : known.beyond);
          throw located(env.locs, childPointer(here, key), `the label ${label} is already saved${where.kind === "file" ? ` at line ${where.line}` : ""}; a label is saved once in reach of its adds: choose another`);
        }
        labels.saved.set(label, { width: w, pointer: here });
      },
      readLabel: (label, key) => {
        const found = findLabel(labels, label);
        if (found && "width" in found) return found.width;
        if (found) {
          const at = locate(env.locs, found.beyond);
          const where = at.kind === "file" ? ` at line ${at.line}` : "";
          throw located(env.locs, childPointer(here, key), `the label ${label} is saved${where} outside this block or repeat's body, which is a class of its own and cannot read it; save it inside the body, or write the blocks out one by one`);
        }
        throw located(env.locs, childPointer(here, key), `no save with as: ${label} comes before this add in its layer list or the lists around it`);
      },
    };
    const def = nodeDef(layer.kind as NodeKind);
    const lowered = def.lower(layer as never, ctx) as IrNode;
    const defined = env.expansions.get(here);
    const node: IrNode = lowered.kind === "block" && defined ? { ...lowered, defined } : lowered;
    if (node.kind === "block") checkClass(env, node, here);
    nodes.push(node);
    width = def.outWidth(node as never);
  });
  return { nodes, output: width };
}

/**
 * Names every layer of one scope (a class): explicit names as given, defaults from the kind, numbered
 * (ln1, ln2) where a default occurs more than once. Residual bodies and parallel branches share their
 * parent's scope.
 */
function assignNames(env: Env, specs: readonly LayerSpec[], pointer: Pointer): Map<Pointer, string> {
  const entries: { pointer: Pointer; spec: LayerSpec }[] = [];
  const collect = (list: readonly LayerSpec[], at: Pointer): void =>
    list.forEach((s, i) => {
      const p = childPointer(at, i);
      if (s.kind === "residual") collect(s.body, childPointer(p, "body"));
      else if (s.kind === "parallel") s.branches.forEach((b, j) => collect(b, childPointer(childPointer(p, "branches"), j)));
      else entries.push({ pointer: p, spec: s });
    });
  collect(specs, pointer);

  const names = new Map<Pointer, string>();
  // keyed by the property each name becomes, so ln_1 and ln1 (both ln1 in the class) collide too
  const taken = new Map<string, Pointer>();
  for (const { pointer: p, spec } of entries) {
    const name = "name" in spec ? spec.name : undefined;
    if (name === undefined) continue;
    const first = taken.get(propertyOf(name));
    if (first) {
      const line = locate(env.locs, first);
      const where = line.kind === "file" ? ` (line ${line.line})` : "";
      const other = names.get(first)!;
      const clash = other === name ? `already named "${name}"` : `named "${other}", and both would be the property ${propertyOf(name)}`;
      throw located(env.locs, childPointer(p, "name"), `another layer in this scope is ${clash}${where}`);
    }
    const reserved = reservedLayerName(name, pointer === "/model/layers" ? "model" : "block");
    if (reserved) throw located(env.locs, childPointer(p, "name"), `${reserved}; choose another name`);
    taken.set(propertyOf(name), p);
    names.set(p, name);
  }
  const defaults = new Map<string, Pointer[]>();
  for (const { pointer: p, spec } of entries) {
    if ("name" in spec && spec.name !== undefined) continue;
    const base = nodeDef(spec.kind as NodeKind).defaultName(spec as never);
    if (base === undefined) continue;
    defaults.set(base, [...(defaults.get(base) ?? []), p]);
  }
  for (const [base, pointers] of defaults) {
    pointers.forEach((p, i) => {
      const name = pointers.length === 1 ? base : `${base}${i + 1}`;
      if (taken.has(propertyOf(name))) {
        throw located(env.locs, p, `this layer's default name "${name}" is taken by another layer; give it a name`);
      }
      taken.set(propertyOf(name), p);
      names.set(p, name);
    });
  }
  return names;
}

function checkClass(env: Env, node: BlockNode, pointer: Pointer): void {
  const taken = reservedClassName(node.className);
  if (taken || node.className === env.className) {
    const what = taken ?? "the model's own class";
    throw located(env.locs, childPointer(pointer, "class"), `a block class named ${node.className} would clash with ${what}; choose another class name`);
  }
  const structure = canonicalJson(node.body);
  const seen = env.classes.get(node.className);
  if (seen && seen.structure !== structure) {
    const first = locate(env.locs, seen.pointer);
    const where = first.kind === "file" ? ` at line ${first.line}` : "";
    throw located(env.locs, pointer, `two different blocks share the class name ${node.className} (the other is${where}); give this one another class`);
  }
  env.classes.set(node.className, { structure, pointer });
}

/**
 * Keys the schema gained after checkpoints were first written, with their defaults. The hash leaves them
 * out where they hold the default, so a model that uses none of them keeps the hash its checkpoints
 * recorded (the resolved spec now spells them out, and would hash differently otherwise).
 */
const LATER_DEFAULTS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  model: { tie_embeddings: false },
  // top_k and aux_loss have no schema default (top_k's, 2, holds only with experts): these strip a spec's
  // explicit defaults, so that writing them out does not change the hash.
  feed_forward: { gated: false, bias: true, top_k: 2, aux_loss: 0 },
  multi_head_attention: { rope: false, qk_norm: false },
};

function withoutLaterDefaults(model: Spec["model"]): unknown {
  const strip = (value: unknown, kind: string | undefined): unknown => {
    if (Array.isArray(value)) return value.map((v) => strip(v, undefined));
    if (!value || typeof value !== "object") return value;
    const entries = Object.entries(value as Record<string, unknown>);
    const own = kind ?? (value as { kind?: unknown }).kind;
    const defaults = typeof own === "string" ? LATER_DEFAULTS[own] : undefined;
    return Object.fromEntries(entries.filter(([k, v]) => !(defaults && k in defaults && defaults[k] === v)).map(([k, v]) => [k, strip(v, undefined)]));
  };
  return strip(model, "model");
}

function located(locs: LocMap, pointer: Pointer, message: string, part: "key" | "value" = "value"): SpecError {
  const d: Diagnostic = { loc: locate(locs, pointer, part), message };
  return new SpecError([d]);
}

export function pascalCase(name: string): string {
  return name
    .split(/[-_]/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join("");
}
