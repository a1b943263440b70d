"""A stand-in for desktop_app.models.gguf_blocks (being written on another branch) for
F32/F16/BF16/Q8_0/Q4_0/Q4_1 only, with the same API; used by the tests until it lands."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from gguf import GGMLQuantizationType as T

from desktop_app.core.errors import UserError


@dataclass(frozen=True)
class BlockGrid:
    bits: int
    block: int
    levels: np.ndarray
    scales: np.ndarray
    zero_points: np.ndarray
    offsets: np.ndarray | None
    offset_block: int


_HOMES = {T.Q4_0: (4, 32, False), T.Q4_1: (4, 32, True), T.Q8_0: (8, 32, False)}
_FLOATS = (T.F32, T.F16, T.BF16)


def is_supported(qtype: T) -> bool:
    return qtype in _HOMES or qtype in _FLOATS


def home_of(qtype: T) -> tuple[int, int, bool]:
    return _HOMES[qtype]


def floats_of(qtype: T, raw: np.ndarray, k: int) -> np.ndarray:
    rows = raw.shape[0]
    if qtype == T.F32:
        return raw.view(np.float32).reshape(rows, k).copy()
    if qtype == T.F16:
        return raw.view(np.float16).reshape(rows, k).astype(np.float32)
    if qtype == T.BF16:
        return (raw.view(np.uint16).astype(np.uint32) << 16).view(np.float32).reshape(rows, k)
    raise UserError(f"not a float type: {qtype.name}")


def grid_of(qtype: T, raw: np.ndarray, k: int, name: str = "") -> BlockGrid:
    if qtype not in _HOMES:
        raise UserError(f"Tensor {name} is of GGUF type {qtype.name}, which is not supported.")
    n, nb = raw.shape[0], k // 32
    if qtype == T.Q8_0:
        blocks = raw.reshape(n, nb, 34)
        d = blocks[:, :, :2].copy().view(np.float16)[..., 0].astype(np.float32)
        q = blocks[:, :, 2:].copy().view(np.int8).astype(np.int16) + 128
        return BlockGrid(8, 32, q.reshape(n, k).astype(np.uint8), d, np.full((n, nb), 128, np.uint8), None, 32)
    size = 18 if qtype == T.Q4_0 else 20
    blocks = raw.reshape(n, nb, size)
    d = blocks[:, :, :2].copy().view(np.float16)[..., 0].astype(np.float32)
    qs = blocks[:, :, size - 16 :]
    q = np.concatenate([qs & 15, qs >> 4], axis=2).reshape(n, k)
    if qtype == T.Q4_0:
        return BlockGrid(4, 32, q, d, np.full((n, nb), 8, np.uint8), None, 32)
    m = blocks[:, :, 2:4].copy().view(np.float16)[..., 0].astype(np.float32)
    safe = np.where(d == 0, 1.0, d)
    z = np.clip(np.rint(-m / safe), 0, 15)
    return BlockGrid(4, 32, q, d, z.astype(np.uint8), (m + z * d).astype(np.float32), 32)
