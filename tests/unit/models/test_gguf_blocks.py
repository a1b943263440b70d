"""GGUF tensor bytes become MatMulNBits grids that hold exactly gguf's (llama.cpp's) values."""

from __future__ import annotations

from pathlib import Path

import gguf
import numpy as np
import pytest
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

from desktop_app.core.errors import UserError
from desktop_app.models import gguf_blocks
from desktop_app.models.gguf_blocks import BlockGrid, dequantize_grid, floats_of, grid_of, home_of
from desktop_app.models.grids import pack_nibbles, pack_zero_points

Q = GGMLQuantizationType
GRID_TYPES = [Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q8_0, Q.Q2_K, Q.Q3_K, Q.Q4_K, Q.Q5_K, Q.Q6_K, Q.IQ4_NL, Q.IQ4_XS]
QUANTIZABLE = [Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q8_0]  # gguf.quants.quantize has these
# Where each block keeps its fp16 d (and dmin or m), from ggml-common.h's block structs.
FP16_FIELDS = {
    Q.Q4_0: [0],
    Q.Q4_1: [0, 2],
    Q.Q5_0: [0],
    Q.Q5_1: [0, 2],
    Q.Q8_0: [0],
    Q.Q2_K: [80, 82],
    Q.Q3_K: [108],
    Q.Q4_K: [0, 2],
    Q.Q5_K: [0, 2],
    Q.Q6_K: [208],
    Q.IQ4_NL: [0],
    Q.IQ4_XS: [0],
}
K = 512  # two superblocks of 256, sixteen blocks of 32


def random_raw(qtype: GGMLQuantizationType, rows: int, rng: np.random.Generator, *, any_fp16: bool) -> np.ndarray:
    """Valid random rows of a type: random bytes, with finite fp16 fields written explicitly.

    any_fp16: fp16 values from the whole finite range (subnormals, both signs, d and dmin
    far apart) rather than the ~1e-3 of real files.
    """
    block, size = GGML_QUANT_SIZES[qtype]
    blocks = rng.integers(0, 256, (rows, K // block, size), dtype=np.uint8)
    for field in FP16_FIELDS[qtype]:
        if any_fp16:
            bits = rng.integers(0, 1 << 16, blocks.shape[:2], dtype=np.uint16)
            bits = np.where(bits & 0x7C00 == 0x7C00, bits & 0x83FF, bits)  # no inf or NaN
            values = bits.view(np.float16)
        else:
            values = rng.uniform(1e-4, 1e-2, blocks.shape[:2]).astype(np.float16)
        blocks[..., field : field + 2] = values.view(np.uint8).reshape(*blocks.shape[:2], 2)
    return blocks.reshape(rows, -1)


def quantized_raw(qtype: GGMLQuantizationType, rows: int, rng: np.random.Generator) -> np.ndarray:
    """Rows that gguf's own quantizer made from weights like a model's (a few large ones)."""
    weights = rng.standard_normal((rows, K)).astype(np.float32) * 0.02
    weights[rng.random(weights.shape) < 0.01] *= 20
    weights += rng.normal(0, 0.01, (rows, 1)).astype(np.float32)  # rows off centre: offsets matter
    raw: np.ndarray = gguf.quants.quantize(weights, qtype)
    return raw


def check_grid(qtype: GGMLQuantizationType, raw: np.ndarray) -> BlockGrid:
    grid = grid_of(qtype, raw, K)
    bits, block, has_offsets = home_of(qtype)
    rows = raw.shape[0]
    assert (grid.bits, grid.block, grid.offsets is not None) == (bits, block, has_offsets)
    assert grid.levels.shape == (rows, K) and grid.levels.dtype == np.uint8
    assert grid.scales.shape == grid.zero_points.shape == (rows, K // block)
    assert grid.scales.dtype == np.float32 and grid.zero_points.dtype == np.uint8
    assert int(grid.levels.max()) < 1 << bits and int(grid.zero_points.max()) < 1 << bits
    if grid.offsets is not None:
        assert grid.offsets.shape == (rows, K // grid.offset_block) and grid.offsets.dtype == np.float32
    else:
        assert grid.default_zero_points and grid.offset_block == block
    reference = gguf.quants.dequantize(raw, qtype)
    np.testing.assert_array_equal(dequantize_grid(grid), reference)  # bit for bit
    return grid


@pytest.mark.parametrize("qtype", GRID_TYPES, ids=lambda t: t.name)
@pytest.mark.parametrize("any_fp16", [False, True], ids=["real-sized", "any-fp16"])
def test_random_blocks_dequantize_exactly_as_gguf_does(qtype: GGMLQuantizationType, any_fp16: bool) -> None:
    check_grid(qtype, random_raw(qtype, 6, np.random.default_rng(int(qtype)), any_fp16=any_fp16))


@pytest.mark.parametrize("qtype", QUANTIZABLE, ids=lambda t: t.name)
def test_quantized_weights_dequantize_exactly_as_gguf_does(qtype: GGMLQuantizationType) -> None:
    grid = check_grid(qtype, quantized_raw(qtype, 8, np.random.default_rng(int(qtype))))
    if grid.offsets is not None:
        # The zero points take the offsets: what is left is at most half a step.
        assert (np.abs(grid.offsets) <= np.abs(grid.scales) / 2).all()


def fp16_bytes(value: float) -> np.ndarray:
    return np.frombuffer(np.float16(value).tobytes(), np.uint8)


def test_a_zero_point_whose_remainder_fp32_cannot_hold_is_not_taken() -> None:
    """Q4_1 with d = 2**-14 and m = −2048: z = 15 (clipped) leaves −2048 + 15·2**-14, which
    needs 25 bits; the block keeps z = 0 and its whole offset."""
    blocks = np.zeros((1, K // 32, 20), dtype=np.uint8)
    blocks[..., 0:2], blocks[..., 2:4] = fp16_bytes(2**-14), fp16_bytes(-2048)
    blocks[..., 4:] = np.arange(16, dtype=np.uint8) * 17
    raw = blocks.reshape(1, -1)
    grid = check_grid(Q.Q4_1, raw)
    assert (grid.zero_points == 0).all() and grid.offsets is not None and (grid.offsets == -2048).all()


def test_a_zero_point_that_would_make_a_product_inexact_is_bounded() -> None:
    """Q5_K with d·sc of odd significand 2047·63 and dmin·m ≈ 200·d·sc: z = 200 would make
    d·sc·(q − z) need 25 bits, so z stops at 130, the largest that keeps every product exact."""
    d = 2047 * 2.0**-20
    blocks = np.random.default_rng(2).integers(0, 256, (1, K // 256, 176), dtype=np.uint8)
    blocks[..., 0:2], blocks[..., 2:4] = fp16_bytes(d), fp16_bytes(200 * d)
    blocks[..., 4:16] = 0xFF  # every 6-bit scale and min 63
    grid = check_grid(Q.Q5_K, blocks.reshape(1, -1))
    assert (grid.zero_points == (2**24 - 1) // (2047 * 63)).all()


def test_rows_read_through_gguf_reader_decode_the_same(tmp_path: Path) -> None:
    rng = np.random.default_rng(7)
    raws = {
        "blk.0.attn_q.weight": (Q.Q4_K, random_raw(Q.Q4_K, 4, rng, any_fp16=False)),
        "blk.0.ffn_down.weight": (Q.Q6_K, random_raw(Q.Q6_K, 3, rng, any_fp16=False)),
        "output.weight": (Q.Q8_0, quantized_raw(Q.Q8_0, 5, rng)),
    }
    path = tmp_path / "tiny.gguf"
    writer = gguf.GGUFWriter(path, "llama")
    for name, (qtype, raw) in raws.items():
        writer.add_tensor(name, raw, raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    for tensor in gguf.GGUFReader(path).tensors:
        qtype, raw = raws[tensor.name]
        k = int(tensor.shape[0])  # ne0: the row length
        assert tensor.tensor_type == qtype and k == K
        read = grid_of(tensor.tensor_type, tensor.data, k, name=tensor.name)
        np.testing.assert_array_equal(dequantize_grid(read), gguf.quants.dequantize(raw, qtype))


def test_chunks_of_rows_give_the_rows_of_the_whole() -> None:
    raw = random_raw(Q.Q5_K, 10, np.random.default_rng(3), any_fp16=False)
    whole = dequantize_grid(grid_of(Q.Q5_K, raw, K))
    parts = [dequantize_grid(grid_of(Q.Q5_K, raw[start : start + 4], K)) for start in range(0, 10, 4)]
    np.testing.assert_array_equal(np.concatenate(parts), whole)


@pytest.mark.parametrize("qtype", [Q.F32, Q.F16, Q.BF16], ids=lambda t: t.name)
def test_float_rows_are_read_exactly(qtype: GGMLQuantizationType) -> None:
    weights = np.random.default_rng(5).standard_normal((3, 64)).astype(np.float32)
    stored = gguf.quants.quantize(weights, qtype)
    raw = np.ascontiguousarray(stored).view(np.uint8).reshape(3, -1)
    rows = floats_of(qtype, raw, 64)
    assert rows.dtype == np.float32 and rows.shape == (3, 64)
    np.testing.assert_array_equal(rows, gguf.quants.dequantize(stored, qtype).reshape(3, 64))
    with pytest.raises(ValueError, match="floats_of"):
        grid_of(qtype, raw, 64)


@pytest.mark.parametrize(
    ("qtype", "label"),
    [
        (Q.IQ2_XS, "IQ2_XS"),
        (Q.IQ3_S, "IQ3_S"),
        (Q.TQ1_0, "TQ1_0"),
        (Q.Q8_1, "Q8_1"),
        (Q.Q8_K, "Q8_K"),
        (Q.MXFP4, "MXFP4"),
        (Q.F64, "F64"),
        (31, "Q4_0_4_4"),  # repacked for ARM, since retired from ggml's enum
        (99, "type 99"),
    ],
)
def test_unsupported_types_are_refused_by_name(qtype: int, label: str) -> None:
    assert not gguf_blocks.is_supported(qtype)
    raw = np.zeros((1, 64), dtype=np.uint8)
    with pytest.raises(UserError, match=f"cannot import {label} weights yet \\(tensor blk.0.attn_q.weight\\)"):
        grid_of(qtype, raw, 256, name="blk.0.attn_q.weight")
    with pytest.raises(UserError, match=label):
        home_of(qtype)


def test_a_row_of_the_wrong_size_is_a_bug_not_a_user_error() -> None:
    with pytest.raises(ValueError, match="do not hold"):
        grid_of(Q.Q4_K, np.zeros((2, 100), dtype=np.uint8), 256)
    with pytest.raises(ValueError, match="whole blocks"):
        grid_of(Q.Q4_0, np.zeros((2, 18), dtype=np.uint8), 40)


def test_what_a_weight_costs_at_home_against_the_file() -> None:
    costs = {t.name: (gguf_blocks.bits_per_weight(t), gguf_blocks.home_bits_per_weight(t)) for t in GRID_TYPES}
    assert costs == {
        "Q4_0": (4.5, 5.0),  # no zero points: 8 is MatMulNBits's default
        "Q4_1": (5.0, 6.125),
        "Q5_0": (5.5, 9.0),
        "Q5_1": (6.0, 10.25),
        "Q8_0": (8.5, 9.0),
        "Q2_K": (2.625, 8.25),
        "Q3_K": (3.4375, 6.0),
        "Q4_K": (4.5, 6.125),
        "Q5_K": (5.5, 10.25),
        "Q6_K": (6.5625, 10.0),
        "IQ4_NL": (4.5, 9.0),  # non-linear levels: 8 bits where the file has 4
        "IQ4_XS": (4.25, 9.0),
    }
    assert gguf_blocks.home_bits_per_weight(Q.BF16) == 32.0


# --- the grids in a real MatMulNBits --------------------------------------------------------


def matmul_nbits(grid: BlockGrid, x: np.ndarray, accuracy_level: int) -> np.ndarray:
    """x @ W.T by one MatMulNBits holding the grid, plus the offsets through block sums of x
    (in numpy here; the graph builder's job). Default zero points are left out of the node."""
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    n, k = grid.levels.shape
    blocks = grid.levels.reshape(n, k // grid.block, grid.block)
    packed = pack_nibbles(blocks) if grid.bits == 4 else blocks
    tensors = {"B": packed, "scales": grid.scales.reshape(-1)}
    if not grid.default_zero_points:
        zero = pack_zero_points(grid.zero_points) if grid.bits == 4 else grid.zero_points.reshape(-1)
        tensors["zero_points"] = zero
    node = helper.make_node(
        "MatMulNBits",
        ["x", *tensors],
        ["y"],
        domain="com.microsoft",
        K=k,
        N=n,
        bits=grid.bits,
        block_size=grid.block,
        accuracy_level=accuracy_level,
    )
    graph = helper.make_graph(
        [node],
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(x.shape))],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [x.shape[0], n])],
        [numpy_helper.from_array(np.ascontiguousarray(v), name) for name, v in tensors.items()],
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)], ir_version=8
    )
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    y = np.asarray(session.run(["y"], {"x": x})[0], dtype=np.float64)
    if grid.offsets is not None:
        sums = x.reshape(x.shape[0], -1, grid.offset_block).sum(axis=2, dtype=np.float64)
        y += sums @ grid.offsets.T.astype(np.float64)
    return y


@pytest.mark.parametrize("qtype", GRID_TYPES, ids=lambda t: t.name)
def test_matmul_nbits_computes_the_gguf_product(qtype: GGMLQuantizationType) -> None:
    rng = np.random.default_rng(11)
    raw = random_raw(qtype, 24, rng, any_fp16=False)
    grid = grid_of(qtype, raw, K)
    x = rng.standard_normal((3, K)).astype(np.float32)
    expected = x.astype(np.float64) @ gguf.quants.dequantize(raw, qtype).T.astype(np.float64)
    got = matmul_nbits(grid, x, accuracy_level=1)  # fp32 throughout: the layout, not rounding, is tested
    np.testing.assert_allclose(got, expected, rtol=0, atol=2e-5 * np.abs(expected).max())
