"""Rounding float weights to GGUF's Q8_0 and Q4_0 blocks, as llama.cpp's reference rounds them.

For Hugging Face folders (hf_source.py): their float weights are rounded here to the
blocks the GGUF route and Inkwell's operators already run, as llama.cpp's
`quantize_row_q8_0_ref` and `quantize_row_q4_0_ref` (ggml/src/ggml-quants.c) round them,
in the same float32 steps, so a folder rounded here and the same model converted and
quantized by llama.cpp hold the same bytes (tests/models/test_hf_route.py compares them).

- Q8_0, 34 bytes a block of 32: d = max|x| / 127 (stored as fp16), q = round(x / d), ties
  away from zero.
- Q4_0, 18 bytes a block of 32: d = m / -8 with m the block's value of largest magnitude
  (its first, where several tie), q = min(15, trunc(x / d + 8.5)); the first 16 levels in
  the low nibbles, the last 16 in the high ones.

Pure numpy, and nothing of Inkwell's: a leaf of models/.
"""

from __future__ import annotations

import numpy as np

BLOCK = 32
BLOCK_BYTES = {"Q8_0": 2 + BLOCK, "Q4_0": 2 + BLOCK // 2}


def row_bytes(type_name: str, columns: int) -> int:
    return columns // BLOCK * BLOCK_BYTES[type_name]


def quantize(type_name: str, rows: np.ndarray) -> np.ndarray:
    """float32 rows [n, k] (k a multiple of 32) as the type's blocks: uint8 [n, row_bytes]."""
    if type_name == "Q8_0":
        return quantize_q8_0(rows)
    if type_name == "Q4_0":
        return quantize_q4_0(rows)
    raise ValueError(f"Inkwell does not round weights to {type_name}")


def _blocks(rows: np.ndarray) -> np.ndarray:
    n, k = rows.shape
    if k % BLOCK:
        raise ValueError(f"rows of {k} weights are not whole blocks of {BLOCK}")
    return np.ascontiguousarray(rows, dtype=np.float32).reshape(n, k // BLOCK, BLOCK)


def _reciprocal(d: np.ndarray) -> np.ndarray:
    inverse = np.zeros_like(d)
    np.divide(np.float32(1), d, out=inverse, where=d != 0)
    return inverse


def _packed(d: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """[n, blocks, 2 + level bytes]: each block's fp16 scale, then its level bytes."""
    n, blocks = d.shape
    out = np.empty((n, blocks, 2 + levels.shape[2]), np.uint8)
    out[..., :2] = d.astype(np.float16).view(np.uint8).reshape(n, blocks, 2)
    out[..., 2:] = levels
    return out.reshape(n, -1)


def quantize_q8_0(rows: np.ndarray) -> np.ndarray:
    blocks = _blocks(rows)
    d = np.abs(blocks).max(axis=2) / np.float32(127)
    scaled = (blocks * _reciprocal(d)[..., None]).astype(np.float64)
    # C's roundf: halves away from zero (numpy's rint would take them to even). The sum is
    # exact in float64, so a value just under a half stays under it.
    levels = np.trunc(scaled + np.copysign(0.5, scaled)).astype(np.int8)
    return _packed(d, levels.view(np.uint8))


def quantize_q4_0(rows: np.ndarray) -> np.ndarray:
    blocks = _blocks(rows)
    largest = np.take_along_axis(blocks, np.abs(blocks).argmax(axis=2)[..., None], axis=2)[..., 0]
    d = largest / np.float32(-8)
    scaled = blocks * _reciprocal(d)[..., None] + np.float32(8.5)
    levels = np.minimum(15, np.trunc(scaled)).astype(np.uint8)
    half = BLOCK // 2
    return _packed(d, levels[..., :half] | (levels[..., half:] << 4))
