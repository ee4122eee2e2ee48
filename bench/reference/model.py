"""The PyTorch reference: the modules babygpt's PyTorch target generates (generated/torch/<spec>.py).

The parity check (runtime/torch/parity.py, run by `babygpt parity` and the parity tests) and the
benchmark's PyTorch side (bench_torch.py) run the module the compiler emits from the same IR as the
TypeScript model, the one the torch engine trains (`babygpt train --engine torch`): one source of truth
for what a spec means. What the parity check holds is that the compiler's two targets compute the same
thing, each on its own framework's operations (nn.Linear, F.layer_norm, F.softmax or
scaled_dot_product_attention, F.cross_entropy on this side), and that their parameter names agree, so a
babygpt model.safetensors loads here with strict=True.

    load_model("generated/torch/12-baby-gpt.py", vocab_size)  the model a generated module builds
    train_step(model, optimizer, x, y, clip)                   one training step as babygpt runs it

Both live in runtime/torch/reference.py, which `babygpt parity` needs without the benchmark's folder;
this module puts runtime/torch on sys.path and passes them on.
"""

from __future__ import annotations

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PROJECT_ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(PROJECT_ROOT, "runtime", "torch"))

from reference import load_model, load_spec, token_embedding_name, train_step  # noqa: E402,F401
