"""The nanoGPT-style training step of the benchmark: the step a PyTorch user who cares about speed writes,
as nanoGPT's train.py does, on the same generated module (generated/torch/<spec>.py) that
model.train_step trains.

The generated modules already compute attention as nanoGPT's model.py does (one projection of x for
every head's q, k and v, the heads batched as (B, nh, T, hs)), so the model is not written twice; what
differs from model.train_step (babygpt's step as PyTorch 1.13 runs it by default on the CPU, one
parameter at a time) is the optimizer and the clipping:

* AdamW with foreach=True: one multi-tensor update over all parameters instead of a loop over them;
* clipping by the global norm with torch._foreach_norm and torch._foreach_mul_ (what PyTorch 2's
  clip_grad_norm_(foreach=True) does; 1.13 has the kernels but not the option).

Same hyperparameters, same result up to rounding; bench_torch.py times both steps and takes the faster.
"""

from __future__ import annotations

from typing import Any, List, Mapping

import torch
import torch.nn as nn


def make_optimizer(model: nn.Module, opt: Mapping[str, Any]) -> torch.optim.Optimizer:
    """The spec's AdamW, as one multi-tensor (foreach) update."""
    return torch.optim.AdamW(
        model.parameters(),
        lr=opt.get("lr", 1e-3),
        betas=tuple(opt.get("betas", (0.9, 0.999))),
        eps=opt.get("eps", 1e-8),
        weight_decay=opt.get("weight_decay", 0.01),
        foreach=True,
    )


def clip_grad_norm_foreach(params: List[torch.Tensor], max_norm: float) -> torch.Tensor:
    """clip_grad_norm_ with the per-tensor norms and the scaling each one multi-tensor call."""
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.tensor(0.0)
    total = torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads)))
    coef = max_norm / (float(total) + 1e-6)
    if coef < 1:
        torch._foreach_mul_(grads, coef)
    return total


def train_step(model: nn.Module, optimizer: torch.optim.Optimizer, x: torch.Tensor, y: torch.Tensor, clip: float) -> torch.Tensor:
    """nanoGPT's step: zero the gradients, forward, backward, clip by global norm, step. Returns the loss,
    computed before the step."""
    optimizer.zero_grad(set_to_none=True)
    _, loss = model(x, y)
    loss.backward()
    if clip > 0:
        clip_grad_norm_foreach(list(model.parameters()), clip)
    optimizer.step()
    return loss
