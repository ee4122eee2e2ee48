"""The PyTorch reference: the modules babygpt's PyTorch target generates (generated/torch/<spec>.py).

The parity tests (test/parity/, through parity.py) and the benchmark's PyTorch side (bench_torch.py) run
the module the compiler emits from the same IR as the TypeScript model, the one the torch engine trains
(`babygpt train --engine torch`): one source of truth for what a spec means. What the parity tests hold
is that the compiler's two targets compute the same thing, each on its own framework's operations
(nn.Linear, F.layer_norm, F.softmax or scaled_dot_product_attention, F.cross_entropy on this side), and
that their parameter names agree, so a babygpt model.safetensors loads here with strict=True.

    load_model("generated/torch/12-baby-gpt.py", vocab_size)  the model a generated module builds
    train_step(model, optimizer, x, y, clip)                   one training step as babygpt runs it
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any, Dict, Mapping

import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(PROJECT_ROOT, "runtime", "torch"))

from modules import load_generated  # noqa: E402

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
