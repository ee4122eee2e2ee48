// What the IR knows before anything runs: every parameter's dotted name and shape, the exact parameter
// count, forward FLOPs per token, and the activation memory a training step keeps at a batch size.
import type { ModelIR } from "./model.js";
import { nodeDef, type IrNode } from "./nodes/index.js";
import { resolveWidth, showWidth, type Dims, type Width } from "./width.js";

export interface NamedParam {
  /** Dotted name, as in checkpoints: blocks.0.attn.heads.1.query.weight */
  readonly name: string;
  readonly shape: readonly Width[];
}

const join = (a: string, b: string): string => (a === "" ? b : b === "" ? a : `${a}.${b}`);

/** The path segment a node adds: containers without a name (residual) and dropout add none. */
function pathOf(node: IrNode, prefix: string): string {
  return "name" in node ? join(prefix, node.name) : prefix;
}

function walk(nodes: readonly IrNode[], prefix: string, visit: (node: IrNode, path: string, depth: number) => void, depth = 0): void {
  for (const node of nodes) {
    const path = pathOf(node, prefix);
    visit(node, path, depth);
    for (const group of nodeDef(node.kind).children(node as never)) walk(group.nodes, join(path, group.prefix), visit, depth + 1);
  }
}

/**
 * Like walk, for totals: a repeat's body is visited once with its number of copies instead of once per
 * copy, so counting stays cheap whatever `times` a spec asks for (a million copies must be refused by
 * size, not hang the counting).
 */
function walkCounted(nodes: readonly IrNode[], visit: (node: IrNode, copies: number) => void, count: "weights" | "applications", copies = 1): void {
  for (const node of nodes) {
    visit(node, copies);
    // A shared repeat holds one copy of the weights and applies it `times` times.
    if (node.kind === "repeat") walkCounted(node.block.body, visit, count, copies * (node.shared && count === "weights" ? 1 : node.times));
    else for (const group of nodeDef(node.kind).children(node as never)) walkCounted(group.nodes, visit, count, copies);
  }
}

/** Whether a layer, or one inside it, reads positions (NodeDef.readsPositions): it takes the KV cache. */
export function readsPositions(node: IrNode): boolean {
  const def = nodeDef(node.kind);
  return def.readsPositions === true || def.children(node as never).some((g) => g.nodes.some(readsPositions));
}

export function namedParams(ir: ModelIR): NamedParam[] {
  const out: NamedParam[] = [];
  walk(ir.layers, "", (node, path) => {
    for (const p of nodeDef(node.kind).params(node as never)) out.push({ name: join(path, p.name), shape: p.shape });
  });
  return out;
}

export function countParams(ir: ModelIR, vocab: number): number {
  const dims: Dims = { vocab, T: ir.blockSize };
  let n = 0;
  walkCounted(
    ir.layers,
    (node, copies) => {
      for (const p of nodeDef(node.kind).params(node as never)) n += copies * p.shape.reduce<number>((a, w) => a * resolveWidth(w, dims), 1);
    },
    "weights",
  );
  return n;
}

/**
 * The parameters a token runs: all of them, less those of the experts a router did not choose for it
 * (NodeDef.inactiveParams). Equal to countParams for a model without experts.
 */
export function activeParams(ir: ModelIR, vocab: number): number {
  const dims: Dims = { vocab, T: ir.blockSize };
  let inactive = 0;
  walkCounted(
    ir.layers,
    (node, copies) => {
      inactive += copies * (nodeDef(node.kind).inactiveParams?.(node as never, dims) ?? 0);
    },
    "weights",
  );
  return countParams(ir, vocab) - inactive;
}

export interface Costs {
  /** Forward FLOPs per token at T = block_size: 2 per multiply-add, 1 per elementwise op (approximate). */
  readonly flopsPerToken: number;
  /** Floats kept per token for the backward pass (outputs of each layer, attention maps, the loss). */
  readonly activationsPerToken: number;
}

export function costs(ir: ModelIR, dims: Dims): Costs {
  let flops = 0;
  let activations = 0;
  walkCounted(
    ir.layers,
    (node, copies) => {
      const c = nodeDef(node.kind).cost(node as never, dims);
      flops += copies * c.flops;
      activations += copies * c.activations;
    },
    "applications",
  );
  // softmax cross-entropy over the logits: exp, sum, log per entry; keeps the probabilities
  flops += 4 * dims.vocab;
  activations += dims.vocab;
  return { flopsPerToken: flops, activationsPerToken: activations };
}

/** Bytes of float32 activations one training step holds at batch size B and T = block_size. */
export function activationBytes(ir: ModelIR, vocab: number, batch: number): number {
  return costs(ir, { vocab, T: ir.blockSize }).activationsPerToken * batch * ir.blockSize * 4;
}

/**
 * Bytes a training step needs: weights, gradients and two Adam moments (4 copies of the parameters),
 * plus the activations at the batch size.
 */
export function trainingBytes(ir: ModelIR, vocab: number, batch: number): number {
  return 4 * 4 * countParams(ir, vocab) + activationBytes(ir, vocab, batch);
}

/** Bytes a forward pass needs (evaluation, sampling): the weights and the activations at the batch size. */
export function inferenceBytes(ir: ModelIR, vocab: number, batch: number): number {
  return 4 * countParams(ir, vocab) + activationBytes(ir, vocab, batch);
}

export interface SummaryRow {
  readonly path: string;
  readonly kind: string;
  readonly output: string;
  readonly params: number;
  readonly depth: number;
  /** Why a layer's count is not its weights' size: a tied head reads another layer's table. */
  readonly note?: string;
}

/** Rows for `inspect`, like Keras' summary(): each layer, its output shape and its own parameters. */
export function summaryRows(ir: ModelIR, vocab: number): SummaryRow[] {
  const dims: Dims = { vocab, T: ir.blockSize };
  const size = (shape: readonly Width[]): number => shape.reduce<number>((a, w) => a * resolveWidth(w, dims), 1);
  const rows: SummaryRow[] = [];
  const visit = (nodes: readonly IrNode[], prefix: string, depth: number): void => {
    for (const node of nodes) {
      const path = pathOf(node, prefix);
      const def = nodeDef(node.kind);
      const own = def.params(node as never).reduce((n, p) => n + size(p.shape), 0);
      const output = `(B, T, ${showWidth(def.outWidth(node as never))})`;
      if (node.kind === "repeat") {
        const per = subtreeParams(node.block.body, size);
        const of = node.block.defined ? ` of ${node.block.defined}` : "";
        rows.push({ path, kind: `repeat ×${node.times}${of}${node.shared ? " shared" : ""}`, output, params: node.shared ? per : per * node.times, depth });
        visit(node.block.body, join(path, "0"), depth + 1);
        if (node.times > 1 && node.shared) {
          rows.push({ path: `${node.times - 1} more`, kind: `applications of ${join(path, "0")}`, output, params: 0, depth: depth + 1, note: `sharing ${join(path, "0")}'s weights` });
        } else if (node.times > 1) {
          // blocks.1…3 for the rest; blocks.1 alone when there is one more
          const rest = node.times === 2 ? join(path, "1") : `${join(path, "1")}…${node.times - 1}`;
          rows.push({ path: rest, kind: `same as ${join(path, "0")}`, output, params: per * (node.times - 1), depth: depth + 1 });
        }
        continue;
      }
      const children = def.children(node as never);
      const note = node.kind === "linear" && node.tiedTo !== undefined ? `weight is ${node.tiedTo}'s table, counted there` : undefined;
      const shown = node.kind === "residual" ? "+" : node.kind === "save" ? "" : path;
      const kind =
        node.kind === "save"
          ? `save as ${node.label}`
          : node.kind === "add"
            ? `add from ${node.label}${node.learned ? " (learned)" : ""}`
            : node.kind === "feed_forward" && node.moe
              ? `feed_forward, ${node.moe.topK} of ${node.moe.experts} experts`
              : node.kind === "block" && node.defined
                ? `${node.defined} (defined)`
                : node.kind;
      rows.push({ path: shown, kind, output, params: own, depth, ...(note ? { note } : {}) });
      for (const group of children) visit(group.nodes, join(path, group.prefix), depth + 1);
    }
  };
  visit(ir.layers, "", 0);
  return rows;
}

function subtreeParams(nodes: readonly IrNode[], size: (shape: readonly Width[]) => number): number {
  let n = 0;
  walkCounted(
    nodes,
    (node, copies) => {
      for (const p of nodeDef(node.kind).params(node as never)) n += copies * size(p.shape);
    },
    "weights",
  );
  return n;
}

export interface LargestTensor {
  readonly bytes: number;
  readonly what: string;
}

/**
 * The largest single float32 tensor a training step at batch `batch` holds, bounded from the IR: each
 * parameter, the activations (B·T by the widest dimension of any parameter, the vocabulary included,
 * which bounds every layer's output and the logits), and every attention layer's weights (B·heads·T·T,
 * the largest in a GPT at long contexts). A backend whose buffers are capped (WebGPU) checks it first.
 */
export function largestTensor(ir: ModelIR, vocab: number, batch: number): LargestTensor {
  const dims = { vocab, T: ir.blockSize };
  const T = ir.blockSize;
  let best: LargestTensor = { bytes: 0, what: "" };
  const consider = (floats: number, what: string): void => {
    if (4 * floats > best.bytes) best = { bytes: 4 * floats, what };
  };
  let widest = 0;
  for (const p of namedParams(ir)) {
    const shape = p.shape.map((w) => resolveWidth(w, dims));
    consider(shape.reduce((a, d) => a * d, 1), `the parameter ${p.name} [${shape.join(", ")}]`);
    widest = Math.max(widest, ...shape);
  }
  consider(batch * T * widest, `activations of batch × context × ${widest} (B·T·width)`);
  walk(ir.layers, "", (node, path) => {
    const heads = nodeDef(node.kind).attentionHeads?.(node as never) ?? 0;
    if (heads > 0) consider(batch * heads * T * T, `the attention weights of ${path || node.kind} (batch ${batch} × ${heads} head${heads === 1 ? "" : "s"} × ${T} × ${T})`);
  });
  return best;
}
