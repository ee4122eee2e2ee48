"""The PyTorch reference: a torch.nn.Module built from a resolved babygpt spec.

Input is the spec as `npx babygpt resolve specs/X.yaml --json` prints it (extends followed, defaults
filled in). The module is written the way a PyTorch user would write the model by hand (nn.Linear,
nn.Embedding, F.softmax, F.cross_entropy, ...), so it is an independent statement of the semantics
that the TypeScript code generator (compiler/) and runtime (runtime/nn) implement, not a port of them.

What must agree with babygpt exactly is the parameter naming: `state_dict()` keys are the dotted names
of the TypeScript model's namedParameters(), so a model.safetensors written by babygpt loads here with
load_state_dict(strict=True). The rules (compiler/ir/lower.ts assignNames and the node definitions in
compiler/ir/nodes/) are:

* Every layer kind has a default name: token_embedding, position_embedding, head (attention_head),
  attn (multi_head_attention), ffwd (feed_forward), ln (layer_norm), lm_head (linear with out: vocab),
  linear (other linear), blocks (repeat), block (block). residual and dropout have none and add no
  path segment.
* A spec's explicit `name` wins. A default name used more than once in a scope is numbered from 1
  (ln1, ln2, ...), counting in the order the layers appear.
* A scope is the model's top level or one block. A residual's body belongs to the enclosing scope.
* repeat makes copies `<name>.0`, `<name>.1`, ... of one block. When its body is a single block layer,
  that block is the copy (its own name adds no segment); otherwise the body itself is the block.
* Parameters inside layers: Linear weight (out, in) and bias, Embedding weight (rows, dim), LayerNorm
  gamma and beta, attention heads key/query/value (bias-free), `heads.<i>.` inside
  multi_head_attention, its `proj`, and fc/proj in feed_forward.

Dropout sites are kept where babygpt has them (attention weights, after the attention projection, after
the feed-forward's second linear, and explicit dropout layers), so model.eval() vs train() means the
same thing here as there. Random masks cannot match across frameworks, so parity is checked in eval
mode (or with dropout 0).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import safetensors_io  # next to this file; scripts here run with this directory on sys.path

Spec = Mapping[str, Any]

# The kind's name when the spec gives none (compiler/ir/nodes/*.ts defaultName). None: the layer owns
# no parameters directly and adds no segment to parameter paths.
DEFAULT_NAMES = {
    "token_embedding": lambda s: "token_embedding",
    "position_embedding": lambda s: "position_embedding",
    "attention_head": lambda s: "head",
    "multi_head_attention": lambda s: "attn",
    "feed_forward": lambda s: "ffwd",
    "layer_norm": lambda s: "ln",
    "linear": lambda s: "lm_head" if s["out"] == "vocab" else "linear",
    "repeat": lambda s: "blocks",
    "block": lambda s: "block",
    "residual": lambda s: None,
    "dropout": lambda s: None,
}

# The Transformer paper's inner width of the feed-forward layer: four times the model width.
DEFAULT_FFWD_MULTIPLIER = 4


# --------------------------------------------------------------------------------------------------
# Layers
# --------------------------------------------------------------------------------------------------


class LayerNorm(nn.Module):
    """Layer normalization with parameters named gamma and beta, as babygpt names them.

    nn.LayerNorm would call them weight and bias; the math (biased variance over the last dimension,
    eps inside the square root) is the same, and F.layer_norm computes it.
    """

    def __init__(self, dim: int, eps: float, affine: bool):
        super().__init__()
        self.dim = dim
        self.eps = eps
        if affine:
            self.gamma = nn.Parameter(torch.ones(dim))
            self.beta = nn.Parameter(torch.zeros(dim))
        else:
            self.register_parameter("gamma", None)
            self.register_parameter("beta", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.layer_norm(x, (self.dim,), self.gamma, self.beta, self.eps)


class Head(nn.Module):
    """One head of causal self-attention (nanoGPT's lecture version: bias-free key, query, value)."""

    def __init__(self, n_in: int, head_size: int, scale: bool, dropout: float, block_size: int):
        super().__init__()
        self.key = nn.Linear(n_in, head_size, bias=False)
        self.query = nn.Linear(n_in, head_size, bias=False)
        self.value = nn.Linear(n_in, head_size, bias=False)
        self.scale = head_size**-0.5 if scale else 1.0
        self.dropout = nn.Dropout(dropout)
        # Not persistent: a constant, rebuilt from block_size, that babygpt does not save either.
        self.register_buffer("tril", torch.tril(torch.ones(block_size, block_size)), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        T = x.shape[1]
        k = self.key(x)  # (B, T, hs)
        q = self.query(x)  # (B, T, hs)
        wei = q @ k.transpose(-2, -1) * self.scale  # (B, T, T)
        # babygpt adds -1e9 instead of -inf; after softmax both give exactly 0 weight (and 0 gradient).
        wei = wei.masked_fill(self.tril[:T, :T] == 0, float("-inf"))
        wei = F.softmax(wei, dim=-1)
        wei = self.dropout(wei)
        v = self.value(x)  # (B, T, hs)
        return wei @ v  # (B, T, hs)


class MultiHeadAttention(nn.Module):
    """Heads side by side, concatenated, and (with projection) mapped back to the input width."""

    def __init__(self, n_in: int, heads: int, head_size: int, projection: bool, scale: bool, dropout: float, block_size: int):
        super().__init__()
        self.heads = nn.ModuleList(Head(n_in, head_size, scale, dropout, block_size) for _ in range(heads))
        if projection:
            self.proj = nn.Linear(heads * head_size, n_in)
            self.dropout = nn.Dropout(dropout)
        else:
            # babygpt has no dropout after the concatenation when there is no projection.
            self.proj = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.cat([h(x) for h in self.heads], dim=-1)  # (B, T, heads * hs)
        if self.proj is None:
            return out
        return self.dropout(self.proj(out))


class FeedForward(nn.Module):
    """Per-token MLP: linear, ReLU or GELU (exact erf form, nn.GELU's default), linear, dropout."""

    def __init__(self, width: int, hidden: int, activation: str, dropout: float):
        super().__init__()
        self.fc = nn.Linear(width, hidden)
        self.act = nn.ReLU() if activation == "relu" else nn.GELU()
        self.proj = nn.Linear(hidden, width)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.dropout(self.proj(self.act(self.fc(x))))


class LearnedPositions(nn.Embedding):
    """A learned table of one vector per position, added to the token vectors (first T rows)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        positions = torch.arange(x.shape[1], device=x.device)
        return x + super().forward(positions)


def sinusoidal_table(positions: int, width: int) -> torch.Tensor:
    """The Transformer paper's code: even features sin(pos·f), odd ones cos(pos·f), f = 10000^(-2⌊i/2⌋/width).

    Computed in float64 and rounded once to float32, as babygpt's sinusoidalTable does, so the tables
    agree bit for bit (up to the last-ulp differences of the two sin implementations).
    """
    pos = np.arange(positions, dtype=np.float64)[:, None]
    i = np.arange(width)
    freq = np.power(10000.0, -(2 * (i // 2)) / width)
    angles = pos * freq
    table = np.where(i % 2 == 0, np.sin(angles), np.cos(angles))
    return torch.from_numpy(table.astype(np.float32))


class SinusoidalPositions(nn.Module):
    """Fixed sinusoidal position code: no parameters, nothing in the state_dict."""

    def __init__(self, block_size: int, width: int):
        super().__init__()
        self.register_buffer("table", sinusoidal_table(block_size, width), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.table[: x.shape[1]]


# --------------------------------------------------------------------------------------------------
# Scopes: the model and its blocks
# --------------------------------------------------------------------------------------------------


@dataclass
class Context:
    """Model-wide settings a layer may default to."""

    vocab_size: int
    block_size: int
    n_embd: Optional[int]
    dropout: float  # training.dropout: the rate of dropout sites that set none


@dataclass
class ResidualStep:
    """x + body(x); the body's layers are registered in the enclosing scope."""

    body: List["Step"]


@dataclass
class DropoutStep:
    """A dropout layer: no parameters and no name, so it is applied functionally."""

    rate: float


# A step of a scope's forward: the name of one of its child modules, or one of the two above.
Step = Union[str, ResidualStep, DropoutStep]


def assign_names(layers: List[Spec]) -> Dict[int, str]:
    """Names the layers of one scope, keyed by id() of their spec dict (compiler/ir/lower.ts assignNames).

    Residual bodies are flattened into the scope; explicit names are taken first, then default names,
    numbered ln1, ln2, ... where one occurs more than once.
    """
    entries: List[Spec] = []

    def collect(items: List[Spec]) -> None:
        for s in items:
            if s["kind"] == "residual":
                collect(s["body"])
            else:
                entries.append(s)

    collect(layers)
    names: Dict[int, str] = {}
    taken = set()
    for s in entries:
        if s.get("name") is not None:
            if s["name"] in taken:
                raise ValueError(f'two layers in one scope are named "{s["name"]}"')
            taken.add(s["name"])
            names[id(s)] = s["name"]
    by_default: Dict[str, List[Spec]] = {}  # insertion-ordered, like the TypeScript Map
    for s in entries:
        if s.get("name") is not None:
            continue
        base = DEFAULT_NAMES[s["kind"]](s)
        if base is not None:
            by_default.setdefault(base, []).append(s)
    for base, specs in by_default.items():
        for i, s in enumerate(specs):
            name = base if len(specs) == 1 else f"{base}{i + 1}"
            if name in taken:
                raise ValueError(f'the default name "{name}" is taken by another layer; give it a name')
            taken.add(name)
            names[id(s)] = name
    return names


class Scope(nn.Module):
    """A list of layers with its own naming scope: the model's top level, or one Transformer block.

    Layers with parameters become child modules under their babygpt names; `steps` replays the list in
    order, including residual additions and unnamed dropout layers.
    """

    def __init__(self, layers: List[Spec], width: Union[int, str], ctx: Context):
        super().__init__()
        self.ctx = ctx
        names = assign_names(layers)
        self.steps, self.out_width = self._build(layers, width, names)

    def _build(self, layers: List[Spec], width: Union[int, str], names: Dict[int, str]) -> Tuple[List[Step], Union[int, str]]:
        steps: List[Step] = []
        for spec in layers:
            kind = spec["kind"]
            if kind == "residual":
                body, out = self._build(spec["body"], width, names)
                if out != width:
                    raise ValueError(f"a residual body must keep the width {width}, it gives {out}")
                steps.append(ResidualStep(body))
            elif kind == "dropout":
                rate = spec.get("rate")
                steps.append(DropoutStep(self.ctx.dropout if rate is None else rate))
            else:
                module, width = make_layer(spec, width, self.ctx)
                self.add_module(names[id(spec)], module)
                steps.append(names[id(spec)])
        return steps, width

    def run(self, steps: List[Step], x: torch.Tensor) -> torch.Tensor:
        for step in steps:
            if isinstance(step, str):
                x = getattr(self, step)(x)
            elif isinstance(step, ResidualStep):
                x = x + self.run(step.body, x)
            else:
                x = F.dropout(x, step.rate, self.training)
        return x

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.run(self.steps, x)


class Block(Scope):
    """A Transformer block: a scope of its own, so its layers are named from scratch (ln1, attn, ...)."""


class Repeat(nn.Sequential):
    """`times` copies of a block, each with its own weights, applied in turn; named 0, 1, ..."""


def resolve(width: Union[int, str], ctx: Context) -> int:
    return ctx.vocab_size if width == "vocab" else int(width)


def make_layer(spec: Spec, width: Union[int, str], ctx: Context) -> Tuple[nn.Module, Union[int, str]]:
    """The module for one layer that has a name, and the width of its output."""
    kind = spec["kind"]

    def rate(key: str = "dropout") -> float:
        r = spec.get(key)
        return ctx.dropout if r is None else r

    if kind == "token_embedding":
        dim = spec.get("dim", ctx.n_embd)
        if dim is None:
            raise ValueError("token_embedding needs a dim, or model.n_embd to default to")
        return nn.Embedding(ctx.vocab_size, resolve(dim, ctx)), dim
    c = resolve(width, ctx)
    if kind == "position_embedding":
        if spec.get("encoding", "learned") == "learned":
            return LearnedPositions(ctx.block_size, c), width
        return SinusoidalPositions(ctx.block_size, c), width
    if kind == "attention_head":
        head_size = spec.get("head_size") or c
        return Head(c, head_size, spec.get("scale", True), rate(), ctx.block_size), head_size
    if kind == "multi_head_attention":
        heads = spec["heads"]
        head_size = spec.get("head_size") or c // heads
        projection = spec.get("projection", True)
        module = MultiHeadAttention(c, heads, head_size, projection, spec.get("scale", True), rate(), ctx.block_size)
        return module, width if projection else heads * head_size
    if kind == "feed_forward":
        hidden = spec.get("hidden") or (spec.get("multiplier") or DEFAULT_FFWD_MULTIPLIER) * c
        return FeedForward(c, hidden, spec.get("activation", "relu"), rate()), width
    if kind == "layer_norm":
        return LayerNorm(c, spec.get("eps", 1e-5), spec.get("affine", True)), width
    if kind == "linear":
        return nn.Linear(c, resolve(spec["out"], ctx), bias=spec.get("bias", True)), spec["out"]
    if kind == "block":
        block = Block(spec["body"], width, ctx)
        return block, block.out_width
    if kind == "repeat":
        body = spec["body"]
        # A body that is one block layer is that block; any other body is an implicit block.
        inner = body[0]["body"] if len(body) == 1 and body[0]["kind"] == "block" else body
        return Repeat(*[Block(inner, width, ctx) for _ in range(spec["times"])]), width
    raise ValueError(f"unknown layer kind {kind!r}")


# --------------------------------------------------------------------------------------------------
# The language model
# --------------------------------------------------------------------------------------------------


class SpecModel(Scope):
    """A language model from a resolved spec: (B, T) token ids → (B, T, vocab) logits and the loss."""

    def __init__(self, spec: Spec, vocab_size: int):
        model = spec["model"]
        ctx = Context(
            vocab_size=vocab_size,
            block_size=model["block_size"],
            n_embd=model.get("n_embd"),
            dropout=spec.get("training", {}).get("dropout", 0.0),
        )
        super().__init__(model["layers"], "tokens", ctx)
        if self.out_width != "vocab":
            raise ValueError(f"the model must end in vocab-wide logits, its last layer gives width {self.out_width}")
        self.name = spec.get("name", "model")
        self.block_size = ctx.block_size
        self.vocab_size = vocab_size
        if model.get("init", "torch") == "gpt":
            self.apply(_gpt_init)
        # init "torch": the modules' own defaults (nn.Linear's U(±1/sqrt(in)), nn.Embedding's N(0, 1)),
        # which babygpt's "torch" style reproduces with its own random numbers.

    def forward(self, idx: torch.Tensor, targets: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        logits = self.run(self.steps, idx)  # (B, T, vocab)
        if targets is None:
            return logits, None
        B, T, V = logits.shape
        loss = F.cross_entropy(logits.reshape(B * T, V), targets.reshape(B * T).long())
        return logits, loss

    @torch.no_grad()
    def generate(self, idx: torch.Tensor, max_new_tokens: int, generator: Optional[torch.Generator] = None) -> torch.Tensor:
        """Samples one token at a time, each time from the last block_size tokens (nanoGPT's generate)."""
        for _ in range(max_new_tokens):
            context = idx[:, -self.block_size :]
            logits, _ = self(context)
            probs = F.softmax(logits[:, -1, :], dim=-1)
            idx = torch.cat([idx, torch.multinomial(probs, 1, generator=generator)], dim=1)
        return idx

    def load_safetensors(self, path: str) -> None:
        """Loads babygpt's model.safetensors; every name and shape must match (strict)."""
        tensors, _ = safetensors_io.load(path)
        self.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()}, strict=True)


def _gpt_init(module: nn.Module) -> None:
    """GPT-2's initialization: N(0, 0.02) for linear and embedding weights, zero biases."""
    if isinstance(module, nn.Linear):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.Embedding):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, clip: float) -> torch.Tensor:
    """One training step as babygpt runs it (runtime/train/step.ts): forward, backward, clipping by global
    norm where clip > 0, optimizer step. Returns the loss, computed before the step."""
    optimizer.zero_grad(set_to_none=True)
    _, loss = model(x, y)
    loss.backward()
    if clip > 0:
        nn.utils.clip_grad_norm_(model.parameters(), clip)
    optimizer.step()
    return loss


def load_spec(path: str) -> Dict[str, Any]:
    """Reads a resolved spec (the JSON of `npx babygpt resolve --json`)."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def token_embedding_name(spec: Spec) -> str:
    """The name of the model's token table (its first layer), to read the vocabulary size off weights."""
    first = spec["model"]["layers"][0]
    return first.get("name") or "token_embedding"
