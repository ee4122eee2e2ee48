// The contract every layer kind fulfils in the IR: lower its spec into a node, list its parameters, and
// estimate its cost. One file under nodes/ per kind implements it.
import type { SpecError } from "../diagnostics/diagnostic.js";
import type { Pointer } from "../spec/located.js";
import type { Width, Dims } from "./width.js";
import type { IrNode, LayerSpecOf, NodeKind, NodeOf } from "./nodes/types.js";

/** A parameter tensor of a node, named relative to the node ("weight", "heads.0.key.weight"). */
export interface ParamDecl {
  readonly name: string;
  readonly shape: readonly Width[];
}

/** Forward cost per token at a sequence length: FLOPs and the floats kept for the backward pass. */
export interface Cost {
  readonly flops: number;
  readonly activations: number;
}

/** Children of a container node, each list under a name prefix ("" adds no segment). */
export interface ChildGroup {
  readonly prefix: string;
  readonly nodes: readonly IrNode[];
}

export interface LowerContext {
  /** JSON pointer of the layer being lowered, for locating errors. */
  readonly pointer: Pointer;
  /** Width of this layer's input; "tokens" before any embedding. */
  readonly input: Width | "tokens";
  /** This layer's name in its scope (assigned before lowering). */
  readonly name: string;
  readonly nEmbd: number | undefined;
  readonly blockSize: number;
  /** training.dropout: the rate for dropout sites that set none. */
  readonly defaultDropout: number;
  /** A located error at a key of this layer (or at the layer itself), for the caller to throw. */
  error(message: string, key?: string): SpecError;
  /**
   * Lowers a nested layer list (under a key, or a path of keys: a parallel layer's branches/0) as a new
   * naming scope (a block's or repeat's body: a class of its own) or the current one (residual bodies,
   * parallel branches).
   */
  lowerList(key: string | readonly (string | number)[], input: Width | "tokens", scope: "same" | "new"): LoweredList;
  /** Records the stream at this layer under a label (a save); an error where the label is taken. */
  saveLabel(label: string, width: Width, key: string): void;
  /** The width of the stream saved under a label (for an add); an error where no save is in reach. */
  readLabel(label: string, key: string): Width;
}

export interface LoweredList {
  readonly nodes: readonly IrNode[];
  readonly output: Width | "tokens";
}

export interface NodeDef<K extends NodeKind> {
  readonly kind: K;
  /**
   * Name in parameter paths when the spec gives none (numbered when a scope has several); undefined for
   * kinds that own no parameters directly and add no path segment (residual, dropout).
   */
  defaultName(spec: LayerSpecOf<K>): string | undefined;
  lower(spec: LayerSpecOf<K>, ctx: LowerContext): NodeOf<K>;
  /** Width of the node's output (its input is (B, T) tokens or (B, T, width) activations). */
  outWidth(node: NodeOf<K>): Width;
  /** Parameters owned directly by this node (not its children). */
  params(node: NodeOf<K>): readonly ParamDecl[];
  /** Nested nodes, for containers. */
  children(node: NodeOf<K>): readonly ChildGroup[];
  /** Own cost per token, children excluded. */
  cost(node: NodeOf<K>, dims: Dims): Cost;
  /**
   * Of its own parameters, how many a token does not run (the experts a router did not choose), for the
   * parameters active per token; absent for kinds that run all of theirs.
   */
  inactiveParams?(node: NodeOf<K>, dims: Dims): number;
  /**
   * True for kinds whose output at a position depends on where it is or on earlier positions (attention,
   * position embeddings): while sampling they take the KV cache, which says what came before.
   */
  readonly readsPositions?: boolean;
  /** For kinds that attend: how many heads' (T, T) weights one application holds. */
  attentionHeads?(node: NodeOf<K>): number;
}

export const NO_CHILDREN: readonly ChildGroup[] = [];
export const NO_PARAMS: readonly ParamDecl[] = [];
