"""Inkwell's own ONNX Runtime operators on GGUF's block layouts (native/ggml_ops.cpp).

`GgmlMatMul` multiplies by a matrix kept in its file's own blocks (Q4_0, Q4_1, Q5_0, Q5_1,
Q8_0, Q4_K, Q5_K, Q6_K), and
`GgmlGather` looks rows of such a table up: an imported GGUF model then reads as many
bytes a token as llama.cpp does. setuptools builds the library as the extension module
`desktop_app.engine._ggml_ops` (setup.py); ONNX Runtime loads it by its path. Where it
could not be built, imports fall back to ONNX Runtime's MatMulNBits (bench/RESULTS.md
has what that costs), and a graph that needs it says so when it is opened.
"""

from __future__ import annotations

import importlib.machinery
import logging
import sys
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

DOMAIN = "inkwell.ggml"
# GGML type numbers (ggml.h) of the layouts the operators read, by name, and the weights
# a block of each holds (a row must be whole blocks; F16 and BF16 are read 32 at a time).
HELD_TYPES = {
    "F16": 1,
    "Q4_0": 2,
    "Q4_1": 3,
    "Q5_0": 6,
    "Q5_1": 7,
    "Q8_0": 8,
    "Q4_K": 12,
    "Q5_K": 13,
    "Q6_K": 14,
    "BF16": 30,
}
BLOCK_WEIGHTS = {name: 256 if name.endswith("_K") else 32 for name in HELD_TYPES}
# The 32-weight types whose rows an import interleaves by eights (INTERLEAVE; the layout is
# in native/ggml_blocks32.cpp), with where a block keeps its fields: bytes of a block, the
# offset m (-1: none), the fifth bits qh (-1: none), and qs.
INTERLEAVE = 8
_FIELDS = {
    "Q4_0": (18, -1, -1, 2),
    "Q4_1": (20, 2, -1, 4),
    "Q5_0": (22, -1, 2, 6),
    "Q5_1": (24, 2, 4, 8),
    "Q8_0": (34, -1, -1, 2),
}
INTERLEAVED_TYPES = frozenset(_FIELDS)
_ORDER = [0, 1, 4, 5, 2, 3, 6, 7]  # the rows' scales in the order the kernel's sums come out
MODULE = "_ggml_ops"
log = logging.getLogger(__name__)


@cache
def library_path() -> Path | None:
    """The built library, beside this module (a checkout, a wheel, or the frozen app's copy)."""
    folders = [Path(__file__).resolve().parent]
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        folders.append(Path(frozen) / "desktop_app" / "engine")
    for folder in folders:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            candidate = folder / f"{MODULE}{suffix}"
            if candidate.is_file():
                return candidate
    return None


_unloadable: list[str] = []  # why the built library could not be loaded, once it failed


def available() -> bool:
    return library_path() is not None and not _unloadable


def register(options: Any) -> bool:
    """Let a session (its SessionOptions) run the operators; False when not built, or when
    the file is there but cannot be loaded (damaged, or built for another system): graphs
    that do not need the operators then still load."""
    path = library_path()
    if path is None or _unloadable:
        return False
    try:
        options.register_custom_ops_library(str(path))
    except Exception as exc:
        _unloadable.append(str(exc))
        log.warning("Inkwell's GGUF operators in %s could not be loaded: %s", path, exc)
        return False
    return True


def holds(type_name: str, columns: int) -> bool:
    """Whether a matrix of this GGUF type and row length can be read in its own blocks."""
    return available() and type_name in HELD_TYPES and columns % BLOCK_WEIGHTS[type_name] == 0


def interleave(type_name: str, raw: np.ndarray) -> np.ndarray:
    """Rows [n, bytes a row] of a 32-weight type (n a multiple of 8) interleaved by eights:
    the same bytes, each group of eight rows holding its blocks as the kernel reads them."""
    size, m_at, qh_at, qs_at = _FIELDS[type_name]
    n, row_bytes = raw.shape
    blocks = row_bytes // size
    if n % INTERLEAVE or row_bytes % size:
        raise ValueError(f"{n} rows of {row_bytes} bytes are not whole groups of eight rows of {type_name} blocks")
    groups = n // INTERLEAVE
    rows = raw.reshape(groups, INTERLEAVE, blocks, size)

    def halves(at: int) -> np.ndarray:  # [groups, blocks, 16]: the eight rows' fp16 values in _ORDER
        return rows[:, _ORDER, :, at : at + 2].transpose(0, 2, 1, 3).reshape(groups, blocks, 16)

    parts = [halves(0)]
    if m_at >= 0:
        parts.append(halves(m_at))
    if qh_at >= 0:  # byte j of row r at 8j + r
        parts.append(rows[:, :, :, qh_at : qh_at + 4].transpose(0, 2, 3, 1).reshape(groups, blocks, 32))
    runs = (size - qs_at) // 8  # eight bytes of a row's qs a run: 2 (4- and 5-bit), 4 (Q8_0)
    qs = rows[:, :, :, qs_at:].reshape(groups, 2, 4, blocks, runs, 8)  # [g, quad, row, block, run, 8]
    parts.append(qs.transpose(0, 3, 4, 1, 2, 5).reshape(groups, blocks, 64 * runs))
    return np.concatenate(parts, axis=2).reshape(n, row_bytes)
