"""Inkwell's operators on GGUF blocks (engine/ggml_ops.py, native/): each one-node graph
against numpy, on random blocks of every type they hold.

GgmlMatMul rounds its input as llama.cpp does (8 bits, with a float scale per 256 values
for the K types, an fp16 scale per 32 for the others); the reference below does the same
rounding in numpy and the dot products in float64, so the two agree to float rounding,
and a wrong bit layout, scale or rounding rule shows as a large error. Against the float
product the difference is the rounding of the input alone."""

from __future__ import annotations

import ctypes
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from gguf import GGMLQuantizationType
from gguf.quants import dequantize
from onnx import TensorProto, helper, numpy_helper

from desktop_app.engine import ggml_ops

# bytes of a block; where its fp16 scale d, and its offset (dmin, m), lie
BLOCK_BYTES = {"Q4_0": 18, "Q4_1": 20, "Q5_0": 22, "Q5_1": 24, "Q8_0": 34, "Q4_K": 144, "Q5_K": 176, "Q6_K": 210}
BLOCK_BYTES |= {"F16": 64, "BF16": 64}  # 32 two-byte floats
FLOATS = ("F16", "BF16")
SCALE_AT = {"Q6_K": 208}
OFFSET_AT = {"Q4_1": 2, "Q5_1": 2, "Q4_K": 2, "Q5_K": 2}


def as_bf16(values: np.ndarray) -> np.ndarray:
    """float32 values rounded to bf16 (to the nearest, ties to even), still as float32."""
    bits = values.astype(np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) & 0xFFFF0000
    return bits.astype(np.uint32).view(np.float32)


def random_blocks(type_name: str, rows: int, k: int, rng: np.random.Generator) -> np.ndarray:
    """Random bytes in each block, with sane fp16 scales where the layout keeps them."""
    if type_name in FLOATS:  # a trained matrix's range, with a few larger values
        values = (rng.standard_normal((rows, k)) * 0.05).astype(np.float32)
        values[:, ::97] *= 40
        if type_name == "F16":
            return values.astype(np.float16).view(np.uint8)
        return (as_bf16(values).view(np.uint32) >> 16).astype(np.uint16).view(np.uint8)
    size, blocks = BLOCK_BYTES[type_name], k // ggml_ops.BLOCK_WEIGHTS[type_name]
    raw = rng.integers(0, 256, (rows, blocks, size), dtype=np.uint8)

    def halves(scale: float) -> np.ndarray:
        values = (rng.random((rows, blocks)) * scale + scale / 10).astype(np.float16)
        return values.view(np.uint8).reshape(rows, blocks, 2)

    at = SCALE_AT.get(type_name, 0)
    raw[:, :, at : at + 2] = halves(0.01)
    if type_name in OFFSET_AT:
        raw[:, :, OFFSET_AT[type_name] : OFFSET_AT[type_name] + 2] = halves(0.02)
    return raw.reshape(rows, -1)


def weights(type_name: str, raw: np.ndarray, k: int) -> np.ndarray:
    if type_name == "F16":
        return raw.copy().view(np.float16).reshape(raw.shape[0], k).astype(np.float64)
    if type_name == "BF16":
        bits = raw.copy().view(np.uint16).astype(np.uint32) << 16
        return bits.view(np.float32).reshape(raw.shape[0], k).astype(np.float64)
    values: np.ndarray = dequantize(raw, GGMLQuantizationType[type_name]).reshape(raw.shape[0], k)
    return values.astype(np.float64)


def rounded_floats(type_name: str, x: np.ndarray) -> np.ndarray:
    """x as llama.cpp rounds the input of an F16 (fp16) or BF16 (bf16) product."""
    rounded = x.astype(np.float16) if type_name == "F16" else as_bf16(x)
    return rounded.astype(np.float64)


def rounded_32(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x [m, k] as llama.cpp's quantize_row_q8_0/q8_1 rounds it: levels [m, k/32, 32], the
    fp16 scale and the fp16 scale-times-sum of each block [m, k/32]."""
    blocks = x.reshape(x.shape[0], -1, 32).astype(np.float32)
    amax = np.abs(blocks).max(axis=2)
    inverse = np.where(amax == 0, 0, np.float32(127) / np.where(amax == 0, 1, amax)).astype(np.float32)
    levels = np.rint((blocks * inverse[..., None]).astype(np.float32))
    d = (amax / np.float32(127)).astype(np.float32)
    total = (d * levels.sum(axis=2)).astype(np.float32)
    return levels, d.astype(np.float16).astype(np.float64), total.astype(np.float16).astype(np.float64)


def expected_32(type_name: str, raw: np.ndarray, x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """What the arithmetic gives on the rounded input (and a magnitude for the tolerance)."""
    levels, d, total = rounded_32(x)
    w = weights(type_name, raw, k).reshape(raw.shape[0], -1, 32)  # [n, blocks, 32]
    value = np.einsum("mbj,nbj,mb->mn", levels, w, d)
    magnitude = np.einsum("mbj,nbj,mb->mn", np.abs(levels), np.abs(w), d)
    if type_name in OFFSET_AT:  # the offset m meets the block's sum as llama.cpp keeps it (s)
        at = OFFSET_AT[type_name]
        m = raw.reshape(raw.shape[0], -1, BLOCK_BYTES[type_name])[:, :, at : at + 2].copy().view(np.float16)[..., 0]
        m = m.astype(np.float64)
        value += np.einsum("nb,mb->mn", m, total) - np.einsum("nb,mb,mbj->mn", m, d, levels)
    return value, magnitude


def rounded_input(x: np.ndarray) -> np.ndarray:
    """x [m, k] as llama.cpp's quantize_row_q8_K gives it back: levels times the block's scale."""
    blocks = x.reshape(x.shape[0], -1, 256).astype(np.float32)
    index = np.abs(blocks).argmax(axis=2)
    largest = np.take_along_axis(blocks, index[..., None], axis=2)
    iscale = np.where(largest == 0, np.float32(0), np.float32(-127.0) / np.where(largest == 0, 1, largest))
    levels = np.minimum(np.rint((iscale * blocks).astype(np.float32)), 127)
    scale = np.where(iscale == 0, 0, np.float32(1) / np.where(iscale == 0, 1, iscale)).astype(np.float32)
    return (levels.astype(np.float64) * scale.astype(np.float64)).reshape(x.shape)


def session(node: object, inputs: list[object], initializers: list[object]) -> ort.InferenceSession:
    graph = helper.make_graph(
        [node], "ggml", inputs, [helper.make_tensor_value_info("Y", TensorProto.FLOAT, None)], initializers
    )
    model = helper.make_model(
        graph, ir_version=10, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(ggml_ops.DOMAIN, 1)]
    )
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    assert ggml_ops.register(options)
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def matmul(type_name: str, raw: np.ndarray, k: int, **attributes: int) -> ort.InferenceSession:
    """A one-node product of `raw` (the file's rows: interleaved here when `interleave` is asked)."""
    if attributes.get("interleave"):
        raw = ggml_ops.interleave(type_name, raw)
    node = helper.make_node(
        "GgmlMatMul", ["A", "B"], ["Y"], domain=ggml_ops.DOMAIN, ggml_type=ggml_ops.HELD_TYPES[type_name], **attributes
    )
    a = helper.make_tensor_value_info("A", TensorProto.FLOAT, [1, None, None if attributes.get("swiglu") else k])
    return session(node, [a], [numpy_helper.from_array(raw, "B")])


# every type in its file's rows, and the 32-weight types with their rows interleaved by eights
LAYOUTS = [(name, 0) for name in sorted(BLOCK_BYTES)] + [(name, 8) for name in sorted(ggml_ops.INTERLEAVED_TYPES)]


def test_the_operators_are_built_by_the_install() -> None:
    # setup.py builds them with pip install; without them GGUF imports fall back silently
    # to ONNX Runtime's product, so the suite insists they are there.
    assert ggml_ops.available(), "desktop_app/engine/_ggml_ops*.so is missing: pip install -e . builds it"


def uses_avx2() -> bool:
    return bool(ctypes.CDLL(str(ggml_ops.library_path())).inkwell_ggml_uses_avx2())


@pytest.mark.skipif(bool(os.environ.get("INKWELL_GGML_PORTABLE")), reason="this is the portable run")
def test_the_portable_path_gives_the_same_products() -> None:
    """CPUs without AVX2 (and other architectures) take the plain C++ path: the same tests
    again, in a process that asks for it."""
    environment = dict(os.environ, INKWELL_GGML_PORTABLE="1")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            __file__,
            "-k",
            "arithmetic or gather or asked",
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " passed" in run.stdout


def repacked_from() -> int:
    library = ctypes.CDLL(str(ggml_ops.library_path()))
    library.inkwell_ggml_repacked_from.restype = ctypes.c_int64
    return int(library.inkwell_ggml_repacked_from())


@pytest.mark.skipif(not Path("/proc/cpuinfo").is_file(), reason="reads the CPU's flags from Linux's /proc/cpuinfo")
def test_the_path_in_use_is_the_one_asked_for() -> None:
    plain_asked = bool(os.environ.get("INKWELL_GGML_PORTABLE"))
    cpu = Path("/proc/cpuinfo").read_text(encoding="utf-8")
    assert uses_avx2() is (not plain_asked and "avx2" in cpu.split())
    # the AVX2 kernels repack long inputs' K-quant rows, from a size the tests below cover
    assert 3 < repacked_from() <= 23 if uses_avx2() else repacked_from() == 0


def round_input(type_name: str, x: np.ndarray) -> bytes:
    """The bytes of x's rounded blocks as the library makes them for a product of this type."""
    library = ctypes.CDLL(str(ggml_ops.library_path()))
    library.inkwell_ggml_round_input.restype = ctypes.c_int64
    library.inkwell_ggml_round_input.argtypes = [ctypes.c_int64, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int64]
    x = np.ascontiguousarray(x, dtype=np.float32)
    out = np.zeros(len(x) * 4, dtype=np.uint8)  # more than any rounded block needs
    size = library.inkwell_ggml_round_input(ggml_ops.HELD_TYPES[type_name], x.ctypes.data, out.ctypes.data, len(x))
    return out[:size].tobytes()


def input_with_ties(k: int, rng: np.random.Generator) -> np.ndarray:
    """Values of a trained model's range, and blocks whose rounding meets exact halves: a
    block whose largest magnitude is 127 scales by one, so 2.5 rounds to 2 and -3.5 to -4
    (ties to even); a 256-value block whose largest is -127 (the K types' sign) likewise."""
    x = (rng.standard_normal(k) * 0.7).astype(np.float32)
    x[::37] *= 30
    tied = np.resize(np.array([127, 2.5, -3.5, 0.5, -0.5, 1.5, 126.5, -126.5], dtype=np.float32), 256)
    tied[0] = -127
    x[256:512] = tied
    x[600:632] = 0  # an empty block
    return x


@pytest.mark.parametrize("type_name", ["Q4_0", "Q4_1", "Q5_0", "Q8_0", "Q4_K"])
def test_rounded_inputs_are_llama_cpps_arithmetic_to_the_bit(type_name: str) -> None:
    """The rounding of a product's input (vectorised on AVX2) gives llama.cpp's bytes:
    levels, fp16 scales, sums."""
    k = 1024
    x = input_with_ties(k, np.random.default_rng(11))
    got = round_input(type_name, x)
    if type_name == "Q4_K":
        block = np.dtype([("d", "<f4"), ("qs", "i1", 256), ("bsums", "<i2", 16)])
        rows = np.frombuffer(got, dtype=block)
        blocks = x.reshape(-1, 256)
        index = np.abs(blocks).argmax(axis=1)
        largest = blocks[np.arange(len(blocks)), index]
        iscale = np.where(largest == 0, np.float32(0), np.float32(-127.0) / np.where(largest == 0, 1, largest))
        iscale = iscale.astype(np.float32)
        levels = np.minimum(np.rint((iscale[:, None] * blocks).astype(np.float32)), 127).astype(np.int8)
        np.testing.assert_array_equal(rows["qs"], levels)
        np.testing.assert_array_equal(rows["bsums"], levels.reshape(-1, 16, 16).sum(axis=2, dtype=np.int32))
        scale = np.where(iscale == 0, 0, np.float32(1) / np.where(iscale == 0, 1, iscale)).astype(np.float32)
        np.testing.assert_array_equal(rows["d"], scale)
        assert list(levels[1, :8]) == [-127, 2, -4, 0, 0, 2, 126, -126]  # ties to even
        return
    block = np.dtype([("d", "<f4"), ("s", "<f4"), ("qs", "i1", 32), ("centred", "<i4", 8), ("total", "<i4")])
    rows = np.frombuffer(got, dtype=block)
    levels, d, s = rounded_32(x[None, :])
    levels = levels[0].astype(np.int8)
    np.testing.assert_array_equal(rows["qs"], levels)
    np.testing.assert_array_equal(rows["d"], d[0].astype(np.float32))
    np.testing.assert_array_equal(rows["s"], s[0].astype(np.float32))
    np.testing.assert_array_equal(rows["total"], levels.sum(axis=1, dtype=np.int32))
    centre = {"Q4_0": 8, "Q5_0": 16}.get(type_name, 0)
    np.testing.assert_array_equal(rows["centred"], centre * levels.reshape(-1, 8, 4).sum(axis=2, dtype=np.int32))
    assert list(levels[8, :8]) == [-127, 2, -4, 0, 0, 2, 126, -126]  # ties to even


@pytest.mark.parametrize("type_name", ["Q4_0", "Q8_0", "Q4_K"])
def test_rounding_arithmetic_passes_over_values_that_are_not_numbers(type_name: str) -> None:
    """A NaN in an input block is passed over by its scale and rounds to 0, and an infinity
    makes the scale infinite and every level 0, on both paths alike (an overflowing model's
    CPU variant stays finite on this: tests/models' float16 overflow test)."""
    per = 256 if type_name == "Q4_K" else 32
    rng = np.random.default_rng(5)
    x = rng.standard_normal(4 * per).astype(np.float32)
    clean = x.copy()
    x[3] = np.nan  # block 0
    x[per + 5] = np.inf  # block 1
    x[2 * per + 7] = -np.inf  # block 2; block 3 stays finite
    clean[3] = 0
    got, want = round_input(type_name, x), round_input(type_name, clean)
    if type_name == "Q4_K":
        block = np.dtype([("d", "<f4"), ("qs", "i1", 256), ("bsums", "<i2", 16)])
    else:
        block = np.dtype([("d", "<f4"), ("s", "<f4"), ("qs", "i1", 32), ("centred", "<i4", 8), ("total", "<i4")])
    rows, clean_rows = np.frombuffer(got, dtype=block), np.frombuffer(want, dtype=block)
    assert rows[0].tobytes() == clean_rows[0].tobytes()  # the NaN as if it were 0
    assert rows[3].tobytes() == clean_rows[3].tobytes()
    for infinite in rows[1:3]:
        assert not infinite["qs"].any()
        assert np.isinf(infinite["d"])
        if type_name == "Q4_K":
            assert not infinite["bsums"].any()
        else:
            assert infinite["total"] == 0 and not infinite["centred"].any()


@pytest.mark.parametrize(("type_name", "interleave"), LAYOUTS)
# one token; a few; a short and a long prompt's chunk, whose K-quant products are repacked
# (23 and 150 leave every size of remainder the two repacked kernels' row groups have)
@pytest.mark.parametrize("m", [1, 3, 23, 150])
def test_matmul_is_llama_cpps_arithmetic(type_name: str, interleave: int, m: int) -> None:
    rng = np.random.default_rng(m)
    n, k = 72 if interleave else 70, 1024  # n not a multiple of the rows a task takes
    raw = random_blocks(type_name, n, k, rng)
    x = rng.standard_normal((1, m, k)).astype(np.float32)
    x[0, 0, :256] = 0  # an all-zero block rounds to zero, not to NaN
    y = matmul(type_name, raw, k, interleave=interleave).run(None, {"A": x})[0]
    assert y.shape == (1, m, n)
    w = weights(type_name, raw, k)
    tolerance = 2e-6
    if type_name in FLOATS:  # the input rounded to the type; sums of float32 products
        exact_on_rounded = rounded_floats(type_name, x[0]) @ w.T
        magnitude = np.abs(rounded_floats(type_name, x[0])) @ np.abs(w).T
        tolerance = 1e-5
    elif type_name.endswith("_K"):
        exact_on_rounded = rounded_input(x[0]) @ w.T
        magnitude = np.abs(rounded_input(x[0])) @ np.abs(w).T
    else:
        exact_on_rounded, magnitude = expected_32(type_name, raw, x[0], k)
    assert np.all(np.abs(y[0] - exact_on_rounded) <= tolerance * magnitude + 1e-6)
    # and against the float product, only the input's 8-bit rounding
    float_product = x[0].astype(np.float64) @ w.T
    assert np.abs(y[0] - float_product).max() < 0.02 * np.abs(float_product).max()


@pytest.mark.parametrize(("type_name", "interleave"), LAYOUTS)
def test_a_row_gives_the_same_bits_whatever_rows_come_with_it(type_name: str, interleave: int) -> None:
    """Speculation checks a few guessed tokens in one pass: its products must give each row
    exactly what decoding that token alone gives, or greedy text drifts from plain decoding
    (up to 15 rows: from 16 on, a prompt's products in the file's rows take other kernels;
    the float types and interleaved rows keep the row's bits at any number of rows)."""
    rng = np.random.default_rng(5)
    n, k = 72 if interleave else 70, 1024
    session = matmul(type_name, random_blocks(type_name, n, k, rng), k, interleave=interleave)
    rows = 70 if type_name in FLOATS or interleave else 15
    x = rng.standard_normal((1, rows, k)).astype(np.float32)
    alone = np.concatenate([session.run(None, {"A": x[:, i : i + 1]})[0] for i in range(rows)], axis=1)
    for m in (2, 3, 4, 5, 6, 7, 8, 9, 15, rows):  # the interleaved kernels take up to 8 rows a pass
        together = session.run(None, {"A": x[:, :m]})[0]
        assert np.array_equal(together, alone[:, :m]), f"{m} rows at once differ from one at a time"


@pytest.mark.parametrize("type_name", ["Q4_K", "Q6_K", "Q5_0", "Q8_0", "F16"])
@pytest.mark.parametrize("m", [1, 23])
def test_swiglu_multiplies_the_activated_gate_by_up_first(type_name: str, m: int) -> None:
    """[gate | up] in, (silu(gate) · up) · Wᵀ out: the feed-forward's down projection with its
    activation taken in, as the same product of the activated input."""
    rng = np.random.default_rng(m)
    n, k = 40, 512
    raw = random_blocks(type_name, n, k, rng)
    joined = rng.standard_normal((1, m, 2 * k)).astype(np.float32) * 3
    joined[0, 0, :8] = [-1000, -90, -20, 0, 20, 90, 1000, -0.5]  # where e^-gate over- or underflows
    gate, up = joined[..., :k], joined[..., k:]
    with np.errstate(over="ignore"):
        activated = (gate / (1 + np.exp(-gate.astype(np.float64))) * up).astype(np.float32)
    fused = matmul(type_name, raw, k, swiglu=1).run(None, {"A": joined})[0]
    plain = matmul(type_name, raw, k).run(None, {"A": activated})[0]
    assert fused.shape == (1, m, n)
    np.testing.assert_allclose(fused, plain, rtol=1e-4, atol=1e-4 * np.abs(plain).max())
    with pytest.raises(Exception, match="even length"):
        matmul(type_name, raw, k, swiglu=1).run(None, {"A": joined[..., 1:]})


@pytest.mark.parametrize(("type_name", "interleave"), LAYOUTS)
def test_gather_gives_the_rows_as_llama_cpp_dequantizes_them(type_name: str, interleave: int) -> None:
    """A tied output projection's table is interleaved for the product; looking its rows up
    reads them through the same layout."""
    rng = np.random.default_rng(7)
    rows, k = 40, 512
    raw = random_blocks(type_name, rows, k, rng)
    node = helper.make_node(
        "GgmlGather",
        ["T", "I"],
        ["Y"],
        domain=ggml_ops.DOMAIN,
        ggml_type=ggml_ops.HELD_TYPES[type_name],
        K=k,
        **({"interleave": interleave} if interleave else {}),
    )
    indices = helper.make_tensor_value_info("I", TensorProto.INT64, [1, None])
    table = ggml_ops.interleave(type_name, raw) if interleave else raw
    run = session(node, [indices], [numpy_helper.from_array(table, "T")])
    wanted = np.array([[3, 39, 0, 3, 9, 14]], np.int64)  # rows at every place in their group of eight
    y = run.run(None, {"I": wanted})[0]
    assert y.shape == (1, 6, k)
    np.testing.assert_array_equal(y, weights(type_name, raw, k)[wanted].astype(np.float32))
    with pytest.raises(Exception, match="out of range"):
        run.run(None, {"I": np.array([[40]], np.int64)})


def test_interleaving_moves_each_byte_once() -> None:
    """The same bytes in another order (a permutation): nothing lost, nothing doubled."""
    for type_name in sorted(ggml_ops.INTERLEAVED_TYPES):
        size = BLOCK_BYTES[type_name]
        labels = np.arange(16 * 3 * size, dtype=np.int64)  # every byte of 16 rows of 3 blocks, named
        order = ggml_ops.interleave(type_name, labels.reshape(16, 3 * size))
        assert sorted(order.reshape(-1).tolist()) == labels.tolist()
        # a group's bytes stay within its eight rows
        assert set(order[:8].reshape(-1).tolist()) == set(labels[: 8 * 3 * size].tolist())


def test_interleaved_rows_are_refused_where_they_cannot_be() -> None:
    rng = np.random.default_rng(4)
    with pytest.raises(ValueError, match="groups of eight"):
        ggml_ops.interleave("Q4_0", random_blocks("Q4_0", 12, 64, rng))

    def interleaved(type_id: int, raw: np.ndarray, k: int) -> ort.InferenceSession:
        node = helper.make_node(
            "GgmlMatMul", ["A", "B"], ["Y"], domain=ggml_ops.DOMAIN, ggml_type=type_id, interleave=8
        )
        a = helper.make_tensor_value_info("A", TensorProto.FLOAT, [1, None, k])
        return session(node, [a], [numpy_helper.from_array(raw, "B")])

    twelve_rows = interleaved(ggml_ops.HELD_TYPES["Q4_0"], random_blocks("Q4_0", 12, 64, rng), 64)
    with pytest.raises(Exception, match="come in eights, and B has 12"):
        twelve_rows.run(None, {"A": np.ones((1, 1, 64), np.float32)})
    with pytest.raises(Exception, match="only for Q4_0"):
        interleaved(ggml_ops.HELD_TYPES["Q4_K"], random_blocks("Q4_K", 8, 256, rng), 256)


def test_a_matrix_whose_rows_do_not_fit_k_is_refused_with_the_reason() -> None:
    rng = np.random.default_rng(3)
    run = matmul("Q4_K", random_blocks("Q4_K", 8, 512, rng), 768)
    with pytest.raises(Exception, match="do not hold K = 768"):
        run.run(None, {"A": np.ones((1, 1, 768), np.float32)})


def test_a_library_that_cannot_be_loaded_leaves_other_models_working(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    damaged = tmp_path / "_ggml_ops.so"
    damaged.write_bytes(b"not a library")
    monkeypatch.setattr(ggml_ops, "library_path", lambda: damaged)
    monkeypatch.setattr(ggml_ops, "_unloadable", [])
    options = ort.SessionOptions()
    assert ggml_ops.register(options) is False
    assert not ggml_ops.available()  # imports then write ONNX Runtime's own products
