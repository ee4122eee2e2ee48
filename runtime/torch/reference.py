"""babygpt's model and training step on PyTorch's side, for the parity check (parity.py, which
`babygpt parity` and the parity tests run) and the benchmark (bench/reference/): the module the compiler
emits from a spec (generated/torch/<spec>.py, or one emitted for a run), built for a vocabulary size,
and one training step as babygpt's trainer takes it.

    load_model("generated/torch/12-baby-gpt.py", vocab_size)  the model a generated module builds
    train_step(model, optimizer, x, y, clip)                   one training step as babygpt runs it
"""

from __future__ import annotations

import json
from typing import Any, Dict, Mapping

import torch
import torch.nn as nn

from modules import load_generated

Spec = Mapping[str, Any]


def load_model(path: str, vocab_size: int) -> nn.Module:
    """The model of a generated module file, built for a vocabulary size."""
    return load_generated(path).create_model(vocab_size)


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, clip: float) -> torch.Tensor:
    """One training step as babygpt runs it (runtime/train/step.ts): forward, backward (of the loss plus the
    layers' auxiliary losses, where the model records any: model.aux_loss), clipping by global norm where
    clip > 0, optimizer step. Returns the loss (the cross-entropy), computed before the step."""
    optimizer.zero_grad(set_to_none=True)
    _, loss = model(x, y)
    aux = getattr(model, "aux_loss", None)
    (loss if aux is None else loss + aux).backward()
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
