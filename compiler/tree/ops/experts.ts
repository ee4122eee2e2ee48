// A mixture of experts (Mixtral): the router's choice of experts for every token, the Switch Transformer's
// load-balancing loss, and the experts' outputs mixed by the router's weights. TypeScript calls runtime/nn
// (expertMix is an op of runtime/ops, one kernel forward and one backward on backends that register it);
// Python calls functions written out in the module, which run each expert on the tokens routed to it.
import type { Activation } from "../../ir/nodes/index.js";
import { op, type Expr } from "../nodes.js";
import { pyText, tsText, type OpDef, type PyHelper } from "./op.js";

const TOP_K_ROUTING_PY: PyHelper = {
  name: "top_k_routing",
  order: 70,
  text: `def top_k_routing(scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A mixture of experts' routing (Mixtral), from the router's scores (..., E) of every token: the softmax
    over the experts, probs (..., E); the k experts of highest score, chosen (..., k), a tie going to the
    lower index; and their probabilities renormalized to sum to 1, weights (..., k)."""
    probs = F.softmax(scores, dim=-1)  # (..., E)
    # A stable sort keeps equal scores in index order, so a tie goes to the lower expert.
    chosen = scores.sort(dim=-1, descending=True, stable=True).indices[..., :k]  # (..., k)
    weights = probs.gather(-1, chosen)  # (..., k)
    return probs, weights / weights.sum(dim=-1, keepdim=True), chosen`,
};

/** The router's scores (B, T, E) → [probs (B, T, E), weights (B, T, K), chosen (B, T, K)]. */
export const TOP_K_ROUTING: OpDef = {
  name: "top_k_routing",
  tsNames: ["topKRouting"],
  ts: (a) => `topKRouting(${tsText(a, "scores")}, ${tsText(a, "k")})`,
  py: (a) => `top_k_routing(${pyText(a, "scores").text}, ${pyText(a, "k").text})`,
  pyHelpers: [TOP_K_ROUTING_PY],
};

const LOAD_BALANCING_LOSS_PY: PyHelper = {
  name: "load_balancing_loss",
  order: 71,
  text: `def load_balancing_loss(probs: torch.Tensor, chosen: torch.Tensor, coef: float) -> torch.Tensor:
    """The Switch Transformer's load-balancing loss, coef · E · Σᵢ fᵢ·Pᵢ: fᵢ the share of the token-to-expert
    assignments (every token's k in chosen) that went to expert i, Pᵢ the mean router probability of
    expert i. Both uniform gives coef, its least; only P carries a gradient (to the router)."""
    E = probs.shape[-1]
    f = F.one_hot(chosen.flatten(), E).float().mean(0)  # (E,): the shares of the assignments, summing to 1
    P = probs.flatten(0, -2).mean(0)  # (E,)
    return coef * E * (f * P).sum()`,
};

/** probs (B, T, E), chosen (B, T, K) and the loss's weight α → the scalar loss. */
export const LOAD_BALANCING_LOSS: OpDef = {
  name: "load_balancing_loss",
  tsNames: ["loadBalancingLoss"],
  ts: (a) => `loadBalancingLoss(${tsText(a, "probs")}, ${tsText(a, "chosen")}, ${tsText(a, "coef")})`,
  py: (a) => `load_balancing_loss(${pyText(a, "probs").text}, ${pyText(a, "chosen").text}, ${pyText(a, "coef").text})`,
  pyHelpers: [LOAD_BALANCING_LOSS_PY],
};

const EXPERT_MIX_PY: PyHelper = {
  name: "expert_mix",
  order: 72,
  text: `def expert_mix(x: torch.Tensor, weights: torch.Tensor, chosen: torch.Tensor, experts: nn.ModuleList) -> torch.Tensor:
    """Σⱼ weights[..., j] · experts[chosen[..., j]](x) for every token of x (B, T, C): each expert runs on
    the tokens routed to it alone (Mixtral's sparse dispatch), and its outputs are added, weighted, into
    their tokens' rows."""
    tokens = x.flatten(0, -2)  # (N, C): the B*T tokens
    w, c = weights.flatten(0, -2), chosen.flatten(0, -2)  # (N, k) each
    y = torch.zeros_like(tokens)
    for e, expert in enumerate(experts):
        # Every expert runs, on no tokens where none chose it, so each gets a gradient (DDP expects one).
        token, slot = torch.where(c == e)  # the tokens routed to expert e, and which of their k it was
        y.index_add_(0, token, (w[token, slot, None] * expert(tokens[token])).type_as(y))
    return y.view_as(x)`,
};

/** x (B, T, C), weights and chosen (B, T, K), the experts (a list of modules) → (B, T, C). */
export const EXPERT_MIX: OpDef = {
  name: "expert_mix",
  tsNames: ["expertMix"],
  ts: (a) => `expertMix(${tsText(a, "x")}, ${tsText(a, "weights")}, ${tsText(a, "chosen")}, ${tsText(a, "experts")}, "${a["activation"] as Activation}")`,
  py: (a) => `expert_mix(${pyText(a, "x").text}, ${pyText(a, "weights").text}, ${pyText(a, "chosen").text}, ${pyText(a, "experts").text})`,
  pyHelpers: [EXPERT_MIX_PY],
};

// Constructors for builders.
export const topKRouting = (scores: Expr, k: Expr): Expr => op(TOP_K_ROUTING.name, { scores, k });
export const loadBalancingLoss = (probs: Expr, chosen: Expr, coef: Expr): Expr => op(LOAD_BALANCING_LOSS.name, { probs, chosen, coef });
/** The experts' activation is the kernel's to know in TypeScript; Python calls the experts' own forward. */
export const expertMix = (x: Expr, weights: Expr, chosen: Expr, experts: Expr, activation: Activation): Expr => op(EXPERT_MIX.name, { x, weights, chosen, experts, activation });
