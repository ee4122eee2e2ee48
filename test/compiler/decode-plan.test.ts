// The decode plan (compiler/serialize/decode): every spec of the ladder and every parity variant gets
// one; its steps read only what earlier steps wrote, no two activations alive at once share a buffer, the
// steps after the last attention run on the last rows alone; and a forward the plan cannot follow is
// refused with the reason, never planned as something else.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { decodePlan, loadSpec, lowerSpec, stepInputs, type DecodePlan } from "../../compiler/index.js";
import { planOf } from "../../compiler/serialize/decode/index.js";
import { buildModuleFile } from "../../compiler/tree/build.js";
import type { Expr, ModuleFile, Stmt } from "../../compiler/tree/nodes.js";
import { PROJECT_ROOT } from "../helpers/project.js";

const SPECS = [
  ...readdirSync(join(PROJECT_ROOT, "specs")).filter((f) => f.endsWith(".yaml")).map((f) => `specs/${f}`),
  ...readdirSync(join(PROJECT_ROOT, "test/parity/specs")).map((f) => `test/parity/specs/${f}`),
];

const irOf = (spec: string) => lowerSpec(loadSpec(join(PROJECT_ROOT, spec), { cwd: PROJECT_ROOT }));

function planned(spec: string, vocab = 65): DecodePlan {
  const plan = decodePlan(irOf(spec), vocab);
  if ("unsupported" in plan) throw new Error(`${spec}: ${plan.unsupported}`);
  return plan;
}

describe("decodePlan", () => {
  it.each(SPECS)("%s: steps read what earlier steps wrote, and no live activations share a buffer", (spec) => {
    const plan = planned(spec);
    const lastRead = new Map<number, number>();
    plan.steps.forEach((s, i) => stepInputs(s).forEach((v) => lastRead.set(v, i)));
    const written = new Set<number>();
    const holder = new Map<number, number>(); // buffer → the activation living in it
    plan.steps.forEach((s, i) => {
      for (const v of stepInputs(s)) {
        expect(written.has(v), `${spec}: step ${i} (${s.kind}) reads ${v} before it is written`).toBe(true);
        expect(holder.get(plan.values[v]!.buffer), `${spec}: step ${i} reads ${v}, whose buffer another took`).toBe(v);
      }
      const b = plan.values[s.out]!.buffer;
      expect(plan.buffers[b]!.width).toBeGreaterThanOrEqual(plan.values[s.out]!.width);
      expect(plan.buffers[b]!.last).toBe(s.last);
      holder.set(b, s.out);
      written.add(s.out);
      for (const v of stepInputs(s)) if (lastRead.get(v) === i && holder.get(plan.values[v]!.buffer) === v) holder.delete(plan.values[v]!.buffer);
    });
    expect(plan.values[plan.logits]!.width).toBe(65);
    // Last rows from the last attention on, every position before it.
    const lastAttention = plan.steps.map((s) => s.kind).lastIndexOf("attention");
    expect(plan.steps.map((s) => s.last)).toEqual(plan.steps.map((_, i) => i >= lastAttention));
  });

  it("the bigram's plan is the table's row of the last token", () => {
    const plan = planned("specs/01-bigram.yaml");
    expect(plan.steps).toEqual([{ kind: "embed", out: 0, table: 0, last: true }]);
    expect(plan.tensors).toEqual([{ name: "token_embedding.weight", shape: [65, 65] }]);
  });

  it("the baby GPT's: the lecture's heads as one product, a cache per block, GELU, a vocabulary of 50,257", () => {
    const plan = planned("specs/12-baby-gpt.yaml", 50257);
    const attention = plan.steps.filter((s) => s.kind === "attention");
    expect(attention).toHaveLength(4);
    expect(plan.caches).toEqual(Array(4).fill({ kvHeads: 4, headSize: 32 }));
    const qkv = plan.steps.find((s) => s.kind === "linear" && s.weights.length > 1);
    expect(qkv && qkv.kind === "linear" && qkv.weights.map((w) => plan.tensors[w]!.name)).toEqual(
      ["query", "key", "value"].flatMap((p) => [0, 1, 2, 3].map((h) => `blocks.0.attn.heads.${h}.${p}.weight`)),
    );
    expect(plan.steps.filter((s) => s.kind === "activation").map((s) => s.kind === "activation" && s.fn)).toEqual(Array(4).fill("gelu"));
    expect(plan.tensors.find((t) => t.name === "lm_head.weight")?.shape).toEqual([50257, 128]);
  });

  it("the shared block: one set of weights, a cache per application", () => {
    const plan = planned("test/parity/specs/shared.yaml");
    expect(plan.caches).toHaveLength(3);
    expect(new Set(plan.steps.flatMap((s) => (s.kind === "attention" ? [s.cache] : []))).size).toBe(3);
    expect(plan.tensors.filter((t) => t.name.startsWith("blocks.1"))).toEqual([]);
  });
});

/** The tree with every expression rewritten by f (depth first). */
function rewrite(file: ModuleFile, f: (e: Expr) => Expr | undefined): ModuleFile {
  const expr = (e: Expr): Expr => {
    const r = f(e);
    if (r) return r;
    switch (e.kind) {
      case "call":
        return { ...e, module: expr(e.module), args: e.args.map(expr) };
      case "op":
        return { ...e, args: Object.fromEntries(Object.entries(e.args).map(([k, a]) => [k, typeof a === "object" && a !== null && !Array.isArray(a) ? expr(a as Expr) : a])) };
      default:
        return e;
    }
  };
  const stmts = (body: readonly Stmt[]): Stmt[] =>
    body.map((s) => {
      switch (s.kind) {
        case "let":
        case "set":
        case "return":
        case "unpack":
          return { ...s, value: expr(s.value) };
        case "for":
        case "times":
        case "scope":
          return { ...s, body: stmts(s.body) };
        default:
          return s;
      }
    });
  const forward = <F extends { body: readonly Stmt[] }>(fw: F | undefined): F | undefined => (fw ? { ...fw, body: stmts(fw.body) } : undefined);
  return {
    ...file,
    classes: file.classes.map((c) => ({ ...c, ...(c.forward ? { forward: forward(c.forward)! } : {}) })),
    model: { ...file.model, forward: forward(file.model.forward)! },
  };
}

describe("a forward the plan cannot follow", () => {
  const file = buildModuleFile(irOf("specs/15-modern.yaml"));

  it("as generated, it follows", () => {
    expect("unsupported" in planOf(file, 256, 65)).toBe(false);
  });

  it("an op it does not know", () => {
    const odd = rewrite(file, (e) => (e.kind === "op" && e.op === "gated_activation" ? { ...e, op: "mystery" } : undefined));
    expect(planOf(odd, 256, 65)).toEqual({ unsupported: "the op mystery" });
  });

  it("a layer that reads positions in a forward given no cache", () => {
    const odd = rewrite(file, (e) => (e.kind === "call" && e.cache === true ? { kind: "call", module: e.module, args: e.args } : undefined));
    expect(planOf(odd, 256, 65)).toEqual({ unsupported: "CausalSelfAttention reads positions in a forward given no cache" });
  });

  it("a matrix product it does not recognize as attention", () => {
    const odd = rewrite(file, (e) => (e.kind === "op" && e.op === "causal_attention" ? { kind: "op", op: "matmul", args: { a: e.args["q"]!, b: e.args["k"]! } } : undefined));
    expect(planOf(odd, 256, 65)).toEqual({ unsupported: "a matrix product" });
  });
});
