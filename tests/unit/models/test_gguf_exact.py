"""Q4_1 and Q8_0 weights (as a GGUF stores them) survive the q4 variant exactly."""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from desktop_app.models import gguf_exact
from desktop_app.models.gguf_exact import keep_gguf_grids
from tests.unit.models.helpers import q4_1_matrix, q8_0_matrix

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def graph_with(weights: dict[str, np.ndarray]) -> onnx.ModelProto:
    """x -> a (Q4_1) and b (Q4_1, same input); a -> c (Q4_1, K=96); x -> e (Q8_0, read by a
    Relu); x -> f (plain); x -> v (Q8_0, a graph output: the output projection); token -> t
    (a Gather from v's table, as a tied embedding)."""
    nodes = [
        helper.make_node("MatMul", ["x", "a.w"], ["a"], name="a"),
        helper.make_node("MatMul", ["x", "b.w"], ["b"], name="b"),
        helper.make_node("MatMul", ["a", "c.w"], ["c"], name="c"),
        helper.make_node("MatMul", ["x", "e.w"], ["e.product"], name="e"),
        helper.make_node("Relu", ["e.product"], ["e"], name="e.relu"),
        helper.make_node("MatMul", ["x", "f.w"], ["f"], name="f"),
        helper.make_node("MatMul", ["x", "v.w"], ["v"], name="v"),
        helper.make_node("Gather", ["t.table", "token"], ["t"], name="t"),
    ]
    outputs = [helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in "bcefvt"]
    initializers = [numpy_helper.from_array(w, f"{name}.w") for name, w in weights.items()]
    initializers.append(numpy_helper.from_array(np.ascontiguousarray(weights["v"].T), "t.table"))
    graph = helper.make_graph(
        nodes,
        "g",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "s", 64]),
            helper.make_tensor_value_info("token", TensorProto.INT64, [1, "s"]),
        ],
        outputs,
        initializers,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)


def run(model: onnx.ModelProto, x: np.ndarray, token: np.ndarray) -> list[np.ndarray]:
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(["b", "c", "e", "f", "v", "t"], {"x": x, "token": token})  # type: ignore[return-value]


@pytest.mark.parametrize("accuracy_level", [1, 4])
def test_the_rewritten_products_equal_the_gguf_weights(accuracy_level: int) -> None:
    rng = np.random.default_rng(1)
    weights = {
        "a": q4_1_matrix(rng, 64, 96),
        "b": q4_1_matrix(rng, 64, 40),
        "c": q4_1_matrix(rng, 96, 24),
        "e": q8_0_matrix(rng, 64, 16),
        "f": rng.standard_normal((64, 8)).astype(np.float32),
        "v": q8_0_matrix(rng, 64, 200),
    }
    reference_model = graph_with(weights)
    model = copy.deepcopy(reference_model)
    assert keep_gguf_grids(model, accuracy_level) == (3, 2)
    ops = [(n.op_type, {a.name: a.i for a in n.attribute}) for n in model.graph.node if "block_sums" not in n.name]
    kinds = [op for op, _ in ops]
    # a and b share one block sum and one augmented input; c has its own.
    assert kinds.count("Concat") == 2
    sums = [n for n in model.graph.node if "block_sums" in n.name]
    assert len(sums) == 2 and all(next(a.i for a in n.attribute if a.name == "accuracy_level") == 1 for n in sums)
    assert kinds.count("MatMul") == 1  # f is not on a grid: left for the quantizer
    assert "Gather" not in kinds  # the embedding reads the output projection's 8-bit table
    products = sorted(attrs["K"] for op, attrs in ops if op == "MatMulNBits" and attrs["bits"] == 4)
    assert products == [64, 64 + 32, 64 + 32, 96 + 32]  # v's 4-bit pass; each input plus its block sums
    assert [attrs["N"] for op, attrs in ops if op == "MatMulNBits" and attrs["bits"] == 8] == [16]  # e
    tables = {n.input[0] for n in model.graph.node if n.op_type == "GatherBlockQuantized"}
    assert len(tables) == 1 and kinds.count("GatherBlockQuantized") == 2

    x = rng.standard_normal((1, 5, 64)).astype(np.float32)
    token = np.array([[0, 3, 199, 42, 7]], dtype=np.int64)
    expected, got = run(reference_model, x, token), run(model, x, token)
    # Level 1 computes in fp32: only the leftover offsets' rounding (1/14 of at most d/2)
    # remains. Level 4 also rounds the inputs to 8 bits, as llama.cpp does.
    tolerance = 1e-2 if accuracy_level == 1 else 3e-2
    for want, have in zip(expected[:4], got[:4], strict=True):
        assert np.abs(have - want).max() <= tolerance * np.abs(want).max()
    # The output projection: its largest REFINED_LOGITS are exact (fp32 rows from the Q8_0
    # table), the rest 4-bit; the embedding rows are the table's values exactly.
    want_v, have_v = expected[4], got[4]
    exact = np.abs(have_v - want_v) <= 1e-5 * np.abs(want_v).max()
    assert (exact.sum(axis=-1) >= gguf_exact.REFINED_LOGITS).all()
    assert (np.argmax(have_v, axis=-1) == np.argmax(want_v, axis=-1)).all()
    tail = np.abs(have_v - want_v).max()
    assert 1e-4 * np.abs(want_v).max() < tail <= 0.1 * np.abs(want_v).max()  # the 4-bit pass: close, not exact
    assert np.array_equal(got[5], expected[5])

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
    without = run(plain, x, token)
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
    return prepare_model(
        folder, tmp_path_factory.mktemp("gguf-like-onnx"), model_id="g", quantizations=("fp32", "q4"), route="export"
    )


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
    assert all(next(a.i for a in n.attribute if a.name == "bits") == 4 for n in nbits)
    # The output projection: a 4-bit pass, then the top logits again from the 8-bit table
    # that the embedding reads too.
    gathers = [n for n in graph.node if n.op_type == "GatherBlockQuantized"]
    assert len(gathers) == 2 and len({n.input[0] for n in gathers}) == 1
    assert [n.op_type for n in graph.node].count("TopK") == 1
    assert sum(n.op_type == "Concat" for n in graph.node) == 2 * 4  # 2 layers x (qkv, o, gate/up, down)

    # The whole prepared graph with its GGUF grids kept and computed in fp32 gives the fp32
    # variant's logits: packing, norm fusion and the folded offsets lose nothing.
    fp32 = onnx.load(str(gguf_like_model / "model.fp32.onnx"))
    assert keep_gguf_grids(fp32, accuracy_level=1) == (8, 1)  # 2 x (qkv, o, gate+up, down) + the output
    check = gguf_like_model.parent / "check"
    check.mkdir()
    for extra in gguf_like_model.iterdir():
        if not extra.name.startswith("model."):
            (check / extra.name).write_bytes(extra.read_bytes())
    onnx.save(fp32, str(check / "model.fp32.onnx"))
    tokens = [5, 17, 99, 3, 250, 41, 7, 300]
    reference = logits_along(gguf_like_model, "fp32", tokens)
    kept = logits_along(check, "fp32", tokens)
    # The top logits are recomputed from the exact output rows; the tail keeps the 4-bit pass.
    scale = np.abs(reference).max()
    close = np.abs(kept - reference) < 0.01 * scale
    assert (close.sum(axis=1) >= gguf_exact.REFINED_LOGITS).all()
    assert (np.argmax(kept, axis=1) == np.argmax(reference, axis=1)).all()
    assert np.abs(kept - reference).max() < 0.1 * scale


def test_the_q4_variant_of_a_gguf_like_model_gives_its_fp32_logits(gguf_like_model: Path) -> None:
    """The variant as the app runs it (accuracy level 4: inputs rounded to 8 bits) is close."""
    tokens = np.random.default_rng(0).integers(3, 300, 48).tolist()
    reference, q4 = (logits_along(gguf_like_model, quantization, tokens) for quantization in ("fp32", "q4"))
    correlation = [np.corrcoef(a, b)[0, 1] for a, b in zip(reference, q4, strict=True)]
    worst = (np.abs(q4 - reference).max(axis=1) / np.abs(reference).max(axis=1)).max()
    # Measured: every top token the same, correlation >= 0.997, worst difference 6% of the
    # largest logit. Broken variants kept every top token here but not the rest: one Q4_1
    # matrix's nibbles swapped, correlation down to 0.66 and 51%; every Q4_1 zero point set
    # to 8, 0.81 and 41%; the output table's scales shuffled, 0.82 and 124%.
    assert (q4.argmax(axis=1) == reference.argmax(axis=1)).all()
    assert min(correlation) >= 0.99 and worst <= 0.2, (min(correlation), worst)
