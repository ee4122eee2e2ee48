"""Minimal reader and writer of the safetensors format, with numpy only.

The format (https://github.com/huggingface/safetensors): an unsigned 64-bit little-endian header
length, a JSON header mapping each tensor name to its dtype, shape and [begin, end) byte range in the
data section, then the raw little-endian data. The optional "__metadata__" entry holds string pairs.

Only F32 and I32 are supported, the two dtypes babygpt writes (runtime/checkpoint/safetensors.ts). We
do not use the `safetensors` pip package because the torch engine and the PyTorch reference must run on
Debian's python3-numpy and python3-torch alone, with nothing installed by pip.
"""

from __future__ import annotations

import json
import struct
from typing import Dict, Mapping, Optional, Tuple

import numpy as np

# Explicitly little-endian, so the bytes mean the same on any host.
_DTYPES = {"F32": np.dtype("<f4"), "I32": np.dtype("<i4")}


def load(path: str) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    """Reads a safetensors file into ({name: array}, metadata). Raises ValueError on a malformed file."""
    with open(path, "rb") as f:
        raw = f.read()
    return loads(raw, what=path)


def loads(raw: bytes, what: str = "<bytes>") -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    def bad(why: str) -> ValueError:
        return ValueError(f"{what} is not a valid safetensors file: {why}")

    if len(raw) < 8:
        raise bad("shorter than the 8-byte header length")
    (header_len,) = struct.unpack("<Q", raw[:8])
    if header_len > len(raw) - 8:
        raise bad(f"header claims {header_len} bytes but only {len(raw) - 8} follow (truncated?)")
    try:
        header = json.loads(raw[8 : 8 + header_len].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise bad(f"header is not JSON ({e})") from None
    if not isinstance(header, dict):
        raise bad("header is not a JSON object")

    data = memoryview(raw)[8 + header_len :]
    metadata = header.pop("__metadata__", None) or {}
    tensors: Dict[str, np.ndarray] = {}
    for name, entry in header.items():
        dtype = _DTYPES.get(entry.get("dtype"))
        if dtype is None:
            raise bad(f"tensor {name} has dtype {entry.get('dtype')!r}; only F32 and I32 are supported")
        shape = tuple(int(d) for d in entry["shape"])
        begin, end = (int(o) for o in entry["data_offsets"])
        expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if end - begin != expected:
            raise bad(f"tensor {name} has shape {list(shape)} ({expected} bytes) but spans {end - begin} bytes")
        if end > len(data):
            raise bad(f"tensor {name} ends at byte {end} of a {len(data)}-byte data section (truncated?)")
        # copy(): frombuffer aliases the file's bytes read-only; callers (torch.from_numpy) want to own it.
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape).copy()
    return tensors, dict(metadata)


def save(path: str, tensors: Mapping[str, np.ndarray], metadata: Optional[Mapping[str, str]] = None) -> None:
    """Writes tensors (float32 or int32 arrays; other float/int dtypes are refused, not silently cast)."""
    with open(path, "wb") as f:
        f.write(dumps(tensors, metadata))


def dumps(tensors: Mapping[str, np.ndarray], metadata: Optional[Mapping[str, str]] = None) -> bytes:
    # Sorted names and 8-byte padding, as babygpt's writer and the reference implementation do, so the
    # same tensors always give the same bytes.
    names = sorted(tensors)
    header: Dict[str, object] = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    chunks = []
    offset = 0
    for name in names:
        array = np.asarray(tensors[name])
        kind = {("f", 4): "F32", ("i", 4): "I32"}.get((array.dtype.kind, array.dtype.itemsize))
        if kind is None:
            raise TypeError(f"tensor {name} has dtype {array.dtype}; only float32 and int32 can be written")
        data = np.ascontiguousarray(array, dtype=_DTYPES[kind]).tobytes()
        header[name] = {"dtype": kind, "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"))
    text += " " * ((8 - len(text.encode("utf-8")) % 8) % 8)
    encoded = text.encode("utf-8")
    return struct.pack("<Q", len(encoded)) + encoded + b"".join(chunks)
