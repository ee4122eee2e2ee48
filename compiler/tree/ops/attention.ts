// Causal attention. TypeScript calls the ops of runtime/ops (causalMask; causalAttention over projected
// heads, grouped or not; multiHeadCausalAttention over a list of heads' projections), which run as one
// kernel where a backend registers one. Python calls functions written out in the module, which use
// PyTorch's scaled_dot_product_attention where it exists and compute the same thing step by step where
// it does not. A file whose attention shapes its scores (a sliding window, ALiBi, a score cap) gets the
// shaped forms of those functions; one without keeps the plain ones.
import { op, type Expr, type OpArg } from "../nodes.js";
import { pyText, tsText, type OpDef, type PyArgs, type PyHelper, type TsArgs } from "./op.js";

/** The options both attention ops take after their tensors: dropout, a window, ALiBi, a score cap. */
const OPTIONS = ["dropout", "window", "alibi", "softcap"] as const;
const SHAPING = ["window", "alibi", "softcap"] as const;

const isSet = (a: OpArg | undefined): boolean => a !== undefined && a !== false;
const shaped = (a: Readonly<Record<string, OpArg>>): boolean => SHAPING.some((o) => isSet(a[o]));

function causalMaskPy(withWindow: boolean): PyHelper {
  const head = withWindow
    ? `def causal_mask(scores: torch.Tensor, window: int = 0) -> torch.Tensor:
    """Scores (..., Tq, Tk) with -inf where a query would look at a later key (and, with a window, at a key
    window or more positions back), so that softmax gives those keys no weight. The queries are the last
    Tq positions of the Tk."""`
    : `def causal_mask(scores: torch.Tensor) -> torch.Tensor:
    """Scores (..., Tq, Tk) with -inf where a query would look at a later key, so that softmax gives those
    keys no weight. The queries are the last Tq positions of the Tk."""`;
  const window = withWindow
    ? `
    if window > 0:  # and, with a sliding window, keys window or more positions back
        hidden |= torch.ones(Tq, Tk, dtype=torch.bool, device=scores.device).tril(Tk - Tq - window)`
    : "";
  return {
    name: "causal_mask",
    order: 10,
    rank: withWindow ? 1 : 0,
    text: `${head}
    Tq, Tk = scores.shape[-2], scores.shape[-1]
    hidden = torch.ones(Tq, Tk, dtype=torch.bool, device=scores.device).triu(Tk - Tq + 1)  # (Tq, Tk): later keys${window}
    return scores.masked_fill(hidden, float("-inf"))`,
  };
}

const ALIBI_PY: PyHelper = {
  name: "alibi_bias",
  order: 15,
  text: `def alibi_slopes(n: int) -> list[float]:
    """ALiBi's slopes for n heads (Press et al.): 2^(-8h/n) for h = 1..n when n is a power of two; else
    those of the power of two p below n, then every other slope of 2p's."""
    if n & (n - 1) == 0:
        return [2 ** (-8 * (h + 1) / n) for h in range(n)]
    p = 1 << (n.bit_length() - 1)  # the power of two below n
    return alibi_slopes(p) + alibi_slopes(2 * p)[0::2][: n - p]


def alibi_bias(heads: int, Tq: int, Tk: int, device: torch.device) -> torch.Tensor:
    """-m_h·(i - j) for head h, query position i (the last Tq of the Tk) and key position j: (heads, Tq, Tk)."""
    slopes = torch.tensor(alibi_slopes(heads), device=device)[:, None, None]  # (heads, 1, 1)
    i = torch.arange(Tk - Tq, Tk, device=device)[:, None]  # (Tq, 1)
    j = torch.arange(Tk, device=device)[None, :]  # (1, Tk)
    return -slopes * (i - j)  # (heads, Tq, Tk)`,
};

const SDPA = `# PyTorch 2.0 and later have scaled_dot_product_attention (flash or memory-efficient kernels on a GPU);
# without it, causal_attention computes the same thing step by step.
HAS_SDPA = hasattr(F, "scaled_dot_product_attention")`;

function causalAttentionPy(withShaping: boolean): PyHelper {
  const params = withShaping
    ? `
    q: torch.Tensor,
    k: torch.Tensor,
    v: torch.Tensor,
    scale: float,
    dropout: nn.Dropout | None = None,
    window: int = 0,
    alibi: bool = False,
    softcap: float = 0.0,
`
    : `
    q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, scale: float, dropout: nn.Dropout | None = None
`;
  const what = withShaping
    ? `the scores q·k between each position's query and the keys of that position and the
    ones before it, times scale; capped (s → softcap·tanh(s / softcap)), biased by distance (ALiBi) and
    limited to a sliding window where asked; softmaxed into weights that sum to 1 (then dropout, while
    training), which weight the values.`
    : `the scores q·k between each position's query and the keys of that position and the
    ones before it, times scale, softmaxed into weights that sum to 1 (then dropout, while training),
    weight the values.`;
  const steps = withShaping
    ? `
    if HAS_SDPA and scale == hs**-0.5 and not (window or alibi or softcap):
        p = dropout.p if dropout is not None and dropout.training else 0.0
        return F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)  # (B, nh, T, hs)
    wei = q @ k.transpose(-2, -1) * scale  # (B, nh, T, T)
    if softcap:
        wei = softcap * torch.tanh(wei / softcap)
    if alibi:
        wei = wei + alibi_bias(nh, wei.shape[-2], wei.shape[-1], wei.device)
    wei = F.softmax(causal_mask(wei, window), dim=-1)  # (B, nh, T, T): each row sums to 1`
    : `
    if HAS_SDPA and scale == hs**-0.5:
        p = dropout.p if dropout is not None and dropout.training else 0.0
        return F.scaled_dot_product_attention(q, k, v, dropout_p=p, is_causal=True)  # (B, nh, T, hs)
    wei = q @ k.transpose(-2, -1) * scale  # (B, nh, T, T)
    wei = F.softmax(causal_mask(wei), dim=-1)  # (B, nh, T, T): each row sums to 1`;
  return {
    name: "causal_attention",
    order: 20,
    rank: withShaping ? 1 : 0,
    uses: withShaping ? [causalMaskPy(true), ALIBI_PY] : [causalMaskPy(false)],
    text: `${SDPA}


def causal_attention(${params}) -> torch.Tensor:
    """Causal attention of projected heads: q (B, nh, T, hs) over k, v (B, nkv, T, hs) → (B, nh, T, hs).

    For each head: ${what} With fewer kv heads than query heads (grouped-query attention), query head h
    reads kv head h // (nh / nkv).
    """
    nh, nkv, hs = q.shape[1], k.shape[1], q.shape[3]
    if nkv != nh:
        k = k.repeat_interleave(nh // nkv, dim=1)  # (B, nh, T, hs)
        v = v.repeat_interleave(nh // nkv, dim=1)  # (B, nh, T, hs)${steps}
    if dropout is not None:
        wei = dropout(wei)
    return wei @ v  # (B, nh, T, hs)`,
  };
}

function causalSelfAttentionPy(withShaping: boolean): PyHelper {
  return {
    name: "causal_self_attention",
    order: 30,
    rank: withShaping ? 1 : 0,
    uses: [causalAttentionPy(withShaping)],
    text: `def causal_self_attention(
    x: torch.Tensor, heads: nn.ModuleList, scale: float, dropout: nn.Dropout | None = None${withShaping ? ", **shaping" : ""}
) -> torch.Tensor:
    """Causal self-attention of every head on x (B, T, C), the heads' outputs side by side: (B, T, nh*hs).

    The same as torch.cat([attention of one head for each head], -1), computed from one projection of x
    for all heads, as nanoGPT's c_attn does, and causal_attention over all heads at once${withShaping ? " (with the\n    window, ALiBi and cap in shaping)" : ""}.
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
    y = causal_attention(q, k, v, scale, dropout${withShaping ? ", **shaping" : ""})  # (B, nh, T, hs)
    return y.transpose(1, 2).reshape(B, T, nh * hs)  # (B, T, nh*hs): the heads side by side`,
  };
}

export const CAUSAL_MASK: OpDef = {
  name: "causal_mask",
  tsNames: ["causalMask"],
  ts: (a) => `causalMask(${tsText(a, "scores")})`,
  py: (a) => `causal_mask(${pyText(a, "scores").text})`,
  pyHelpers: () => [causalMaskPy(false)],
};

/** `{ dropout: this.attnDropout, window: this.window }`: the options set, in TypeScript. */
function tsOptions(a: TsArgs, extra: readonly string[] = []): string {
  const set = OPTIONS.filter((o) => a[o] !== undefined && a[o] !== false).map((o) => `${o}: ${o === "alibi" ? "true" : tsText(a, o)}`);
  const all = [...set, ...extra];
  return all.length === 0 ? "" : `, { ${all.join(", ")} }`;
}

/** `, dropout=self.attn_dropout, window=self.window`: the options set, as Python keywords. */
function pyOptions(a: PyArgs): string {
  return OPTIONS.filter((o) => a[o] !== undefined && a[o] !== false)
    .map((o) => `, ${o}=${o === "alibi" ? "True" : pyText(a, o).text}`)
    .join("");
}

/** q (B, nh, T, hs) over k, v (B, nkv, T, hs), optionally with dropout on the weights and score shaping. */
export const CAUSAL_ATTENTION: OpDef = {
  name: "causal_attention",
  tsNames: ["causalAttention"],
  ts: (a) => `causalAttention(${tsText(a, "q")}, ${tsText(a, "k")}, ${tsText(a, "v")}, ${tsText(a, "scale")}${tsOptions(a)})`,
  py: (a) => `causal_attention(${pyText(a, "q").text}, ${pyText(a, "k").text}, ${pyText(a, "v").text}, ${pyText(a, "scale").text}${pyOptions(a)})`,
  pyHelpers: (a) => [causalAttentionPy(shaped(a))],
};

/**
 * Every head of a list of heads (each a module holding query, key and value projections) attending over
 * x, their outputs side by side; while sampling, over the KV cache too (the forward's cache).
 */
export const MULTI_HEAD_CAUSAL_ATTENTION: OpDef = {
  name: "multi_head_causal_attention",
  tsNames: ["multiHeadCausalAttention"],
  ts: (a) => `multiHeadCausalAttention(${tsText(a, "x")}, ${tsText(a, "heads")}, ${tsText(a, "scale")}${tsOptions(a, ["cache"])})`,
  py: (a) => `causal_self_attention(${pyText(a, "x").text}, ${pyText(a, "heads").text}, ${pyText(a, "scale").text}${pyOptions(a)})`,
  pyHelpers: (a) => [causalSelfAttentionPy(shaped(a))],
};

/** What attention does besides the causal mask: dropout on its weights, a window, ALiBi, a score cap. */
export interface AttentionExtras {
  readonly dropout?: Expr | undefined;
  readonly window?: Expr | undefined;
  readonly alibi?: boolean;
  readonly softcap?: Expr | undefined;
}

// Constructors for builders.
export const causalMask = (scores: Expr): Expr => op(CAUSAL_MASK.name, { scores });
export const causalAttention = (q: Expr, k: Expr, v: Expr, scale: Expr, extras: AttentionExtras = {}): Expr => op(CAUSAL_ATTENTION.name, { q, k, v, scale, ...extras });
export const multiHeadCausalAttention = (x: Expr, heads: Expr, scale: Expr, extras: AttentionExtras = {}): Expr => op(MULTI_HEAD_CAUSAL_ATTENTION.name, { x, heads, scale, ...extras });
