"""Matrices on GGUF grids, for the tests of the grid code."""

from __future__ import annotations

import numpy as np


def q4_1_matrix(rng: np.random.Generator, k: int, n: int) -> np.ndarray:
    """W [K, N] whose blocks of 32 along K are Q4_1: d·q + m, with fp16 d and m as a GGUF has."""
    blocks = k // 32
    d = (rng.random((n, blocks)) * 0.05 + 0.01).astype(np.float16).astype(np.float32)
    m = (-d * rng.uniform(3, 12, (n, blocks))).astype(np.float16).astype(np.float32)
    q = rng.integers(0, 16, (n, blocks, 32))
    q[..., 0], q[..., 1] = 0, 15  # every block spans its whole grid, as Q4_1's min/max do
    w = q * d[..., None] + m[..., None]
    return np.ascontiguousarray(w.reshape(n, k).T.astype(np.float32))


def q8_0_matrix(rng: np.random.Generator, k: int, n: int) -> np.ndarray:
    d = (rng.random((n, k // 32)) * 0.01 + 0.001).astype(np.float16).astype(np.float32)
    q = rng.integers(-127, 128, (n, k // 32, 32))
    q[..., 0] = 127
    return np.ascontiguousarray((q * d[..., None]).reshape(n, k).T.astype(np.float32))
