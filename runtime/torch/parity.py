#!/usr/bin/python3
"""Numeric parity reference: what PyTorch computes for a babygpt model, given babygpt's own weights.

`babygpt parity SPEC` and the parity tests (test/parity/) run it through runtime/parity/reference.ts and
compare its output with the TypeScript model's (runtime/parity/compare.ts).

    /usr/bin/python3 runtime/torch/parity.py --spec resolved.json --model generated/torch/X.py \\
        --weights model.safetensors --batch batch.safetensors --out out.safetensors \\
        [--optimizer sgd --optimizer adamw ...] [--steps 5]

Inputs
  --spec      the resolved spec (`npx babygpt resolve specs/X.yaml --json`), for its training settings
  --model     the spec's generated PyTorch module (generated/torch/X.py, or one emitted for --set changes)
  --weights   a model.safetensors written by babygpt (parameter names as the TypeScript model's)
  --batch     a safetensors file with x and y, int32 (B, T) token ids and next-token targets; without
              it, random tokens (B=2, T=block_size, numpy seed 0), which are then written to the output
  --optimizer one optimizer run per occurrence: "sgd", "adam", "adamw", or a JSON object of the spec's
              training.optimizer fields ({"type": "sgd", "lr": 0.1}). Fields not given come from the
              spec's training.optimizer. Default: one run with the spec's own optimizer.
  --steps     optimizer steps per run (default 5)
  --grad-clip clip the global gradient norm at this value before each step, 0 for none (default: the
              spec's training.grad_clip)

Output (safetensors, float32)
  logits            (B, T, vocab) at the given weights
  loss              () the mean cross-entropy against y
  grad.<param>      the gradient of loss for every parameter, after one backward pass (no clipping)
  losses.<type>     (steps + 1,) for each optimizer run, from the given weights: the loss before each
                    step, and after the last one
  param.<type>.<p>  with --save-params: every parameter after the run's last step
  routing.<i>       (B, T, k) int32, for a model with a mixture of experts: the experts each token chose in
                    the i-th routing of the first forward (the generated module's top_k_routing), in the
                    order the layers ran, for the parity tests to compare before any value

The model runs in eval mode throughout: dropout masks are random numbers that no two frameworks draw
alike, so parity can only hold with dropout off. Everything is float32, as in babygpt.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, List

import numpy as np
import torch

# No __pycache__ next to the sources: this runs from the test suite inside a git checkout.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference import load_model, load_spec, token_embedding_name, train_step  # noqa: E402

import safetensors_io  # noqa: E402

# The schema's defaults for training.optimizer (schema/spec.schema.json), for specs that omit fields.
OPTIMIZER_DEFAULTS = {"type": "adamw", "lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01}


def optimizer_config(arg: str, spec: Dict[str, Any]) -> Dict[str, Any]:
    """A full optimizer config: schema defaults, then the spec's own settings, then this argument's."""
    config = {**OPTIMIZER_DEFAULTS, **spec.get("training", {}).get("optimizer", {})}
    given = json.loads(arg) if arg.lstrip().startswith("{") else {"type": arg}
    unknown = set(given) - set(OPTIMIZER_DEFAULTS)
    if unknown:
        raise SystemExit(f"--optimizer {arg}: unknown field(s) {sorted(unknown)}")
    config.update(given)
    if config["type"] not in ("sgd", "adam", "adamw"):
        raise SystemExit(f"--optimizer {arg}: type must be sgd, adam or adamw")
    return config


def make_optimizer(config: Dict[str, Any], params) -> torch.optim.Optimizer:
    """PyTorch's own optimizer classes with babygpt's semantics for each type.

    babygpt's sgd is plain gradient descent (no momentum), its adam has no weight decay (the schema says
    weight_decay is ignored by sgd and adam), and its adamw decays every parameter, biases and
    LayerNorm gains included, which is what AdamW does when given all parameters in one group.
    """
    lr = config["lr"]
    betas = tuple(config["betas"])
    if config["type"] == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if config["type"] == "adam":
        return torch.optim.Adam(params, lr=lr, betas=betas, eps=config["eps"], weight_decay=0.0)
    return torch.optim.AdamW(params, lr=lr, betas=betas, eps=config["eps"], weight_decay=config["weight_decay"])


def record_routing(model: torch.nn.Module) -> List[torch.Tensor]:
    """The experts chosen by every routing from now on: the list fills as the generated module's
    top_k_routing runs (none for a model without a mixture of experts)."""
    module = sys.modules[type(model).__module__]
    calls: List[torch.Tensor] = []
    route = getattr(module, "top_k_routing", None)
    if route is None:
        return calls

    def recording(scores: torch.Tensor, k: int):
        probs, weights, chosen = route(scores, k)
        calls.append(chosen.detach().clone())
        return probs, weights, chosen

    module.top_k_routing = recording
    return calls


def main(argv: List[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spec", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--weights", required=True)
    parser.add_argument("--batch")
    parser.add_argument("--out", required=True)
    parser.add_argument("--optimizer", action="append", default=None)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--grad-clip", type=float, default=None)
    parser.add_argument("--save-params", action="store_true")
    parser.add_argument("--threads", type=int, default=None, help="torch.set_num_threads (default: torch's own)")
    args = parser.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_default_dtype(torch.float32)

    spec = load_spec(args.spec)
    weights, _ = safetensors_io.load(args.weights)
    table = f"{token_embedding_name(spec)}.weight"
    if table not in weights:
        raise SystemExit(f"{args.weights} has no {table}, so the vocabulary size is unknown")
    vocab_size = weights[table].shape[0]

    model = load_model(args.model, vocab_size)
    initial = {name: torch.from_numpy(value) for name, value in weights.items()}
    model.load_state_dict(initial, strict=True)
    model.eval()  # dropout off; see the module docstring
    if args.batch:
        batch, _ = safetensors_io.load(args.batch)
    else:
        rng = np.random.default_rng(0)
        shape = (2, model.config.block_size)
        batch = {k: rng.integers(0, vocab_size, shape, dtype=np.int32) for k in ("x", "y")}
    x = torch.from_numpy(batch["x"]).long()
    y = torch.from_numpy(batch["y"]).long()
    if x.shape[1] > model.config.block_size:
        raise SystemExit(f"the batch has T={x.shape[1]}, more than block_size {model.config.block_size}")

    out: Dict[str, np.ndarray] = {} if args.batch else {"x": batch["x"], "y": batch["y"]}
    routings = record_routing(model)
    logits, loss = model(x, y)
    for i, chosen in enumerate(routings):
        out[f"routing.{i}"] = chosen.numpy().astype(np.int32)
    routings.clear()
    loss.backward()
    out["logits"] = logits.detach().numpy()
    out["loss"] = loss.detach().numpy().reshape(())
    for name, p in model.named_parameters():
        # A parameter the loss does not reach (none in babygpt's layers) has gradient zero, not None.
        grad = p.grad if p.grad is not None else torch.zeros_like(p)
        out[f"grad.{name}"] = grad.numpy()

    clip = args.grad_clip if args.grad_clip is not None else spec.get("training", {}).get("grad_clip", 0)
    configs = [optimizer_config(a, spec) for a in (args.optimizer or [spec.get("training", {}).get("optimizer", {}).get("type", "adamw")])]
    types = [c["type"] for c in configs]
    if len(set(types)) != len(types):
        raise SystemExit("give each optimizer type at most once: outputs are named by type")
    for config in configs:
        model.load_state_dict(initial, strict=True)
        optimizer = make_optimizer(config, model.parameters())
        losses = []
        for _ in range(args.steps):
            losses.append(train_step(model, optimizer, x, y, clip).item())
        with torch.no_grad():
            losses.append(model(x, y)[1].item())
        out[f"losses.{config['type']}"] = np.array(losses, dtype=np.float32)
        if args.save_params:
            for name, p in model.named_parameters():
                out[f"param.{config['type']}.{name}"] = p.detach().numpy().copy()

    metadata = {
        "torch": torch.__version__,
        "optimizers": json.dumps(configs),
        "steps": str(args.steps),
        "grad_clip": str(clip),
    }
    safetensors_io.save(args.out, out, metadata)


if __name__ == "__main__":
    main(sys.argv[1:])
