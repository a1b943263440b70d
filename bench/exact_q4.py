"""Experiment: keep the GGUF's own Q4_1 weights exactly in a fast 4-bit graph.

Q4_1 stores each block of 32 weights as w = d·q + m (q in 0..15). MatMulNBits computes
scale·(q − zero_point) with integer zero points, so with zero points of 0 it holds d·q
exactly, and the offsets come back as a small fp32 correction:

    x · W = MatMulNBits(x; q, d, zp=0) + BlockSums(x) · M,   M[b, n] = m of block b, column n

where BlockSums(x) sums x over each block of 32 inputs. The fp32 graph's weights are the
GGUF dequantized, so d, m and q are recovered from each block (its min is q=0, its max q=15)
and checked; the Q8_0 output projection is recovered the same way as exact 8-bit.

    python bench/exact_q4.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_engine import bench_models_dir  # noqa: E402
from quant_mix import Reference, measure_variant  # noqa: E402

from desktop_app.models.gguf_exact import recover_q4_1, recover_q8_0  # noqa: E402
from desktop_app.models.onnx_tools import ACCURACY_LEVEL, remove_unused  # noqa: E402

BLOCK = 32


def exact_graph(model: Any) -> tuple[Any, int, int]:
    """Rewrite MatMuls whose weights sit on the Q4_1/Q8_0 grids; (model, q4 count, q8 count)."""
    import onnx
    from onnx import helper, numpy_helper

    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    new_nodes = []
    block_sums: dict[str, str] = {}
    counts = [0, 0]
    extra_inits = []
    for node in graph.node:
        if node.op_type != "MatMul" or node.input[1] not in inits:
            new_nodes.append(node)
            continue
        w = numpy_helper.to_array(inits[node.input[1]])
        k, n = w.shape
        name = node.name or node.output[0]
        q4 = recover_q4_1(w)
        q8 = None if q4 is not None else recover_q8_0(w)
        if q4 is None and q8 is None:
            new_nodes.append(node)
            continue
        blocks = k // BLOCK
        if q4 is not None:
            q, d, m = q4
            packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)  # [N, blocks, 16]
            zero_points = np.zeros((n, (blocks + 1) // 2), dtype=np.uint8)
            bits = 4
            counts[0] += 1
        else:
            packed, d = q8  # type: ignore[misc]
            zero_points = np.full((n, blocks), 128, dtype=np.uint8)
            bits = 8
            counts[1] += 1
        tensors = {
            f"{name}.q": packed,
            f"{name}.scales": d.reshape(-1),
            f"{name}.zp": zero_points.reshape(-1),
        }
        extra_inits += [numpy_helper.from_array(v, k_) for k_, v in tensors.items()]
        product = f"{name}.nbits" if q4 is not None else node.output[0]
        new_nodes.append(
            helper.make_node(
                "MatMulNBits",
                [node.input[0], f"{name}.q", f"{name}.scales", f"{name}.zp"],
                [product],
                name=f"{name}_exact",
                domain="com.microsoft",
                K=k,
                N=n,
                bits=bits,
                block_size=BLOCK,
                accuracy_level=ACCURACY_LEVEL,
            )
        )
        if q4 is None:
            continue
        source = node.input[0]
        if source not in block_sums:  # one block sum per input, shared by q/k/v and gate/up
            shape = f"{source}.block_shape"
            extra_inits.append(numpy_helper.from_array(np.array([0, 0, blocks, BLOCK], dtype=np.int64), shape))
            axes = f"{source}.block_axes"
            extra_inits.append(numpy_helper.from_array(np.array([-1], dtype=np.int64), axes))
            new_nodes.append(helper.make_node("Reshape", [source, shape], [f"{source}.blocks"]))
            new_nodes.append(
                helper.make_node("ReduceSum", [f"{source}.blocks", axes], [f"{source}.block_sums"], keepdims=0)
            )
            block_sums[source] = f"{source}.block_sums"
        extra_inits.append(numpy_helper.from_array(m.T.copy(), f"{name}.offsets"))  # [blocks, N]
        new_nodes.append(helper.make_node("MatMul", [block_sums[source], f"{name}.offsets"], [f"{name}.correction"]))
        new_nodes.append(helper.make_node("Add", [product, f"{name}.correction"], [node.output[0]]))
    del graph.node[:]
    graph.node.extend(new_nodes)
    graph.initializer.extend(extra_inits)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(onnx.helper.make_opsetid("com.microsoft", 1))
    remove_unused(model)
    return model, counts[0], counts[1]


def main() -> int:
    import onnx

    source = bench_models_dir()
    model, q4_count, q8_count = exact_graph(onnx.load(str(source / "model.fp32.onnx")))
    print(f"exact: {q4_count} Q4_1 matrices, {q8_count} Q8_0", flush=True)
    print(measure_variant("exact Q4_1 (zero points 0 + offset correction)", model, Reference.measure(source)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
