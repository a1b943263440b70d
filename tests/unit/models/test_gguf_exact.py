"""Q4_1 and Q8_0 weights (as a GGUF stores them) survive the q4 variant exactly."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from desktop_app.models import gguf_exact
from desktop_app.models.gguf_exact import keep_gguf_grids, recover_q4_1, recover_q8_0

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


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


def graph_with(weights: dict[str, np.ndarray]) -> onnx.ModelProto:
    """x -> a (Q4_1) and b (Q4_1, same input); a -> c (Q4_1, K=96); x -> e (Q8_0); x -> f (plain)."""
    nodes = [
        helper.make_node("MatMul", ["x", "a.w"], ["a"], name="a"),
        helper.make_node("MatMul", ["x", "b.w"], ["b"], name="b"),
        helper.make_node("MatMul", ["a", "c.w"], ["c"], name="c"),
        helper.make_node("MatMul", ["x", "e.w"], ["e"], name="e"),
        helper.make_node("MatMul", ["x", "f.w"], ["f"], name="f"),
    ]
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in "bcef"]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "s", 64])],
        outputs,
        [numpy_helper.from_array(w, f"{name}.w") for name, w in weights.items()],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def run(model: onnx.ModelProto, x: np.ndarray) -> list[np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(["b", "c", "e", "f"], {"x": x})  # type: ignore[return-value]


@pytest.mark.parametrize("accuracy_level", [1, 4])
def test_the_rewritten_products_equal_the_gguf_weights(accuracy_level: int) -> None:
    rng = np.random.default_rng(1)
    weights = {
        "a": q4_1_matrix(rng, 64, 96),
        "b": q4_1_matrix(rng, 64, 40),
        "c": q4_1_matrix(rng, 96, 24),
        "e": q8_0_matrix(rng, 64, 16),
        "f": rng.standard_normal((64, 8)).astype(np.float32),
    }
    reference_model = graph_with(weights)
    model = copy.deepcopy(reference_model)
    assert keep_gguf_grids(model, accuracy_level) == (3, 1)
    ops = [(n.op_type, {a.name: a.i for a in n.attribute}) for n in model.graph.node if "block_sums" not in n.name]
    # a and b share one block sum and one augmented input; c has its own.
    assert [op for op, _ in ops].count("Concat") == 2
    assert [op for op, _ in ops].count("MatMul") == 1  # f is not on a grid: left for the quantizer
    products = sorted(attrs["K"] for op, attrs in ops if op == "MatMulNBits" and attrs["bits"] == 4)
    assert products == [64 + 32, 64 + 32, 96 + 32]  # each input plus its block sums, padded to 32
    assert any(op == "MatMulNBits" and attrs["bits"] == 8 for op, attrs in ops)

    x = rng.standard_normal((1, 5, 64)).astype(np.float32)
    expected, got = run(reference_model, x), run(model, x)
    # Level 1 computes in fp32: only the leftover offsets' rounding (1/14 of at most d/2)
    # remains. Level 4 also rounds the inputs to 8 bits, as llama.cpp does.
    tolerance = 1e-2 if accuracy_level == 1 else 3e-2
    for want, have in zip(expected, got, strict=True):
        assert np.abs(have - want).max() <= tolerance * np.abs(want).max()

    # Without the folded offsets (integer zero points only) the error is far larger: the
    # test would catch rows that do nothing.
    plain = copy.deepcopy(reference_model)
    original = gguf_exact.leftover_rows
    try:
        gguf_exact.leftover_rows = lambda r, width: (  # type: ignore[assignment]
            np.full((r.shape[0], width // 32, 32), 8, np.uint8),
            np.zeros((r.shape[0], width // 32), np.float32),
        )
        keep_gguf_grids(plain, accuracy_level)
    finally:
        gguf_exact.leftover_rows = original  # type: ignore[assignment]
    without = run(plain, x)
    assert np.abs(without[0] - expected[0]).max() > 5 * np.abs(got[0] - expected[0]).max()


def snap_to_q4_1(weight: np.ndarray) -> np.ndarray:
    """A torch Linear weight [out, in] moved onto Q4_1 grids along `in` (blocks of 32)."""
    out, inp = weight.shape
    blocks = weight.reshape(out, inp // 32, 32).astype(np.float64)
    low, high = blocks.min(axis=2, keepdims=True), blocks.max(axis=2, keepdims=True)
    d = (high - low) / 15
    snapped = np.rint((blocks - low) / d) * d + low
    return snapped.reshape(out, inp).astype(np.float32)


def snap_to_q8_0(weight: np.ndarray) -> np.ndarray:
    rows, cols = weight.shape
    blocks = weight.reshape(rows, cols // 32, 32).astype(np.float64)
    d = np.abs(blocks).max(axis=2, keepdims=True) / 127
    return (np.rint(blocks / d) * d).reshape(rows, cols).astype(np.float32)


@pytest.fixture(scope="module")
def gguf_like_model(tiny_hf_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny model with every weight on the grids a Q4_1 GGUF uses, prepared as fp32 and q4."""
    import torch
    from transformers import AutoModelForCausalLM

    from desktop_app.models.prepare import prepare_model

    model = AutoModelForCausalLM.from_pretrained(str(tiny_hf_model))
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if parameter.ndim != 2:
                continue
            # Smaller weights than the fixture's, so that the two layers do not amplify every
            # rounding into noise and the comparison below can be tight.
            array = parameter.detach().numpy() * (1.0 if "embed_tokens" in name else 0.15)
            snapped = snap_to_q8_0(array) if "embed_tokens" in name else snap_to_q4_1(array)
            parameter.copy_(torch.from_numpy(snapped))
    folder = tmp_path_factory.mktemp("gguf-like") / "hf"
    model.save_pretrained(folder)
    for extra in ("tokenizer.json", "tokenizer_config.json"):
        (folder / extra).write_bytes((tiny_hf_model / extra).read_bytes())
    return prepare_model(folder, tmp_path_factory.mktemp("gguf-like-onnx"), model_id="g", quantizations=("fp32", "q4"))


def logits_along(directory: Path, quantization: str, tokens: list[int]) -> np.ndarray:
    from desktop_app.engine.onnx_model import KVCache, OnnxCausalLM

    model = OnnxCausalLM(directory / f"model.{quantization}.onnx", "cpu", threads=1)
    cache = KVCache.empty(model.kv)
    rows = []
    for token in tokens:
        logits, cache = model.forward([token], cache)
        rows.append(logits)
    return np.array(rows)


def test_a_gguf_like_model_keeps_its_weights_in_the_q4_variant(gguf_like_model: Path) -> None:
    graph = onnx.load(str(gguf_like_model / "model.q4.onnx")).graph
    nbits = [n for n in graph.node if n.op_type == "MatMulNBits"]
    eight = [n for n in nbits if next(a.i for a in n.attribute if a.name == "bits") == 8]
    assert len(eight) == 1  # the output projection, tied to the Q8_0 embedding table
    assert sum(n.op_type == "Concat" for n in graph.node) == 2 * 4  # 2 layers x (qkv, o, gate/up, down)

    # The whole prepared graph with its GGUF grids kept and computed in fp32 gives the fp32
    # variant's logits: packing, norm fusion and the folded offsets lose nothing.
    fp32 = onnx.load(str(gguf_like_model / "model.fp32.onnx"))
    assert keep_gguf_grids(fp32, accuracy_level=1) == (10, 1)  # 2 x (qkv, o, gate, up, down) + the output
    check = gguf_like_model.parent / "check"
    check.mkdir()
    for extra in gguf_like_model.iterdir():
        if not extra.name.startswith("model."):
            (check / extra.name).write_bytes(extra.read_bytes())
    onnx.save(fp32, str(check / "model.fp32.onnx"))
    tokens = [5, 17, 99, 3, 250, 41, 7, 300]
    reference = logits_along(gguf_like_model, "fp32", tokens)
    kept = logits_along(check, "fp32", tokens)
    assert np.abs(kept - reference).max() < 0.01 * np.abs(reference).max()
