"""GGUF block grids in numpy: recognising them in a weight matrix, and packing their levels.

A GGUF's Q4_1 block of 32 weights is w = d·q + m (q in 0..15), its Q8_0 block w = d·q
(q in −127..127), with d and m in fp16 (llama.cpp's `dequantize_row_*` in
ggml/src/ggml-quants.c). A model made from a GGUF by dequantizing it still has every
weight on such a grid, so the grid can be read back exactly; gguf_exact.py then carries
it into MatMulNBits, whose packed layouts (two 4-bit levels to a byte, low nibble first)
are written here too.

Pure numpy, and nothing of Inkwell's: a leaf of models/.
"""

from __future__ import annotations

import numpy as np

BLOCK = 32  # a GGUF's Q4_0, Q4_1 and Q8_0 blocks; also the block of the MatMulNBits that hold them


def recover_q4_1(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(q [N, blocks, 32] uint8, d [N, blocks], m [N, blocks]) if W [K, N] is on Q4_1 grids.

    Q4_1's block minimum is its offset (q = 0) and its maximum is q = 15, so d and m are
    read off each block and every value is checked against its level.
    """
    if w.ndim != 2 or w.shape[0] % BLOCK:
        return None
    k, n = w.shape
    blocks = w.T.reshape(n, k // BLOCK, BLOCK).astype(np.float64)
    low, high = blocks.min(axis=2), blocks.max(axis=2)
    d = (high - low) / 15.0
    safe = np.where(d == 0, 1.0, d)
    q = np.rint((blocks - low[..., None]) / safe[..., None])
    error = np.abs(q * d[..., None] + low[..., None] - blocks).max(axis=2)
    # The GGUF keeps d and m in fp16; after the fp32 round trip a level is exact to ~1e-3 d.
    if (error > 0.02 * np.maximum(d, 1e-12)).any():
        return None
    return q.astype(np.uint8), d.astype(np.float32), low.astype(np.float32)


def recover_q8_0(w: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(q + 128 as uint8 [N, blocks, 32], d [N, blocks]) if W [K, N] is on Q8_0 grids."""
    if w.ndim != 2 or w.shape[0] % BLOCK:
        return None
    k, n = w.shape
    blocks = w.T.reshape(n, k // BLOCK, BLOCK).astype(np.float64)
    d = np.abs(blocks).max(axis=2) / 127.0
    safe = np.where(d == 0, 1.0, d)
    q = np.rint(blocks / safe[..., None])
    if (np.abs(q * d[..., None] - blocks).max(axis=2) > 0.02 * np.maximum(d, 1e-12)).any():
        return None
    return (q + 128).astype(np.uint8), d.astype(np.float32)


def grid_kind(w: np.ndarray) -> str:
    """ "q4_1", "q8_0" or "other": the GGUF grid a weight matrix W [K, N] sits on."""
    if recover_q4_1(w) is not None:
        return "q4_1"
    return "q8_0" if recover_q8_0(w) is not None else "other"


def pack_nibbles(values: np.ndarray) -> np.ndarray:
    """[..., 2j] values in 0..15 -> [..., j] bytes, the first of each pair in the low nibble."""
    packed: np.ndarray = (values[..., 0::2] | (values[..., 1::2] << 4)).astype(np.uint8)
    return packed


def pack_zero_points(zero: np.ndarray) -> np.ndarray:
    """4-bit zero points [N, blocks] packed two to a byte, each row padded to whole bytes."""
    n, blocks = zero.shape
    if blocks % 2:
        zero = np.concatenate([zero, np.zeros((n, 1), zero.dtype)], axis=1)
    return pack_nibbles(zero.astype(np.uint8)).reshape(-1)


def leftover_rows(r: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Leftover offsets r [N, blocks] as 4-bit rows [N, width/32, 32] (zero point 8) and scales."""
    n, blocks = r.shape
    padded = np.zeros((n, width), dtype=np.float64)
    padded[:, :blocks] = r
    grouped = padded.reshape(n, width // BLOCK, BLOCK)
    scale = np.abs(grouped).max(axis=2) / 7.0
    safe = np.where(scale == 0, 1.0, scale)
    q = np.clip(np.rint(grouped / safe[..., None]), -8, 7) + 8
    return q.astype(np.uint8), scale.astype(np.float32)


def round_to_4_bits(w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Blocks w [N, blocks, 32] rounded to 16 levels from each block's minimum to its maximum
    (narrowing the range to lower the squared error, as other quantizers do, cost +1.3
    points of perplexity here: the rare large weights matter for logits).

    Returns levels [N, blocks, 32] (0..15), scales [N, blocks] and zero points [N, blocks].
    """
    low, high = np.minimum(w.min(axis=2), 0.0), np.maximum(w.max(axis=2), 0.0)
    scale = (high - low) / 15.0
    safe = np.where(scale == 0, 1.0, scale)
    zero = np.clip(np.rint(-low / safe), 0, 15)
    levels = np.clip(np.rint(w / safe[..., None]) + zero[..., None], 0, 15)
    return levels.astype(np.uint8), safe.astype(np.float32), zero.astype(np.uint8)


def split_offsets(d: np.ndarray, m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Q4_1 offsets m [N, blocks] as integer zero points z = round(−m/d) in 0..15, and the
    leftover r = m + z·d (at most d/2 while −m/d is in range) that z cannot hold."""
    safe = np.where(d == 0, 1.0, d)
    zero = np.clip(np.rint(-m / safe), 0, 15)
    return zero, (m + zero * d).astype(np.float64)
