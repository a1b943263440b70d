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
