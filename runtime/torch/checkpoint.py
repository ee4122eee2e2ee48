"""babygpt's checkpoint protocol (runtime/checkpoint/checkpoint.ts), written from Python.

A run directory holds model.safetensors, optimizer.safetensors and meta.json. A new checkpoint is first
written, each file fsynced, into <run>/.next/ (meta.json last, recording the sha256 of the other two),
then renamed over the live files, meta.json last: a crash at any moment leaves the old checkpoint or the
new one, never a mix, and the TypeScript side (which finishes or discards a half-promoted .next when it
opens a run) reads what this writes.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from datetime import datetime, timezone
from typing import Any, Dict, Mapping, Optional, Tuple

import numpy as np

import safetensors_io

FORMAT = "babygpt-checkpoint/1"
FILES = ("model.safetensors", "optimizer.safetensors", "meta.json")


class CheckpointWriteError(Exception):
    """A checkpoint could not be written; the previous one is intact."""


def why_write_failed(e: OSError) -> str:
    """A write error in plain words, as runtime/checkpoint/checkpoint.ts whyWriteFailed says it."""
    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the disk is full"
    if e.errno in (errno.EACCES, errno.EROFS, errno.EPERM):
        return "the run directory is not writable"
    return e.strerror or str(e)


def write_atomic(path: str, data: bytes) -> None:
    """A temporary file beside the target, fsynced, renamed over it; then the directory fsynced."""
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.{os.getpid()}.tmp")
    if os.path.lexists(tmp):
        os.remove(tmp)  # left by a killed writer of this pid; removed, never written through
    try:
        # a new file, never through a link placed at the name
        with os.fdopen(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644), "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    fsync_dir(os.path.dirname(path))


def fsync_dir(path: str) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some filesystems refuse fsync on a directory; the rename is still atomic
    finally:
        os.close(fd)


def save_checkpoint(run_dir: str, model: Mapping[str, np.ndarray], optimizer: Mapping[str, np.ndarray], meta: Dict[str, Any], spec_sha256: Optional[str] = None) -> None:
    """Writes a checkpoint (meta without format, files and savedAt, which this adds; spec_sha256 is the
    run's spec.resolved.yaml's, recorded as files.spec)."""
    nxt = os.path.join(run_dir, ".next")
    try:
        if os.path.islink(nxt) or os.path.isfile(nxt):
            os.remove(nxt)  # a link is removed, never followed
        shutil.rmtree(nxt, ignore_errors=True)
        os.mkdir(nxt)
        model_bytes = safetensors_io.dumps(model, {"format": "pt", "step": str(meta["step"])})
        opt_bytes = safetensors_io.dumps(optimizer, {"step": str(meta["optimizerStep"])})
        write_atomic(os.path.join(nxt, "model.safetensors"), model_bytes)
        write_atomic(os.path.join(nxt, "optimizer.safetensors"), opt_bytes)
        full = {
            "format": FORMAT,
            **meta,
            "files": {
                "model": hashlib.sha256(model_bytes).hexdigest(),
                "optimizer": hashlib.sha256(opt_bytes).hexdigest(),
                **({"spec": spec_sha256} if spec_sha256 else {}),
            },
            "savedAt": datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        }
        write_atomic(os.path.join(nxt, "meta.json"), (json.dumps(full, indent=2, allow_nan=False) + "\n").encode("utf-8"))
    except OSError as e:
        shutil.rmtree(nxt, ignore_errors=True)
        raise CheckpointWriteError(f"could not write the checkpoint in {run_dir} ({why_write_failed(e)}); the previous checkpoint is intact") from None
    for name in FILES:  # promote, meta.json last
        os.replace(os.path.join(nxt, name), os.path.join(run_dir, name))
    shutil.rmtree(nxt, ignore_errors=True)
    fsync_dir(run_dir)


def load_checkpoint(run_dir: str) -> Tuple[Dict[str, Any], Dict[str, np.ndarray], Dict[str, np.ndarray]]:
    """meta.json and the two tensor files of a run (which babygpt has already checked and recovered)."""
    with open(os.path.join(run_dir, "meta.json"), encoding="utf-8") as f:
        meta = json.load(f)
    model, _ = safetensors_io.load(os.path.join(run_dir, "model.safetensors"))
    optimizer, _ = safetensors_io.load(os.path.join(run_dir, "optimizer.safetensors"))
    return meta, model, optimizer
