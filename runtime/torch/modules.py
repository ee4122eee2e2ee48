"""Importing a generated PyTorch module (generated/torch/<spec>.py, or a run directory's model.py) from
its file: the file names (12-baby-gpt.py) are not Python module names, so they are loaded by path."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from types import ModuleType


def load_generated(path: str) -> ModuleType:
    """The module at `path`, imported once per file content, with no __pycache__ written beside it."""
    path = os.path.abspath(path)
    with open(path, "rb") as f:
        name = "babygpt_model_" + hashlib.sha256(f.read()).hexdigest()[:16]
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is being built
    sys.dont_write_bytecode = True
    spec.loader.exec_module(module)
    return module
