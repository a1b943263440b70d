"""GgmlAttention (engine/native/ggml_attention.cpp): GroupQueryAttention's computation with
each query row computed alone, against a numpy reference, and the same bits for a row
whatever rows come with it (what makes greedy speculation exact, issue 23)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper

from desktop_app.engine import ggml_ops

HEADS, KV_HEADS = 4, 2


def attention_session(dim: int, window: int, interleaved: int, scale: float, softcap: float) -> ort.InferenceSession:
    names = ["qkv", "past_key", "past_value", "seqlens_k", "cos", "sin"]
    node = helper.make_node(
        "GgmlAttention", names, ["out", "present_key", "present_value"], domain=ggml_ops.DOMAIN,
        num_heads=HEADS, kv_num_heads=KV_HEADS, window=window, interleaved=interleaved, scale=scale, softcap=softcap,
    )  # fmt: skip
    types = [TensorProto.FLOAT] * 3 + [TensorProto.INT32] + [TensorProto.FLOAT] * 2
    inputs = [helper.make_tensor_value_info(n, t, None) for n, t in zip(names, types, strict=True)]
    outputs = [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in node.output]
    graph = helper.make_graph([node], "attention", inputs, outputs)
    model = helper.make_model(graph, ir_version=10, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(ggml_ops.DOMAIN, 1)])  # fmt: skip
    options = ort.SessionOptions()
    options.intra_op_num_threads = 2
    assert ggml_ops.register(options)
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def rotated(x: np.ndarray, cos: np.ndarray, sin: np.ndarray, interleaved: int) -> np.ndarray:
    x = x.astype(np.float64).copy()
    half = cos.shape[0]
    a = np.arange(half) * 2 if interleaved else np.arange(half)
    b = a + 1 if interleaved else a + half
    x0, x1 = x[a].copy(), x[b].copy()
    x[a], x[b] = x0 * cos - x1 * sin, x0 * sin + x1 * cos
    return x


def reference(qkv, past_k, past_v, seqlens, cos, sin, window, interleaved, scale, softcap):  # type: ignore[no-untyped-def]
    batch, rows, _ = qkv.shape
    dim = past_k.shape[-1]
    keys, values = past_k.astype(np.float64).copy(), past_v.astype(np.float64).copy()
    split = qkv.reshape(batch, rows, HEADS + 2 * KV_HEADS, dim)
    out = np.zeros((batch, rows, HEADS, dim))
    for b in range(batch):
        for i in range(rows):
            pos = seqlens[b] + 1 - rows + i
            for h in range(KV_HEADS):
                keys[b, h, pos] = rotated(split[b, i, HEADS + h], cos[pos], sin[pos], interleaved)
                values[b, h, pos] = split[b, i, HEADS + KV_HEADS + h]
        for i in range(rows):
            pos = seqlens[b] + 1 - rows + i
            first = max(0, pos - window + 1) if window else 0
            for h in range(HEADS):
                q = rotated(split[b, i, h], cos[pos], sin[pos], interleaved)
                kv = h // (HEADS // KV_HEADS)
                scores = keys[b, kv, first : pos + 1] @ q * scale
                if softcap:
                    scores = softcap * np.tanh(scores / softcap)
                weights = np.exp(scores - scores.max())
                out[b, i, h] = weights @ values[b, kv, first : pos + 1] / weights.sum()
    return out.reshape(batch, rows, HEADS * dim), keys, values


# head sizes with and without a tail of fewer than 8; partial rotary; windows; soft-capping
CASES = [(16, 4, 0, 0, 0.0), (16, 8, 5, 1, 0.0), (12, 6, 3, 0, 30.0), (64, 32, 0, 1, 50.0)]


@pytest.mark.parametrize(("dim", "rotary", "window", "interleaved", "softcap"), CASES)
def test_attention_arithmetic_is_group_query_attentions(dim: int, rotary: int, window: int, interleaved: int, softcap: float) -> None:  # fmt: skip
    rng = np.random.default_rng(dim + window)
    batch, rows, capacity, positions = 2, 3, 24, 32
    seqlens = np.array([9, 5], np.int32)  # 10 and 6 positions after the call: pasts of 7 and 3
    qkv = rng.standard_normal((batch, rows, (HEADS + 2 * KV_HEADS) * dim)).astype(np.float32)
    past_k = rng.standard_normal((batch, KV_HEADS, capacity, dim)).astype(np.float32)
    past_v = rng.standard_normal((batch, KV_HEADS, capacity, dim)).astype(np.float32)
    angles = np.outer(np.arange(positions), 1e-2 ** (np.arange(rotary // 2) / (rotary // 2)))
    cos, sin = np.cos(angles).astype(np.float32), np.sin(angles).astype(np.float32)
    scale = dim**-0.5
    session = attention_session(dim, window, interleaved, scale, softcap)
    feed = {"qkv": qkv, "past_key": past_k, "past_value": past_v, "seqlens_k": seqlens, "cos": cos, "sin": sin}
    out, keys, values = session.run(None, feed)
    want, want_keys, want_values = reference(
        qkv, past_k, past_v, seqlens, cos, sin, window, interleaved, scale, softcap
    )
    assert keys.shape == (batch, KV_HEADS, capacity, dim)
    np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-5)
    for b, length in enumerate(seqlens + 1):  # the new positions written; the past kept
        np.testing.assert_allclose(keys[b, :, :length], want_keys[b, :, :length], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(values[b, :, :length], want_values[b, :, :length], rtol=1e-5, atol=1e-5)

    # Each row alone, after the rows before it: the same bits as in the pass of three.
    for i in range(rows):
        single = dict(feed, qkv=qkv[:, i : i + 1], seqlens_k=seqlens - (rows - 1 - i), past_key=keys, past_value=values)
        alone = session.run(None, single)[0]
        np.testing.assert_array_equal(alone[:, 0], out[:, i])


def test_a_cache_shorter_than_the_length_grows_to_it() -> None:
    """Not bound in place (a past of exactly the past's length): the present holds it all."""
    rng = np.random.default_rng(1)
    dim, past = 16, 4
    session = attention_session(dim, 0, 0, 0.25, 0.0)
    feed = {
        "qkv": rng.standard_normal((1, 2, (HEADS + 2 * KV_HEADS) * dim)).astype(np.float32),
        "past_key": rng.standard_normal((1, KV_HEADS, past, dim)).astype(np.float32),
        "past_value": rng.standard_normal((1, KV_HEADS, past, dim)).astype(np.float32),
        "seqlens_k": np.array([past + 1], np.int32),
        "cos": np.ones((16, 4), np.float32),
        "sin": np.zeros((16, 4), np.float32),
    }
    _, keys, values = session.run(None, feed)
    assert keys.shape == values.shape == (1, KV_HEADS, past + 2, dim)
    np.testing.assert_array_equal(keys[:, :, :past], feed["past_key"])


@pytest.mark.skipif(bool(os.environ.get("INKWELL_GGML_PORTABLE")), reason="this is the portable run")
def test_the_portable_path_attends_alike() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", __file__, "-k", "arithmetic or grows"],
        env=dict(os.environ, INKWELL_GGML_PORTABLE="1"), capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert " passed" in run.stdout
