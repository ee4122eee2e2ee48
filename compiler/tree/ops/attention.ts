// Causal attention. TypeScript calls the ops of runtime/ops (causalMask; causalAttention over projected
// heads, grouped or not; multiHeadCausalAttention over a list of heads' projections), which run as one
// kernel where a backend registers one. Python calls functions written out in the module, which use
// PyTorch's scaled_dot_product_attention where it exists and computes the same thing step by step where
// it does not.
import { pyText, tsText, type OpDef, type PyHelper } from "./op.js";
import { op, type Expr } from "../nodes.js";

const CAUSAL_MASK_PY: PyHelper = {
  name: "causal_mask",
  order: 10,
  text: `def causal_mask(scores: torch.Tensor) -> torch.Tensor:
    """Scores (..., Tq, Tk) with -inf where a query would look at a later key, so that softmax gives those
    keys no weight. The queries are the last Tq positions of the Tk."""
    Tq, Tk = scores.shape[-2], scores.shape[-1]
    later = torch.ones(Tq, Tk, dtype=torch.bool, device=scores.device).triu(Tk - Tq + 1)  # (Tq, Tk)
    return scores.masked_fill(later, float("-inf"))`,
};

export const CAUSAL_MASK: OpDef = {
  name: "causal_mask",
  ts: (a) => `causalMask(${tsText(a, "scores")})`,
  py: (a) => `causal_mask(${pyText(a, "scores").text})`,
  pyHelpers: [CAUSAL_MASK_PY],
};

const CAUSAL_ATTENTION_PY: PyHelper = {
  name: "causal_attention",
  order: 20,
  uses: [CAUSAL_MASK_PY],
  text: `# PyTorch 2.0 and later have scaled_dot_product_attention (flash or memory-efficient kernels on a GPU);
# without it, causal_attention computes the same thing step by step.
HAS_SDPA = hasattr(F, "scaled_dot_product_attention")


def causal_attention(
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float, dropout: nn.Dropout | None = None
) -> torch.Tensor:
    """Causal attention of projected heads: q (B, nh, T, hs) over k, v (B, nkv, T, hs) → (B, nh, T, hs).

    For each head: the scores q·k between each position's query and the keys of that position and the
    ones before it, times scale, softmaxed into weights that sum to 1 (then dropout, while training),
    weight the values. With fewer kv heads than query heads (grouped-query attention), query head h reads
    kv head h // (nh / nkv).
    """
    nh, nkv, hs = q.shape[1], k.shape[1], q.shape[3]
    if nkv != nh:
        k = k.repeat_interleave(nh // nkv, dim=1)  # (B, nh, T, hs)
        v = v.repeat_interleave(nh // nkv, dim=1)  # (B, nh, T, hs)
    if HAS_SDPA and scale == hs**-0.5:
        p = dropout.p if dropout is not None and dropout.training else 0.0
        return F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)  # (B, nh, T, hs)
    wei = q @ k.transpose(-2, -1) * scale  # (B, nh, T, T)
    wei = F.softmax(causal_mask(wei), dim=-1)  # (B, nh, T, T): each row sums to 1
    if dropout is not None:
        wei = dropout(wei)
    return wei @ v  # (B, nh, T, hs)`,
};

/** q (B, nh, T, hs) over k, v (B, nkv, T, hs), optionally with dropout on the weights. */
export const CAUSAL_ATTENTION: OpDef = {
  name: "causal_attention",
  ts: (a) => `causalAttention(${tsText(a, "q")}, ${tsText(a, "k")}, ${tsText(a, "v")}, ${tsText(a, "scale")}${a["dropout"] === undefined ? "" : `, ${tsText(a, "dropout")}`})`,
  py: (a) => `causal_attention(${pyText(a, "q").text}, ${pyText(a, "k").text}, ${pyText(a, "v").text}, ${pyText(a, "scale").text}${a["dropout"] === undefined ? "" : `, ${pyText(a, "dropout").text}`})`,
  pyHelpers: [CAUSAL_ATTENTION_PY],
};

const CAUSAL_SELF_ATTENTION_PY: PyHelper = {
  name: "causal_self_attention",
  order: 30,
  uses: [CAUSAL_ATTENTION_PY],
  text: `def causal_self_attention(
    x: torch.Tensor, heads: nn.ModuleList, scale: float, dropout: nn.Dropout | None = None
) -> torch.Tensor:
    """Causal self-attention of every head on x (B, T, C), the heads' outputs side by side: (B, T, nh*hs).

    The same as torch.cat([attention of one head for each head], -1), computed from one projection of x
    for all heads, as nanoGPT's c_attn does, and causal_attention over all heads at once.
    """
    B, T, _ = x.shape
    nh, hs = len(heads), heads[0].query.weight.shape[0]
    weights = [h.query.weight for h in heads] + [h.key.weight for h in heads] + [h.value.weight for h in heads]
    biases = None
    if heads[0].query.bias is not None:
        biases = torch.cat([h.query.bias for h in heads] + [h.key.bias for h in heads] + [h.value.bias for h in heads])
    q, k, v = F.linear(x, torch.cat(weights), biases).split(nh * hs, dim=2)  # (B, T, nh*hs) each
    q = q.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
    k = k.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
    v = v.view(B, T, nh, hs).transpose(1, 2)  # (B, nh, T, hs)
    y = causal_attention(q, k, v, scale, dropout)  # (B, nh, T, hs)
    return y.transpose(1, 2).reshape(B, T, nh * hs)  # (B, T, nh*hs): the heads side by side`,
};

/**
 * Every head of a list of heads (each a module holding query, key and value projections) attending over
 * x, their outputs side by side; while sampling, over the KV cache too (the forward's cache).
 */
export const MULTI_HEAD_CAUSAL_ATTENTION: OpDef = {
  name: "multi_head_causal_attention",
  ts: (a) => `multiHeadCausalAttention(${tsText(a, "x")}, ${tsText(a, "heads")}, ${tsText(a, "scale")}, { ${a["dropout"] === undefined ? "" : `dropout: ${tsText(a, "dropout")}, `}cache })`,
  py: (a) => `causal_self_attention(${pyText(a, "x").text}, ${pyText(a, "heads").text}, ${pyText(a, "scale").text}${a["dropout"] === undefined ? "" : `, ${pyText(a, "dropout").text}`})`,
  pyHelpers: [CAUSAL_SELF_ATTENTION_PY],
};

// Constructors for builders.
export const causalMask = (scores: Expr): Expr => op(CAUSAL_MASK.name, { scores });
export const causalAttention = (q: Expr, k: Expr, v: Expr, scale: Expr, dropout?: Expr): Expr => op(CAUSAL_ATTENTION.name, { q, k, v, scale, dropout });
export const multiHeadCausalAttention = (x: Expr, heads: Expr, scale: Expr, dropout?: Expr): Expr => op(MULTI_HEAD_CAUSAL_ATTENTION.name, { x, heads, scale, dropout });
