"""Reading GGUF grids back from weight matrices, and packing levels as MatMulNBits stores them."""

from __future__ import annotations

import numpy as np

from desktop_app.models.grids import (
    grid_kind,
    pack_nibbles,
    pack_zero_points,
    recover_q4_1,
    recover_q8_0,
    split_offsets,
)
from tests.unit.models.helpers import q4_1_matrix, q8_0_matrix


def test_q4_1_and_q8_0_grids_are_recognised_and_ordinary_weights_are_not() -> None:
    rng = np.random.default_rng(0)
    w = q4_1_matrix(rng, 64, 8)
    q, d, m = recover_q4_1(w)  # type: ignore[misc]
    rebuilt = (q * d[..., None] + m[..., None]).reshape(8, 64).T
    assert np.abs(rebuilt - w).max() < 1e-6
    assert recover_q8_0(q8_0_matrix(rng, 64, 8)) is not None
    ordinary = rng.standard_normal((64, 8)).astype(np.float32)
    assert recover_q4_1(ordinary) is None
    assert recover_q8_0(ordinary) is None
    assert recover_q4_1(rng.standard_normal((48, 8)).astype(np.float32)) is None  # K not whole blocks
    assert grid_kind(w) == "q4_1" and grid_kind(q8_0_matrix(rng, 64, 8)) == "q8_0" and grid_kind(ordinary) == "other"


def test_levels_pack_two_to_a_byte_low_nibble_first() -> None:
    assert pack_nibbles(np.array([[1, 2, 15, 0]], np.uint8)).tolist() == [[0x21, 0x0F]]
    # Three blocks: each row is padded to whole bytes before rows are joined.
    zero = np.array([[1, 2, 3], [4, 5, 6]], np.uint8)
    assert pack_zero_points(zero).tolist() == [0x21, 0x03, 0x54, 0x06]


def test_offsets_split_into_integer_zero_points_and_small_leftovers() -> None:
    d = np.array([[0.5, 0.5, 0.5, 0.0]])
    m = np.array([[-2.2, 1.0, -9.0, 0.3]])  # in range, above 0 (z clips to 0), below -15·d, d = 0
    zero, leftover = split_offsets(d, m)
    assert zero.tolist() == [[4, 0, 15, 0]]
    np.testing.assert_allclose(leftover, [[-0.2, 1.0, -1.5, 0.3]])
    # In range, w = d·q + m = d·(q − z) + r: the integer zero point holds all but |r| <= d/2.
    assert abs(leftover[0, 0]) <= d[0, 0] / 2
