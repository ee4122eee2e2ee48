// The module tree's forward, run symbolically into the steps of a decode plan (plan.ts). The model's
// constructor is walked first, so every field is known for what it is (a module, a library layer, a
// weight by the dotted name the runtime registers it under, a number), then the forward: every statement
// as the generated code runs it in evaluation mode, every op of the catalogue turned into plan steps.
// Anything this does not know (an op spelled some other way, a layout it cannot follow) stops it with a
// reason, and the model samples through its generated forward instead: never something computed otherwise.
import type { Activation } from "../../ir/nodes/index.js";
import type { ClassDecl, Expr, Init, Make, ModelDecl, ModuleFile, OpArg, Stmt } from "../../tree/nodes.js";
import type { Operand, PlanExpert, PlanStep, PlanTensor } from "./plan.js";

/** Why a model has no plan; caught by decodePlan, which reports it. */
export class Unplannable extends Error {}

const refuse = (why: string): never => {
  throw new Unplannable(why);
};

/** How an activation's row is read: (B, T, width); (B, T, heads, size); or that transposed, (B, heads, T, size). */
type Layout = { readonly kind: "rows" } | { readonly kind: "split" | "heads"; readonly heads: number; readonly size: number };
const ROWS: Layout = { kind: "rows" };

interface Act {
  readonly t: "act";
  readonly id: number;
  readonly width: number;
  readonly layout: Layout;
  /** Keys or values after the cache statement: the cache they go to. */
  readonly cached?: number;
  /** A column range of a packed projection (the lecture's heads: q, k, v side by side). */
  readonly offset?: number;
}

interface Instance {
  readonly decl: ClassDecl | ModelDecl;
  readonly path: string;
  readonly params: ReadonlyMap<string, Sym>;
  readonly fields: Map<string, Sym>;
}

type Library =
  | { readonly kind: "Linear"; readonly weight: number; readonly bias: number | null; readonly nIn: number; readonly nOut: number }
  | { readonly kind: "Embedding"; readonly weight: number; readonly dim: number }
  | { readonly kind: "Dropout" };

/** q·kᵀ of one head on its way to the weights: scaled, masked, softmaxed, in that order. */
interface Scores {
  readonly t: "scores";
  readonly q: Act;
  readonly k: Act;
  readonly scale: number;
  readonly stage: "raw" | "masked" | "weights";
}

type Sym =
  | Act
  | Scores
  | { readonly t: "num"; readonly value: number }
  | { readonly t: "flag"; readonly value: boolean }
  | { readonly t: "none" }
  | { readonly t: "dim"; readonly axis: "B" | "T" }
  | { readonly t: "past" }
  | { readonly t: "tokens" }
  | { readonly t: "module"; readonly inst: Instance }
  | { readonly t: "library"; readonly lib: Library }
  | { readonly t: "list"; readonly items: readonly Sym[] }
  | { readonly t: "tensor"; readonly index: number; readonly shape: readonly number[] }
  /** A table computed in a constructor (rotary cos or sin, a sinusoidal code), before it is a buffer. */
  | { readonly t: "table"; readonly shape: readonly number[] }
  /** The rows of a position table at x's positions. */
  | { readonly t: "positions"; readonly table: number; readonly width: number }
  /** A part of a mixture's routing; the steps that use it read the router's scores. */
  | { readonly t: "routing"; readonly part: "probs" | "weights" | "chosen"; readonly scores: Act; readonly k: number };

/** The KV cache a forward was given: which application of a shared layer it is the view of. */
interface CacheView {
  readonly application: number;
}

class Scope {
  readonly #vars = new Map<string, Sym>();
  constructor(readonly parent?: Scope) {}
  get(name: string): Sym {
    const v = this.#vars.get(name) ?? this.parent?.get(name);
    return v ?? refuse(`the forward reads ${name} before it is set`);
  }
  has(name: string): boolean {
    return this.#vars.has(name) || (this.parent?.has(name) ?? false);
  }
  declare(name: string, value: Sym): void {
    this.#vars.set(name, value);
  }
  assign(name: string, value: Sym): void {
    if (this.#vars.has(name) || !this.parent?.has(name)) this.#vars.set(name, value);
    else this.parent.assign(name, value);
  }
}

/** A forward's context: its module, the cache it was given, its locals. */
interface Frame {
  readonly self: Instance;
  readonly cache: CacheView | undefined;
  readonly scope: Scope;
}

export interface Interpreted {
  readonly tensors: readonly PlanTensor[];
  /** Each activation's width, by id. */
  readonly widths: readonly number[];
  /** Steps in order, over activation ids; `last` is decided afterwards (layout.ts). */
  readonly steps: readonly PlanStep[];
  readonly caches: readonly { readonly kvHeads: number; readonly headSize: number }[];
  readonly logits: number;
}

type StepBody = PlanStep extends infer S ? (S extends { last: boolean } ? Omit<S, "last"> : never) : never;

export function interpret(file: ModuleFile, vocab: number): Interpreted {
  const classes = new Map(file.classes.map((c) => [c.name, c]));
  const tensors: PlanTensor[] = [];
  const tensorIndex = new Map<string, number>();
  const widths: number[] = [];
  const steps: PlanStep[] = [];
  const caches: { kvHeads: number; headSize: number }[] = [];

  const tensor = (name: string, shape: readonly number[]): Sym & { t: "tensor" } => {
    let index = tensorIndex.get(name);
    if (index === undefined) {
      index = tensors.length;
      tensors.push({ name, shape });
      tensorIndex.set(name, index);
    } else if (tensors[index]!.shape.join() !== shape.join()) {
      refuse(`${name} is read as ${shape.join("x")} and as ${tensors[index]!.shape.join("x")}`);
    }
    return { t: "tensor", index, shape };
  };
  const act = (width: number, layout: Layout = ROWS): Act => {
    widths.push(width);
    return { t: "act", id: widths.length - 1, width, layout };
  };
  const emit = (step: StepBody): void => void steps.push({ ...step, last: false } as PlanStep);

  // ---- values ----
  const num = (s: Sym, what: string): number => (s.t === "num" ? s.value : refuse(`${what} is not a number`));
  const asAct = (s: Sym, what: string): Act => (s.t === "act" ? s : refuse(`${what} is not an activation (${s.t})`));
  const optTensor = (s: Sym | undefined, what: string): number | null => (s === undefined || s.t === "none" ? null : s.t === "tensor" ? s.index : refuse(`${what} is not a weight`));
  /** An activation read whole, as rows (an elementwise step reads any layout the same). */
  const plain = (a: Act, what: string): Act => (a.offset === undefined ? a : refuse(`${what} reads part of a packed projection`));

  // ---- constructors ----
  function instantiate(make: Make, path: string, scope: Scope, self: Instance | undefined): Sym {
    if (make.kind === "library") {
      const arg = (name: string): Sym => {
        const e = make.args[name];
        return e === undefined || typeof e === "boolean" ? { t: "flag", value: e === true } : evalPlain(e, scope, self);
      };
      switch (make.name) {
        case "Linear": {
          const nIn = num(arg("n_in"), `${path}'s input width`);
          const nOut = num(arg("n_out"), `${path}'s output width`);
          const w = tensor(`${path}.weight`, [nOut, nIn]);
          const bias = make.args["bias"] === true ? tensor(`${path}.bias`, [nOut]).index : null;
          return { t: "library", lib: { kind: "Linear", weight: w.index, bias, nIn, nOut } };
        }
        case "TiedLinear": {
          const nIn = num(arg("n_in"), `${path}'s input width`);
          const nOut = num(arg("n_out"), `${path}'s output width`);
          const table = arg("table");
          if (table.t !== "library" || table.lib.kind !== "Embedding") return refuse(`${path} is tied to something other than an embedding`);
          const bias = make.args["bias"] === true ? tensor(`${path}.bias`, [nOut]).index : null;
          return { t: "library", lib: { kind: "Linear", weight: table.lib.weight, bias, nIn, nOut } };
        }
        case "Embedding": {
          const count = num(arg("count"), `${path}'s rows`);
          const dim = num(arg("dim"), `${path}'s width`);
          return { t: "library", lib: { kind: "Embedding", weight: tensor(`${path}.weight`, [count, dim]).index, dim } };
        }
        case "Dropout":
          return { t: "library", lib: { kind: "Dropout" } };
      }
    }
    const decl = classes.get(make.name) ?? refuse(`no class ${make.name} in the file`);
    const args = make.args.map((a) => evalPlain(a, scope, self));
    if (args.length !== decl.params.length) refuse(`${make.name} is built with ${args.length} arguments for ${decl.params.length} parameters`);
    return { t: "module", inst: construct(decl, path, new Map(decl.params.map((p, i) => [p.name, args[i]!]))) };
  }

  function construct(decl: ClassDecl | ModelDecl, path: string, params: ReadonlyMap<string, Sym>): Instance {
    const inst: Instance = { decl, path, params, fields: new Map() };
    const scope = new Scope();
    const under = (name: string): string => (path ? `${path}.${name}` : name);
    for (const f of decl.init as readonly Init[]) {
      switch (f.kind) {
        case "module":
          inst.fields.set(f.name, instantiate(f.make, under(f.name), scope, inst));
          break;
        case "modules": {
          const count = f.shared ? 1 : num(evalPlain(f.count, scope, inst), `the length of ${f.name}`);
          const items = Array.from({ length: count }, (_, i) => instantiate(f.make, under(`${f.name}.${i}`), scope, inst));
          inst.fields.set(f.name, { t: "list", items });
          break;
        }
        case "parameter":
          inst.fields.set(f.name, tensor(under(f.name), f.shape.map((s) => num(evalPlain(s, scope, inst), `a dimension of ${f.name}`))));
          break;
        case "buffer": {
          const value = evalPlain(f.value, scope, inst);
          if (value.t !== "table") refuse(`buffer ${f.name} is not a table`);
          inst.fields.set(f.name, tensor(under(f.name), (value as { shape: readonly number[] }).shape));
          break;
        }
        case "value":
          inst.fields.set(f.name, evalPlain(f.value, scope, inst));
          break;
        case "unpack": {
          if (f.value.kind !== "op" || f.value.op !== "rotary_tables") refuse(`a constructor unpacks ${f.value.kind === "op" ? f.value.op : f.value.kind}`);
          const a = (f.value as { args: Readonly<Record<string, OpArg>> }).args;
          const positions = num(evalPlain(a["positions"] as Expr, scope, inst), "rotary positions");
          const dims = num(evalPlain(a["dims"] as Expr, scope, inst), "rotary dims");
          f.names.forEach((n) => scope.declare(n, { t: "table", shape: [positions, dims / 2] }));
          break;
        }
        case "note":
          break;
      }
    }
    return inst;
  }

  /** An expression of sizes, fields and constructor parameters (no tensors are computed here). */
  function evalPlain(e: Expr, scope: Scope, self: Instance | undefined): Sym {
    switch (e.kind) {
      case "num":
        return { t: "num", value: e.value };
      case "config":
        return { t: "num", value: e.slot.value };
      case "vocab":
        return { t: "num", value: vocab };
      case "param":
        return self?.params.get(e.name) ?? refuse(`parameter ${e.name} is not given`);
      case "field":
        return self?.fields.get(e.name) ?? refuse(`field ${e.name} is read before it is built`);
      case "var":
        return scope.get(e.name);
      case "arith": {
        const l = num(evalPlain(e.left, scope, self), "an operand");
        const r = num(evalPlain(e.right, scope, self), "an operand");
        return { t: "num", value: e.op === "*" ? l * r : l ** r };
      }
      case "op":
        if (e.op === "sinusoidal_table") {
          return { t: "table", shape: [num(evalPlain(e.args["positions"] as Expr, scope, self), "positions"), num(evalPlain(e.args["width"] as Expr, scope, self), "width")] };
        }
        return refuse(`a constructor computes ${e.op}`);
      default:
        return refuse(`a constructor reads ${e.kind}`);
    }
  }

  // ---- the forward ----
  function callForward(inst: Instance, args: readonly Sym[], cache: CacheView | undefined): Sym {
    const forward = inst.decl.forward ?? refuse(`${inst.decl.name} has no forward`);
    const scope = new Scope();
    scope.declare(inst.decl === file.model ? "idx" : "x", args[0] ?? refuse("a forward called without input"));
    if (args.length > 1) refuse(`${inst.decl.name}'s forward takes ${args.length} inputs`);
    const returned = run(forward.body, { self: inst, cache, scope });
    if (inst.decl === file.model) return scope.get("logits");
    return returned ?? refuse(`${inst.decl.name}'s forward returns nothing`);
  }

  /** Runs statements; the value of a `return`, if one ran. */
  function run(body: readonly Stmt[], frame: Frame): Sym | undefined {
    for (const s of body) {
      switch (s.kind) {
        case "let":
          frame.scope.declare(s.name, evaluate(s.value, frame));
          break;
        case "set":
          frame.scope.assign(s.name, evaluate(s.value, frame));
          break;
        case "return":
          return evaluate(s.value, frame);
        case "unpack": {
          const value = evaluate(s.value, frame);
          if (value.t !== "list" || value.items.length !== s.names.length) refuse(`unpacking ${s.names.length} values from one`);
          s.names.forEach((n, i) => n !== "_" && frame.scope.declare(n, (value as { items: readonly Sym[] }).items[i]!));
          break;
        }
        case "shape": {
          const of = asAct(evaluate(s.of, frame), "a shape's tensor");
          if (of.layout.kind !== "rows" || s.rank !== 3) refuse("a shape read of a tensor other than (B, T, C)");
          s.names.forEach((n, i) => frame.scope.declare(n, i === 0 ? { t: "dim", axis: "B" } : i === 1 ? { t: "dim", axis: "T" } : { t: "num", value: of.width }));
          break;
        }
        case "note":
        case "aux_loss": // a training loss: it changes no logits
          break;
        case "for": {
          const over = evaluate(s.over, frame);
          if (over.t !== "list") return refuse("a loop over something other than a list of modules");
          for (const item of over.items) {
            const scope = new Scope(frame.scope);
            scope.declare(s.item, item);
            const r = run(s.body, { ...frame, scope });
            if (r) return r;
          }
          break;
        }
        case "times": {
          const count = num(evaluate(s.count, frame), "a loop's count");
          for (let i = 0; i < count; i++) {
            const scope = new Scope(frame.scope);
            scope.declare(s.index, { t: "num", value: i });
            const r = run(s.body, { ...frame, scope });
            if (r) return r;
          }
          break;
        }
        case "scope": {
          const r = run(s.body, { ...frame, scope: new Scope(frame.scope) });
          if (r) return r;
          break;
        }
        case "cache": {
          if (!frame.cache) return refuse(`${frame.self.decl.name} caches keys and values in a forward given no cache`);
          const k = asAct(frame.scope.get(s.k), "cached keys");
          const v = asAct(frame.scope.get(s.v), "cached values");
          const heads = k.layout.kind === "heads" ? k.layout : { heads: 1, size: k.width };
          caches.push({ kvHeads: heads.heads, headSize: heads.size });
          const slot = caches.length - 1;
          frame.scope.assign(s.k, { ...k, cached: slot });
          frame.scope.assign(s.v, { ...v, cached: slot });
          break;
        }
      }
    }
    return undefined;
  }

  function evaluate(e: Expr, frame: Frame): Sym {
    switch (e.kind) {
      case "var":
        return frame.scope.get(e.name);
      case "past":
        return frame.cache ? { t: "past" } : refuse(`${frame.self.decl.name} reads positions in a forward given no cache`);
      case "call": {
        const callee = evaluate(e.module, frame);
        const args = e.args.map((a) => evaluate(a, frame));
        const cache = e.cache === undefined || e.cache === false ? undefined : e.cache === true ? frame.cache : frame.cache ? { application: num(evaluate(e.cache, frame), "a cache application") } : undefined;
        if (callee.t === "module") return callForward(callee.inst, args, cache);
        if (callee.t === "library") return callLibrary(callee.lib, args[0] ?? refuse("a layer called without input"));
        return refuse(`calling ${callee.t}`);
      }
      case "item": {
        const of = evaluate(e.of, frame);
        return of.t === "list" ? (of.items[e.index] ?? refuse(`item ${e.index} of a list of ${of.items.length}`)) : refuse("an item of something other than a list");
      }
      case "op":
        return evalOp(e.op, e.args, frame);
      case "dim": {
        const of = asAct(evaluate(e.of, frame), "a dimension's tensor");
        if (of.layout.kind !== "rows") return refuse("a dimension of a tensor of heads");
        return e.axis === 0 ? { t: "dim", axis: "B" } : e.axis === 1 ? { t: "dim", axis: "T" } : { t: "num", value: of.width };
      }
      default:
        return evalPlain(e, frame.scope, frame.self);
    }
  }

  function callLibrary(lib: Library, input: Sym): Sym {
    switch (lib.kind) {
      case "Dropout":
        return input; // evaluation mode
      case "Embedding": {
        if (input.t !== "tokens") return refuse("an embedding looked up by something other than the token ids");
        const out = act(lib.dim);
        emit({ kind: "embed", out: out.id, table: lib.weight });
        return out;
      }
      case "Linear": {
        const x = plain(asAct(input, "a linear layer's input"), "a linear layer");
        if (x.layout.kind !== "rows") return refuse("a linear layer over heads");
        if (x.width !== lib.nIn) return refuse(`a linear layer of ${lib.nIn} inputs reads ${x.width}`);
        const out = act(lib.nOut);
        emit({ kind: "linear", x: x.id, out: out.id, weights: [lib.weight], biases: lib.bias === null ? null : [lib.bias] });
        return out;
      }
    }
  }

  function evalArg(a: OpArg | undefined, frame: Frame): Sym {
    if (a === undefined) return { t: "none" };
    if (typeof a === "boolean") return { t: "flag", value: a };
    if (typeof a === "number") return { t: "num", value: a };
    if (typeof a === "string") return refuse(`an op argument "${a}"`);
    if (Array.isArray(a)) return { t: "list", items: (a as readonly Expr[]).map((x) => evaluate(x, frame)) };
    return evaluate(a as Expr, frame);
  }

  /** The attention options besides dropout (evaluation mode): window, ALiBi, cap. */
  function shaping(args: Readonly<Record<string, OpArg>>, frame: Frame): { window: number; alibi: boolean; softcap: number } {
    const window = evalArg(args["window"], frame);
    const cap = evalArg(args["softcap"], frame);
    return {
      window: window.t === "none" ? 0 : num(window, "the window"),
      alibi: args["alibi"] === true,
      softcap: cap.t === "none" ? 0 : num(cap, "the score cap"),
    };
  }

  function evalOp(name: string, args: Readonly<Record<string, OpArg>>, frame: Frame): Sym {
    const arg = (n: string): Sym => evalArg(args[n], frame);
    switch (name) {
      case "add": {
        const a = arg("a");
        const b = arg("b");
        if (a.t === "act" && b.t === "positions") return addPositions(a, b);
        if (a.t === "positions" && b.t === "act") return addPositions(b, a);
        const x = plain(asAct(a, "a sum's term"), "a sum");
        const y = plain(asAct(b, "a sum's term"), "a sum");
        if (x.width !== y.width || x.layout.kind !== y.layout.kind) return refuse("a sum of tensors of different shapes");
        const out = act(x.width, x.layout);
        emit({ kind: "add", a: x.id, b: y.id, out: out.id });
        return out;
      }
      case "mul": {
        const a = arg("a");
        const b = arg("b");
        if (a.t === "scores" && b.t === "num") return a.stage === "raw" ? { ...a, scale: a.scale * b.value } : refuse("scores scaled after masking");
        const x = plain(asAct(a, "a product's factor"), "a product");
        const out = act(x.width, x.layout);
        if (b.t === "num") emit({ kind: "scale", x: x.id, out: out.id, by: b.value });
        else if (b.t === "tensor" && b.shape.length === 1 && b.shape[0] === 1) emit({ kind: "scale_by", x: x.id, out: out.id, by: b.index });
        else return refuse("a product of tensors");
        return out;
      }
      case "matmul": {
        const a = arg("a");
        const b = asAct(arg("b"), "a matrix product's right factor");
        if (a.t === "act" && args["transposeB"] === true) {
          if (b.cached === undefined) return refuse("scores over keys the cache does not hold");
          if (a.layout.kind !== "rows" || b.layout.kind !== "rows" || a.width !== b.width) return refuse("scores of one head over another's keys");
          return { t: "scores", q: a, k: b, scale: 1, stage: "raw" };
        }
        if (a.t === "scores" && args["transposeB"] !== true) {
          if (a.stage !== "weights") return refuse("values weighted by scores that are not softmaxed");
          if (b.cached !== a.k.cached) return refuse("values from another cache than the keys");
          return attention(a.q, a.k, b, 1, 1, a.q.width, a.scale, { window: 0, alibi: false, softcap: 0 });
        }
        return refuse("a matrix product");
      }
      case "causal_mask": {
        const s = arg("scores");
        return s.t === "scores" && s.stage === "raw" ? { ...s, stage: "masked" } : refuse("a causal mask over something other than a head's scores");
      }
      case "softmax": {
        const s = arg("x");
        return s.t === "scores" && s.stage === "masked" ? { ...s, stage: "weights" } : refuse("a softmax over something other than masked scores");
      }
      case "reshape":
        return reshape(asAct(arg("x"), "a reshaped tensor"), arg("dims"));
      case "transpose": {
        const x = asAct(arg("x"), "a transposed tensor");
        const perm = args["perm"] as readonly number[];
        if (perm.join() !== "0,2,1,3" || x.layout.kind === "rows") return refuse(`a transpose ${perm.join(",")}`);
        return { ...x, layout: { ...x.layout, kind: x.layout.kind === "split" ? "heads" : "split" } };
      }
      case "activation": {
        const x = plain(asAct(arg("x"), "an activation's input"), "an activation");
        const out = act(x.width, x.layout);
        emit({ kind: "activation", x: x.id, out: out.id, fn: args["fn"] as Activation });
        return out;
      }
      case "gated_activation": {
        const gate = plain(asAct(arg("gate"), "a gate"), "a gate");
        const up = plain(asAct(arg("up"), "a gated activation's input"), "a gated activation");
        if (gate.width !== up.width) return refuse("a gate of another width than its input");
        const out = act(up.width, up.layout);
        emit({ kind: "gated_activation", gate: gate.id, up: up.id, out: out.id, fn: args["fn"] as Activation });
        return out;
      }
      case "softcap": {
        const x = plain(asAct(arg("x"), "a capped tensor"), "a cap");
        const out = act(x.width, x.layout);
        emit({ kind: "softcap", x: x.id, out: out.id, cap: num(arg("cap"), "the cap") });
        return out;
      }
      case "layer_norm":
      case "rms_norm": {
        const x = plain(asAct(arg("x"), "a normalized tensor"), "a norm");
        if (x.layout.kind === "split") return refuse("a norm of split heads");
        const dim = x.layout.kind === "rows" ? x.width : x.layout.size;
        const gamma = optTensor(arg("gamma"), "a norm's gain");
        const eps = num(arg("eps"), "a norm's eps");
        const out = act(x.width, x.layout);
        if (name === "layer_norm") emit({ kind: "layer_norm", x: x.id, out: out.id, gamma, beta: optTensor(arg("beta"), "a norm's shift"), eps, dim });
        else emit({ kind: "rms_norm", x: x.id, out: out.id, gamma, eps, dim });
        return out;
      }
      case "rope": {
        const x = plain(asAct(arg("x"), "a rotated tensor"), "rotary embedding");
        if (x.layout.kind !== "heads") return refuse("rotary embedding of something other than heads");
        if (arg("past").t !== "past") return refuse("rotary embedding at positions other than the cache's");
        const cos = arg("cos");
        const sin = arg("sin");
        if (cos.t !== "tensor" || sin.t !== "tensor") return refuse("rotary tables that are not buffers");
        const out = act(x.width, x.layout);
        emit({ kind: "rope", x: x.id, out: out.id, cos: cos.index, sin: sin.index, heads: x.layout.heads, headSize: x.layout.size });
        return out;
      }
      case "embedding_rows": {
        const table = arg("table");
        if (arg("past").t !== "past") return refuse("position rows at positions other than the cache's");
        if (table.t !== "library" || table.lib.kind !== "Embedding") return refuse("position rows of something other than an embedding");
        return { t: "positions", table: table.lib.weight, width: table.lib.dim };
      }
      case "table_rows": {
        const table = arg("table");
        if (arg("past").t !== "past") return refuse("position rows at positions other than the cache's");
        if (table.t !== "tensor" || table.shape.length !== 2) return refuse("position rows of something other than a table");
        return { t: "positions", table: table.index, width: table.shape[1]! };
      }
      case "causal_attention": {
        const q = plain(asAct(arg("q"), "queries"), "attention");
        const k = asAct(arg("k"), "keys");
        const v = asAct(arg("v"), "values");
        if (k.cached === undefined || v.cached !== k.cached) return refuse("attention over keys and values the cache does not hold");
        if (q.layout.kind !== "heads" || k.layout.kind !== "heads" || v.layout.kind !== "heads") return refuse("attention over tensors that are not heads");
        if (k.layout.size !== q.layout.size || v.layout.size !== q.layout.size || q.layout.heads % k.layout.heads !== 0) return refuse("attention over heads of other sizes");
        const y = attention(q, k, v, q.layout.heads, k.layout.heads, q.layout.size, num(arg("scale"), "attention's scale"), shaping(args, frame));
        return { ...y, layout: { kind: "heads", heads: q.layout.heads, size: q.layout.size } };
      }
      case "multi_head_causal_attention":
        return lectureAttention(asAct(arg("x"), "attention's input"), arg("heads"), num(arg("scale"), "attention's scale"), shaping(args, frame), frame);
      case "top_k_routing": {
        const scores = plain(asAct(arg("scores"), "a router's scores"), "routing");
        const k = num(arg("k"), "top_k");
        return { t: "list", items: (["probs", "weights", "chosen"] as const).map((part) => ({ t: "routing", part, scores, k })) };
      }
      case "expert_mix":
        return experts(asAct(arg("x"), "the experts' input"), arg("weights"), arg("chosen"), arg("experts"), args["activation"] as Activation);
      default:
        return refuse(`the op ${name}`);
    }
  }

  function addPositions(x: Act, p: Sym & { t: "positions" }): Act {
    if (x.layout.kind !== "rows" || x.width !== p.width) return refuse("position rows added to a tensor of another width");
    const out = act(x.width);
    emit({ kind: "positions", x: plain(x, "position rows").id, out: out.id, table: p.table });
    return out;
  }

  function reshape(x: Act, dims: Sym): Act {
    if (dims.t !== "list") return refuse("a reshape to a computed shape");
    const [b, t, ...rest] = dims.items;
    if (b?.t !== "dim" || b.axis !== "B" || t?.t !== "dim" || t.axis !== "T") return refuse("a reshape that moves the batch or the positions");
    const sizes = rest.map((d) => num(d, "a reshaped dimension"));
    if (sizes.length === 2 && x.layout.kind === "rows" && sizes[0]! * sizes[1]! === x.width) return { ...x, layout: { kind: "split", heads: sizes[0]!, size: sizes[1]! } };
    if (sizes.length === 1 && x.layout.kind === "split" && sizes[0] === x.width) return { ...x, layout: ROWS };
    if (sizes.length === 1 && x.layout.kind === "rows" && sizes[0] === x.width) return x;
    return refuse("a reshape other than splitting or merging heads");
  }

  function attention(q: Act, k: Act, v: Act, heads: number, kvHeads: number, headSize: number, scale: number, s: { window: number; alibi: boolean; softcap: number }): Act {
    const out = act(heads * headSize);
    const operand = (a: Act): Operand => ({ value: a.id, offset: a.offset ?? 0 });
    emit({ kind: "attention", q: operand(q), k: operand(k), v: operand(v), out: out.id, cache: k.cached!, heads, kvHeads, headSize, scale, window: s.window, alibi: s.alibi, softcap: s.softcap });
    return out;
  }

  /** The lecture's heads: every head's q, k and v from one product (their weights stacked), then attention. */
  function lectureAttention(x: Act, heads: Sym, scale: number, s: { window: number; alibi: boolean; softcap: number }, frame: Frame): Act {
    if (!frame.cache) return refuse("multi-head attention in a forward given no cache");
    if (heads.t !== "list" || heads.items.length === 0) return refuse("attention heads that are not a list of modules");
    const parts = (["query", "key", "value"] as const).map((p) =>
      heads.items.map((h) => {
        const lib = h.t === "module" ? h.inst.fields.get(p) : undefined;
        return lib?.t === "library" && lib.lib.kind === "Linear" ? lib.lib : refuse(`a head without a ${p} projection`);
      }),
    );
    const all = parts.flat();
    const hs = all[0]!.nOut;
    const withBias = all.every((l) => l.bias !== null);
    if (all.some((l) => l.nOut !== hs || l.nIn !== x.width || (l.bias !== null) !== withBias)) return refuse("attention heads of different shapes");
    const H = heads.items.length;
    const qkv = act(3 * H * hs);
    emit({ kind: "linear", x: plain(x, "attention").id, out: qkv.id, weights: all.map((l) => l.weight), biases: withBias ? all.map((l) => l.bias!) : null });
    caches.push({ kvHeads: H, headSize: hs });
    const cached = caches.length - 1;
    const view = (offset: number): Act => ({ ...qkv, offset, cached });
    return attention(view(0), view(H * hs), view(2 * H * hs), H, H, hs, scale, s);
  }

  function experts(x: Act, weights: Sym, chosen: Sym, list: Sym, fn: Activation): Act {
    if (weights.t !== "routing" || weights.part !== "weights" || chosen.t !== "routing" || chosen.part !== "chosen" || weights.scores !== chosen.scores) {
      return refuse("experts mixed by weights other than their routing's");
    }
    if (list.t !== "list" || list.items.length === 0) return refuse("experts that are not a list of modules");
    let hidden = -1;
    const planned: PlanExpert[] = list.items.map((item) => {
      const field = (n: string): (Library & { kind: "Linear" }) | undefined => {
        const f = item.t === "module" ? item.inst.fields.get(n) : undefined;
        return f?.t === "library" && f.lib.kind === "Linear" ? f.lib : undefined;
      };
      const fc = field("fc") ?? refuse("an expert without fc");
      const proj = field("proj") ?? refuse("an expert without proj");
      const gate = field("gate");
      if (hidden < 0) hidden = fc.nOut;
      if (fc.nIn !== x.width || proj.nIn !== hidden || proj.nOut !== x.width || fc.nOut !== hidden || (gate && (gate.nIn !== x.width || gate.nOut !== hidden))) {
        return refuse("experts of different shapes");
      }
      return {
        fc: fc.weight,
        proj: proj.weight,
        ...(gate ? { gate: gate.weight } : {}),
        ...(gate && gate.bias !== null ? { gateBias: gate.bias } : {}),
        ...(fc.bias !== null ? { fcBias: fc.bias } : {}),
        ...(proj.bias !== null ? { projBias: proj.bias } : {}),
      };
    });
    if (planned.some((p) => (p.gate === undefined) !== (planned[0]!.gate === undefined))) return refuse("gated and ungated experts in one mixture");
    if (weights.scores.width !== planned.length) return refuse(`a router of ${weights.scores.width} scores over ${planned.length} experts`);
    const out = act(x.width);
    emit({ kind: "experts", x: plain(x, "experts").id, scores: weights.scores.id, out: out.id, topK: weights.k, fn, hidden, experts: planned });
    return out;
  }

  const model = construct(file.model, "", new Map());
  const logits = asAct(callForward(model, [{ t: "tokens" }], file.model.forward.cache ? { application: 0 } : undefined), "the logits");
  if (logits.width !== vocab || logits.layout.kind !== "rows") refuse(`the logits are ${logits.width} wide, not the vocabulary's ${vocab}`);
  return { tensors, widths, steps, caches, logits: plain(logits, "the logits").id };
}
