"""GGUF tensor bytes decoded, a chunk of rows at a time, into the grids MatMulNBits holds.

Every common GGUF type stores a row as blocks of integer levels with a scale (and for
some, an offset) per block: llama.cpp's `dequantize_row_*` in ggml/src/ggml-quants.c.
ONNX Runtime's MatMulNBits (com.microsoft) computes scale·(level − zero point) per block,
with integer levels and zero points of 2, 4 or 8 bits; its CPU kernel is fast at 4 bits
with block 32 and at 8 bits with block 16 or 32 (shared/GGUF-GRIDS.md). So each type is
carried to the nearest such "home" without changing a weight:

    value[n, j] = scales[n, j // block] · (levels[n, j] − zero_points[n, j // block])
                  + offsets[n, j // offset_block]

The offsets are what remains of a block's free offset (Q4_1, Q5_1, and the K-quants'
−dmin·m) after an integer zero point has taken as much of it as stays exact; the graph
adds them through block sums of the input (gguf_exact.py). Types with no offset use
MatMulNBits's default zero point, 2**(bits − 1), so a graph may leave them out.

`dequantize_grid` reproduces gguf's (and llama.cpp's) float32 values bit for bit: every
product scale·(level − zero point) is exact in fp32 (d and dmin are fp16, the rest small
integers), every remainder offset is exact in fp32, and so the one rounding left is the
same as the file's `d·q + m`. Where a zero point would break that, the block keeps
zero point 0 and its whole offset.

numpy and gguf's constants only: a leaf of models/.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.models.ggml_types import GGML_QUANT_SIZES, GGMLQuantizationType

Q = GGMLQuantizationType

FLOAT_TYPES = frozenset({Q.F32, Q.F16, Q.BF16})

# (bits, block, has offsets) of each type's home; see the module docstring.
_HOMES: dict[GGMLQuantizationType, tuple[int, int, bool]] = {
    Q.Q4_0: (4, 32, False),
    Q.Q4_1: (4, 32, True),
    Q.Q5_0: (8, 32, False),
    Q.Q5_1: (8, 32, True),
    Q.Q8_0: (8, 32, False),
    Q.Q2_K: (4, 16, True),  # 2 bits at block 16 is MatMulNBits's slow path
    Q.Q3_K: (4, 16, False),
    Q.Q4_K: (4, 32, True),
    Q.Q5_K: (8, 32, True),
    Q.Q6_K: (8, 16, False),
    # Sixteen non-linear levels (int8 values): no 4-bit grid holds them, an 8-bit one does.
    Q.IQ4_NL: (8, 32, False),
    Q.IQ4_XS: (8, 32, False),
}

# llama.cpp's kvalues_iq4nl (ggml-common.h): the int8 values IQ4_NL's and IQ4_XS's 4-bit
# indices stand for.
_IQ4_VALUES = np.array([-127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113], dtype=np.int16)

# Type ids llama.cpp once wrote for weights repacked for ARM/AVX kernels, since retired from
# ggml's enum (and gguf's): named here so that the error can say what the file holds.
_RETIRED = {31: "Q4_0_4_4", 32: "Q4_0_4_8", 33: "Q4_0_8_8", 36: "IQ4_NL_4_4", 37: "IQ4_NL_4_8", 38: "IQ4_NL_8_8"}

_FP32_MANTISSA = 24


@dataclass(frozen=True)
class BlockGrid:
    """Rows [N, K] of a matrix as MatMulNBits holds them:

    value[n, j] = scales[n, j // block] · (levels[n, j] − zero_points[n, j // block])
                  + offsets[n, j // offset_block]   (no offsets term when offsets is None)
    """

    bits: int  # 4 or 8
    block: int  # 16 or 32
    levels: np.ndarray  # uint8 [N, K], each in 0 .. 2**bits − 1, unpacked
    scales: np.ndarray  # float32 [N, K // block]
    zero_points: np.ndarray  # uint8 [N, K // block]
    offsets: np.ndarray | None  # float32 [N, K // offset_block]
    offset_block: int  # equals block where there are no offsets

    @property
    def default_zero_points(self) -> bool:
        """Whether every zero point is MatMulNBits's default, 2**(bits − 1): a graph may omit them."""
        return bool((self.zero_points == 1 << (self.bits - 1)).all())


def is_supported(qtype: GGMLQuantizationType | int) -> bool:
    """Whether `grid_of` (or, for F32/F16/BF16, `floats_of`) can import this type."""
    known = _known(qtype)
    return known is not None and (known in _HOMES or known in FLOAT_TYPES)


def require_supported(qtype: GGMLQuantizationType | int, name: str | None = None) -> GGMLQuantizationType:
    """The type, or a UserError naming it (and the tensor `name`) when Inkwell cannot import it."""
    known = _known(qtype)
    if known is not None and (known in _HOMES or known in FLOAT_TYPES):
        return known
    label = (
        known.name
        if known is not None
        else _RETIRED.get(int(qtype)) or translate("Errors", "type {code}").format(code=int(qtype))
    )
    supported = ", ".join(t.name for t in (*sorted(FLOAT_TYPES), *_HOMES))
    raise UserError(
        translate("Errors", "Inkwell cannot import {label} weights yet (tensor {name}).").format(label=label, name=name)
        if name
        else translate("Errors", "Inkwell cannot import {label} weights yet.").format(label=label),
        hint=translate(
            "Errors", "Choose a GGUF whose weights are {supported}: for example a Q4_K_M, Q5_K_M, Q6_K or Q8_0 file."
        ).format(supported=supported),
    )


def home_of(qtype: GGMLQuantizationType | int, name: str | None = None) -> tuple[int, int, bool]:
    """(bits, block, has offsets) of the type's MatMulNBits home, to plan without decoding."""
    known = require_supported(qtype, name)
    if known in FLOAT_TYPES:
        raise ValueError(f"{known.name} weights are floats, not a block grid: read them with floats_of")
    return _HOMES[known]


def bits_per_weight(qtype: GGMLQuantizationType | int) -> float:
    """What a weight of this type takes in the GGUF file."""
    block, size = GGML_QUANT_SIZES[GGMLQuantizationType(qtype)]
    return 8.0 * size / block


def home_bits_per_weight(qtype: GGMLQuantizationType | int) -> float:
    """What a weight takes in its home: levels, fp32 scales, zero points where they are not
    MatMulNBits's default, and fp32 offsets as a BlockGrid holds them.

    Every home takes more than the file (fp32 scales where the file has fp16 or 6-bit ones),
    and much more for the 5- and 6-bit types (held at 8 bits) and the block-16 types (an
    fp32 scale is 2 bits a weight there): Q6_K's 6.56 bits become 10. F32/F16/BF16 count
    as the float32 rows `floats_of` returns."""
    known = require_supported(qtype)
    if known in FLOAT_TYPES:
        return 32.0
    bits, block, has_offsets = _HOMES[known]
    zero_points = bits / block if has_offsets else 0.0
    return bits + 32 / block + zero_points + (32 / block if has_offsets else 0.0)


def floats_of(qtype: GGMLQuantizationType | int, raw: np.ndarray, k: int, name: str | None = None) -> np.ndarray:
    """float32 rows [N, k] of an F32, F16 or BF16 tensor (exact)."""
    known = require_supported(qtype, name)
    if known not in FLOAT_TYPES:
        raise ValueError(f"{known.name} weights are a block grid: read them with grid_of")
    rows = _rows(raw, known, k)
    if known == Q.F32:
        return rows.view(np.float32).copy()
    if known == Q.F16:
        return rows.view(np.float16).astype(np.float32)
    widened: np.ndarray = (rows.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
    return widened


def grid_of(qtype: GGMLQuantizationType | int, raw: np.ndarray, k: int, name: str | None = None) -> BlockGrid:
    """The grid of rows `raw` (uint8 [N, bytes a row], straight from the file; k weights a row).

    `name`, the tensor's, only goes into the error for a type Inkwell cannot import.
    """
    known = require_supported(qtype, name)
    if known in FLOAT_TYPES:
        raise ValueError(f"{known.name} weights are floats, not a block grid: read them with floats_of")
    block_size, type_size = GGML_QUANT_SIZES[known]
    rows = _rows(raw, known, k)
    blocks = rows.reshape(rows.shape[0], k // block_size, type_size)
    return _DECODERS[known](blocks)


def dequantize_grid(grid: BlockGrid) -> np.ndarray:
    """float32 [N, K]: the grid's values, computed in the order that makes them exact."""
    n, k = grid.levels.shape
    steps = grid.levels.reshape(n, k // grid.block, grid.block).astype(np.int16) - grid.zero_points[..., None]
    values: np.ndarray = (steps.astype(np.float32) * grid.scales[..., None]).reshape(n, k)
    if grid.offsets is not None:
        ob = grid.offset_block
        values = (values.reshape(n, k // ob, ob) + grid.offsets[..., None]).reshape(n, k)
    return values


# --- decoding -------------------------------------------------------------------------------


def _known(qtype: GGMLQuantizationType | int) -> GGMLQuantizationType | None:
    try:
        return GGMLQuantizationType(qtype)
    except ValueError:
        return None


def _rows(raw: np.ndarray, qtype: GGMLQuantizationType, k: int) -> np.ndarray:
    """raw as uint8 [N, bytes a row], checked against k weights a row of this type."""
    block_size, type_size = GGML_QUANT_SIZES[qtype]
    if k % block_size:
        raise ValueError(f"a {qtype.name} row of {k} weights is not whole blocks of {block_size}")
    data = np.ascontiguousarray(raw)
    rows = data.view(np.uint8).reshape(data.shape[0] if data.ndim > 1 else 1, -1)
    if rows.shape[1] != k // block_size * type_size:
        raise ValueError(f"{rows.shape[1]} bytes a row do not hold {k} {qtype.name} weights")
    return rows


def _fp16(field: np.ndarray) -> np.ndarray:
    """float32 [N, blocks] from an fp16 field [N, blocks, 2] of the blocks."""
    return np.ascontiguousarray(field).view(np.float16)[..., 0].astype(np.float32)


def _nibbles(qs: np.ndarray) -> np.ndarray:
    """Bytes [..., width] as 4-bit values [..., 2·width]: the low nibbles, then the high."""
    return np.concatenate([qs & 0x0F, qs >> 4], axis=-1)


def _bits_of(mask: np.ndarray, count: int) -> np.ndarray:
    """Bytes [..., width] as bit planes [..., count, width]: plane i holds bit i of each byte."""
    shifts = np.arange(count, dtype=np.uint8).reshape(count, 1)
    return (mask[..., None, :] >> shifts) & 1


def _grid(
    bits: int, block: int, levels: np.ndarray, scales: np.ndarray, offsets: np.ndarray | None = None
) -> BlockGrid:
    n = levels.shape[0]
    levels = levels.reshape(n, -1).astype(np.uint8)
    scales = scales.reshape(n, -1).astype(np.float32)
    if offsets is None:
        zero_points = np.full(scales.shape, 1 << (bits - 1), dtype=np.uint8)
        return BlockGrid(bits, block, levels, scales, zero_points, None, block)
    zero_points, remainders = _absorb(scales, offsets.reshape(n, -1).astype(np.float32), bits)
    return BlockGrid(bits, block, levels, scales, zero_points, remainders, block)


def _absorb(scales: np.ndarray, offsets: np.ndarray, bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer zero points z taking what they exactly can of each block's offset, and the
    remainders offset + z·scale (at most scale/2 while −offset/scale is in range).

    Exactness needs (a) the remainder to be an fp32 number and (b) scale·(level − z) to be
    one for every level (the scale's odd significand times |level − z| under 2**24). Both
    are checked in float64, which holds them exactly: the operands are fp16 values times
    small integers, and of like size whenever z > 0 (then |offset| ≥ |scale|/2). A block
    where (a) fails keeps z = 0 and its whole offset, computed then exactly as the file's.
    """
    s = scales.astype(np.float64)
    o = offsets.astype(np.float64)
    significand, _ = np.frexp(np.abs(s))
    whole = np.rint(significand * (1 << _FP32_MANTISSA)).astype(np.int64)  # 0 where the scale is 0
    odd = np.maximum(whole // np.maximum(whole & -whole, 1), 1)  # the significand less its trailing zeros
    # (b): |level − z| ≤ max(z, top level), and odd·(top level) < 2**24 already, since the
    # file's own products scale·level are exact; so bounding z is enough (and it is ≥ 1).
    limit = np.minimum((1 << bits) - 1, ((1 << _FP32_MANTISSA) - 1) // odd)
    safe = np.where(s == 0, 1.0, s)
    z = np.clip(np.rint(-o / safe), 0, limit)
    z = np.where(s == 0, 0.0, z)
    exact_rest = o + z * s
    rest = exact_rest.astype(np.float32)
    inexact = rest.astype(np.float64) != exact_rest  # (a)
    z = np.where(inexact, 0.0, z)
    rest = np.where(inexact, offsets, rest)
    return z.astype(np.uint8), rest.astype(np.float32)


def _q4_0(b: np.ndarray) -> BlockGrid:
    return _grid(4, 32, _nibbles(b[..., 2:18]), _fp16(b[..., 0:2]))


def _q4_1(b: np.ndarray) -> BlockGrid:
    return _grid(4, 32, _nibbles(b[..., 4:20]), _fp16(b[..., 0:2]), _fp16(b[..., 2:4]))


def _five_bits(qh: np.ndarray, qs: np.ndarray) -> np.ndarray:
    """Q5_0/Q5_1 levels [N, b, 32] from qh (bit j of the little-endian uint32 is weight j's fifth bit)."""
    high = _bits_of(qh, 8).transpose(0, 1, 3, 2).reshape(*qh.shape[:2], 32)  # byte-major: bit j of byte j // 8
    levels: np.ndarray = _nibbles(qs) | (high << 4)
    return levels


def _q5_0(b: np.ndarray) -> BlockGrid:
    levels = _five_bits(b[..., 2:6], b[..., 6:22]) + np.uint8(128 - 16)  # d·(q − 16) at zero point 128
    return _grid(8, 32, levels, _fp16(b[..., 0:2]))


def _q5_1(b: np.ndarray) -> BlockGrid:
    return _grid(8, 32, _five_bits(b[..., 4:8], b[..., 8:24]), _fp16(b[..., 0:2]), _fp16(b[..., 2:4]))


def _q8_0(b: np.ndarray) -> BlockGrid:
    return _grid(8, 32, b[..., 2:34] ^ np.uint8(0x80), _fp16(b[..., 0:2]))  # int8 q + 128


def _q2_k(b: np.ndarray) -> BlockGrid:
    n, nb, _ = b.shape
    scales, qs = b[..., 0:16], b[..., 16:80]
    d, dmin = _fp16(b[..., 80:82]), _fp16(b[..., 82:84])
    # Each half of 128 weights reads 32 bytes four times, two bits at a time; 16 weights a scale.
    shifts = np.array([0, 2, 4, 6], dtype=np.uint8).reshape(1, 1, 1, 4, 1)
    levels = (qs.reshape(n, nb, 2, 1, 32) >> shifts) & 3
    scale = d[..., None] * (scales & 0x0F).astype(np.float32)
    offset = -(dmin[..., None] * (scales >> 4).astype(np.float32))
    return _grid(4, 16, levels, scale, offset)


def _q3_k(b: np.ndarray) -> BlockGrid:
    n, nb, _ = b.shape
    hmask, qs, packed, d = b[..., 0:32], b[..., 32:96], b[..., 96:108], _fp16(b[..., 108:110])
    # 16 six-bit scales: low nibbles in bytes 0..7 (low halves first), high pairs in bytes 8..11.
    low = np.concatenate([packed[..., 0:8] & 0x0F, packed[..., 0:8] >> 4], axis=-1)
    shifts = np.array([0, 2, 4, 6], dtype=np.uint8).reshape(4, 1)
    high = ((packed[..., None, 8:12] >> shifts) & 3).reshape(n, nb, 16)
    sc = (low | (high << 4)).astype(np.float32) - 32
    # q = (two low bits) − 4 where the hmask bit is clear; level = q + 8 at the default zero point.
    two = (qs.reshape(n, nb, 2, 1, 32) >> shifts.reshape(1, 1, 1, 4, 1)) & 3
    cleared = _bits_of(hmask, 8).reshape(n, nb, 2, 4, 32) ^ 1
    levels = two + 8 - (cleared << 2)
    return _grid(4, 16, levels, d[..., None] * sc)


def _k_scales(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The eight 6-bit scales and mins of a Q4_K/Q5_K block, from its 12 bytes."""
    a, b, c = packed[..., 0:4], packed[..., 4:8], packed[..., 8:12]
    sc = np.concatenate([a & 0x3F, (c & 0x0F) | ((a >> 2) & 0x30)], axis=-1)
    m = np.concatenate([b & 0x3F, (c >> 4) | ((b >> 2) & 0x30)], axis=-1)
    return sc.astype(np.float32), m.astype(np.float32)


def _q4_k(b: np.ndarray) -> BlockGrid:
    n, nb, _ = b.shape
    d, dmin = _fp16(b[..., 0:2]), _fp16(b[..., 2:4])
    sc, m = _k_scales(b[..., 4:16])
    levels = _nibbles(b[..., 16:144].reshape(n, nb, 4, 32))  # 64 weights from 32 bytes, 4 times
    return _grid(4, 32, levels, d[..., None] * sc, -(dmin[..., None] * m))


def _q5_k(b: np.ndarray) -> BlockGrid:
    n, nb, _ = b.shape
    d, dmin = _fp16(b[..., 0:2]), _fp16(b[..., 2:4])
    sc, m = _k_scales(b[..., 4:16])
    low = _nibbles(b[..., 48:176].reshape(n, nb, 4, 32)).reshape(n, nb, 8, 32)
    high = _bits_of(b[..., 16:48], 8)  # sub-block i's fifth bits are bit i of the 32 bytes
    return _grid(8, 32, low | (high << 4), d[..., None] * sc, -(dmin[..., None] * m))


def _q6_k(b: np.ndarray) -> BlockGrid:
    n, nb, _ = b.shape
    ql, qh, sc, d = b[..., 0:128], b[..., 128:192], b[..., 192:208], _fp16(b[..., 208:210])
    # Each half of 128 weights: 64 low-nibble bytes give weights 0..63 (low) and 64..127 (high);
    # its 32 qh bytes give two bits to each of the four runs of 32.
    low = _nibbles(ql.reshape(n, nb, 2, 64)).reshape(n, nb, 2, 4, 32)
    shifts = np.array([0, 2, 4, 6], dtype=np.uint8).reshape(4, 1)
    high = (qh.reshape(n, nb, 2, 1, 32) >> shifts) & 3
    levels = (low | (high << 4)) + np.uint8(128 - 32)  # d·sc·(q − 32) at zero point 128
    scale = d[..., None] * np.ascontiguousarray(sc).view(np.int8).astype(np.float32)
    return _grid(8, 16, levels, scale)


def _iq4_levels(indices: np.ndarray) -> np.ndarray:
    """The int8 values of 4-bit indices, as 8-bit levels at zero point 128."""
    levels: np.ndarray = (_IQ4_VALUES[indices] + 128).astype(np.uint8)
    return levels


def _iq4_nl(b: np.ndarray) -> BlockGrid:
    # Q4_0's layout (d, then 16 bytes: weights 0..15 low nibbles, 16..31 high), d·value[q].
    return _grid(8, 32, _iq4_levels(_nibbles(b[..., 2:18])), _fp16(b[..., 0:2]))


def _iq4_xs(b: np.ndarray) -> BlockGrid:
    n, nb, _ = b.shape
    d = _fp16(b[..., 0:2])
    # Eight 6-bit scales a superblock: low nibbles in scales_l (two a byte, low first), the
    # high two bits in the little-endian uint16 scales_h (two a scale); each is scale − 32.
    high_bits = np.ascontiguousarray(b[..., 2:4]).view(np.uint16)[..., 0]
    low = np.stack([b[..., 4:8] & 0x0F, b[..., 4:8] >> 4], axis=-1).reshape(n, nb, 8).astype(np.int32)
    high = (high_bits[..., None].astype(np.int32) >> (2 * np.arange(8))) & 3
    scale = d[..., None] * ((low | (high << 4)) - 32).astype(np.float32)
    indices = _nibbles(b[..., 8:136].reshape(n, nb, 8, 16))  # each 32 as in IQ4_NL
    return _grid(8, 32, _iq4_levels(indices), scale)


_DECODERS: dict[GGMLQuantizationType, Callable[[np.ndarray], BlockGrid]] = {
    Q.Q4_0: _q4_0,
    Q.Q4_1: _q4_1,
    Q.Q5_0: _q5_0,
    Q.Q5_1: _q5_1,
    Q.Q8_0: _q8_0,
    Q.Q2_K: _q2_k,
    Q.Q3_K: _q3_k,
    Q.Q4_K: _q4_k,
    Q.Q5_K: _q5_k,
    Q.Q6_K: _q6_k,
    Q.IQ4_NL: _iq4_nl,
    Q.IQ4_XS: _iq4_xs,
}
