#!/usr/bin/python3
"""PyTorch's training step on CUDA for a babygpt spec, for bench/gpu.sh: the spec's generated module
(nanoGPT's layout: one projection for all heads' q, k, v, heads batched in one product) trained on random
tokens at the spec's batch and block size with nanoGPT's step (nanogpt_style.py: foreach AdamW with the
spec's hyperparameters, the spec's clipping), as bench_torch.py --style nanogpt does on the CPU. Prints one JSON line: the median ms per iteration (each timed between torch.cuda.synchronize()
calls), the device and the torch version.

    python3 bench/reference/step_cuda.py resolved.json --model generated/torch/12-baby-gpt.py [--iters 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("spec", help="resolved spec JSON (babygpt resolve SPEC --json)")
    parser.add_argument("--model", required=True, help="the generated PyTorch module")
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--vocab", type=int, default=65)
    args = parser.parse_args()

    import torch

    if not torch.cuda.is_available():
        print(json.dumps({"available": False, "note": "torch.cuda.is_available() is False"}))
        return
    sys.dont_write_bytecode = True
    sys.path.insert(0, HERE)
    import nanogpt_style
    from model import load_model

    with open(args.spec, encoding="utf8") as f:
        spec = json.load(f)
    training = spec["training"]
    B, T = training["batch_size"], spec["model"]["block_size"]
    torch.manual_seed(training.get("seed", 1337))
    device = torch.device("cuda")
    model = load_model(args.model, args.vocab).to(device)
    model.train()
    optimizer = nanogpt_style.make_optimizer(model, training.get("optimizer", {}))
    clip = training.get("grad_clip", 0)
    batches = [(torch.randint(0, args.vocab, (B, T), device=device), torch.randint(0, args.vocab, (B, T), device=device)) for _ in range(4)]

    def step(i: int) -> float:
        x, y = batches[i % len(batches)]
        torch.cuda.synchronize()
        start = time.perf_counter()
        nanogpt_style.train_step(model, optimizer, x, y, clip)
        torch.cuda.synchronize()
        return time.perf_counter() - start

    for i in range(args.warmup):
        step(i)
    times = [step(i) for i in range(args.iters)]
    print(json.dumps({
        "available": True,
        "ms_per_iter": statistics.median(times) * 1000,
        "iters": len(times),
        "device": torch.cuda.get_device_name(0),
        "torch_version": torch.__version__,
        "batch": B,
        "block": T,
    }))


if __name__ == "__main__":
    main()
