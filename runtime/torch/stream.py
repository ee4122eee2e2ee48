"""The numbers babygpt's TypeScript trainer draws, drawn the same way in Python.

Prng is runtime/random.ts's xoshiro128** (seeded through splitmix32), bit for bit: the torch engine takes
its training batches and its loss-estimate batches from it exactly as runtime/train/trainer.ts and
runtime/train/evaluate.ts do, and stores its four-integer state in meta.json where the TypeScript
trainer reads it. So a run continues the same batch stream when it moves between engines, and a run
on N processes sees the batches one process would. learning_rate is runtime/train/schedule.ts.
"""

from __future__ import annotations

import math
from typing import List, Mapping, Sequence

MASK = 0xFFFFFFFF


def _imul(a: int, b: int) -> int:
    """Math.imul: the low 32 bits of the product."""
    return (a * b) & MASK


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & MASK


class Prng:
    """xoshiro128**, as runtime/random.ts: same seeding, same outputs, same state."""

    def __init__(self, seed: int):
        x = seed & MASK  # seed >>> 0
        s: List[int] = []
        for _ in range(4):
            x = (x + 0x9E3779B9) & MASK
            z = _imul(x ^ (x >> 16), 0x85EBCA6B)
            z = _imul(z ^ (z >> 13), 0xC2B2AE35)
            s.append(z ^ (z >> 16))
        if not any(s):
            s[0] = 1
        self.s = s

    @property
    def state(self) -> List[int]:
        return list(self.s)

    @state.setter
    def state(self, state: Sequence[int]) -> None:
        if len(state) != 4:
            raise ValueError(f"a PRNG state is four integers, got {list(state)}")
        self.s = [int(v) & MASK for v in state]

    def next_uint32(self) -> int:
        s0, s1, s2, s3 = self.s
        result = _imul(_rotl(_imul(s1, 5), 7), 9)
        t = (s1 << 9) & MASK
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = _rotl(s3, 11)
        self.s = [s0, s1, s2, s3]
        return result

    def next_float(self) -> float:
        """Uniform in [0, 1)."""
        return self.next_uint32() / 4294967296

    def next_int(self, n: int) -> int:
        """Uniform integer in [0, n), as Math.floor(nextFloat() * n)."""
        return math.floor(self.next_float() * n)


def window_starts(rng: Prng, tokens: int, batch: int, block: int) -> List[int]:
    """The start of each of `batch` windows of block + 1 tokens (runtime/data/batches.ts sampleWindows)."""
    return [rng.next_int(tokens - block) for _ in range(batch)]


def estimate_seed(seed: int, step: int) -> int:
    """The seed of the loss-estimate batches at a step (runtime/train/evaluate.ts estimateLoss)."""
    return (seed * 1_000_003 + step * 7919 + 17) & MASK


def learning_rate(step: int, peak: float, schedule: Mapping[str, object], max_iters: int) -> float:
    """Constant, or nanoGPT's linear warmup then cosine decay to min_lr (runtime/train/schedule.ts)."""
    if schedule["type"] == "constant":
        return peak
    warmup = int(schedule["warmup_iters"])  # type: ignore[arg-type]
    min_lr = float(schedule["min_lr"])  # type: ignore[arg-type]
    if step < warmup:
        return (peak * (step + 1)) / (warmup + 1)
    if step >= max_iters:
        return min_lr
    ratio = (step - warmup) / max(1, max_iters - warmup)
    coeff = 0.5 * (1 + math.cos(math.pi * ratio))
    return min_lr + coeff * (peak - min_lr)
