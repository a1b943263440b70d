"""Experiment: other ways to choose the q4 variant's 4-bit weights (bench/gptq_q4.py runs it).

GPTQ: 4-bit weights that minimise the error of each layer's output, not of its weights.

Rounding every weight to its nearest 4-bit level (what ONNX Runtime's quantizer does)
treats all inputs alike. GPTQ (Frantar et al., 2022, "GPTQ: Accurate Post-Training
Quantization for Generative Pre-trained Transformers", arXiv:2210.17323) quantizes one
input row of a weight matrix at a time and moves each row's rounding error onto the
rows not yet quantized, weighted by how the layer's inputs correlate (the Hessian
H = XᵀX of the layer's inputs over some calibration text). Here it writes blocks of 32
with an integer zero point per block, the layout ONNX Runtime's MatMulNBits reads at its
fast int8-activation path.

Also searched rounding: the nearest level, with each block's scale searched. Needs only
numpy and ONNX Runtime: calibration runs the fp32 graph itself.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

BLOCK = 32
LEVELS = 15  # 4 bits: q in 0..15


@dataclasses.dataclass
class Quantized:
    """A [K, N] matrix as MatMulNBits holds it: value = scale · (q − zero_point) per block."""

    q: np.ndarray  # [N, K/32, 32] uint8, 0..15
    scales: np.ndarray  # [N, K/32] float32
    zero_points: np.ndarray  # [N, K/32] uint8, 0..15

    def dequantized(self) -> np.ndarray:
        """The [K, N] float32 matrix these codes stand for."""
        values = (self.q.astype(np.float32) - self.zero_points[..., None]) * self.scales[..., None]
        n = values.shape[0]
        return values.reshape(n, -1).T.copy()


def _group_grid(group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(scale [N], zero point [N]) of a symmetric 4-bit grid for each row of [N, 32].

    The zero point is 8 and the value of largest magnitude sits exactly on level 0
    (scale = value / −8, so the scale may be negative), the layout ONNX Runtime's own
    symmetric quantizer writes. An asymmetric grid (step (max − min)/15) was measured and
    is much worse on weights that were Q4_1 before: its step equals Q4_1's, so every weight
    of a block is off by the same amount and the errors add up instead of cancelling
    (bench/RESULTS.md).
    """
    rows = np.arange(group.shape[0])
    extreme = group[rows, np.abs(group).argmax(axis=1)]
    scale = extreme / -8.0
    scale = np.where(scale == 0, 1.0, scale)
    return scale, np.full(group.shape[0], 8.0)


def gptq(weight: np.ndarray, hessian: np.ndarray | None, damping: float = 0.01, batch: int = 128) -> Quantized:
    """Quantize W[K, N] (y = x·W) to 4 bits in blocks of 32 along K.

    `hessian` is Σ xᵀx over calibration inputs ([K, K]); None gives plain rounding to the
    nearest level (the same grid, no error feedback), for comparison.
    """
    k, n = weight.shape
    if k % BLOCK:
        raise ValueError(f"K={k} is not a multiple of {BLOCK}")
    w = weight.T.astype(np.float64, copy=True)  # [N, K]: one column per input
    if hessian is None:
        upper = np.eye(k)
    else:
        h = hessian.astype(np.float64, copy=True)
        dead = np.diag(h) == 0
        h[dead, dead] = 1.0
        w[:, dead] = 0.0
        h[np.diag_indices(k)] += damping * float(np.mean(np.diag(h)))
        # The upper Cholesky factor of H⁻¹ gives, row by row, how the remaining inputs
        # should move to absorb one input's rounding error (GPTQ, section 3, step 3).
        inverse = np.linalg.inv(h)
        upper = np.linalg.cholesky((inverse + inverse.T) / 2).T
    q = np.zeros((n, k), dtype=np.uint8)
    scales = np.zeros((n, k // BLOCK), dtype=np.float64)
    zeros = np.zeros((n, k // BLOCK), dtype=np.float64)
    batch = max(BLOCK, batch - batch % BLOCK)
    for start in range(0, k, batch):
        end = min(start + batch, k)
        part = w[:, start:end].copy()
        errors = np.zeros_like(part)
        block = upper[start:end, start:end]
        for i in range(end - start):
            column = start + i
            if column % BLOCK == 0:
                scale, zero = _group_grid(part[:, i : i + BLOCK])
                scales[:, column // BLOCK], zeros[:, column // BLOCK] = scale, zero
            codes = np.clip(np.rint(part[:, i] / scale + zero), 0, LEVELS)
            q[:, column] = codes
            error = (part[:, i] - (codes - zero) * scale) / block[i, i]
            part[:, i:] -= np.outer(error, block[i, i:])
            errors[:, i] = error
        w[:, end:] -= errors @ upper[start:end, end:]
    return Quantized(
        q.reshape(n, k // BLOCK, BLOCK),
        scales.astype(np.float32),
        zeros.astype(np.uint8),
    )


def matmul_inputs(model: Any) -> dict[str, list[Any]]:
    """MatMul nodes with a constant [K, N] weight, grouped by the activation they read."""
    initializers = {i.name for i in model.graph.initializer}
    groups: dict[str, list[Any]] = {}
    for node in model.graph.node:
        if node.op_type == "MatMul" and node.input[1] in initializers:
            groups.setdefault(node.input[0], []).append(node)
    return groups


def collect_hessians(model: Any, sequences: Iterable[Sequence[int]], threads: int = 2) -> dict[str, np.ndarray]:
    """Σ xᵀx for every MatMul input of an fp32 decoder graph, over `sequences` of token ids.

    Each sequence is run as one prompt with an empty KV cache. The graph is the fused
    fp32 graph prepare builds (input_ids, attention_mask, position_ids, past key values).
    """
    import copy
    import tempfile
    from pathlib import Path

    import onnx
    import onnxruntime as ort

    from desktop_app.models.onnx_tools import LAST_POSITION_NODE

    # The output projection reads only the last position (onnx_tools.last_position_logits);
    # its statistics come from every position instead, or one token per sequence would be
    # all GPTQ sees of it.
    producers = {out: node for node in model.graph.node for out in node.output}
    watched = {}
    for name in matmul_inputs(model):
        producer = producers.get(name)
        last = producer is not None and producer.name == LAST_POSITION_NODE
        watched[name] = producer.input[0] if last else name
    names = list(watched)
    probe = copy.deepcopy(model)
    known = {o.name for o in probe.graph.output}
    for tensor in dict.fromkeys(watched.values()):
        if tensor not in known:
            probe.graph.output.append(onnx.helper.make_tensor_value_info(tensor, onnx.TensorProto.FLOAT, None))
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.log_severity_level = 3
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "probe.onnx"
        onnx.save(probe, str(path), save_as_external_data=True, location="probe.onnx.data")
        session = ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
    inputs = {i.name: i for i in session.get_inputs()}
    tensors = list(dict.fromkeys(watched.values()))
    sums: dict[str, np.ndarray] = {}
    for ids in sequences:
        n = len(ids)
        feed: dict[str, np.ndarray] = {"input_ids": np.asarray([ids], dtype=np.int64)}
        if "attention_mask" in inputs:
            feed["attention_mask"] = np.ones((1, n), dtype=np.int64)
        if "position_ids" in inputs:
            feed["position_ids"] = np.arange(n, dtype=np.int64)[None, :]
        for name, spec in inputs.items():
            if name.startswith("past_key_values"):
                feed[name] = np.zeros((1, spec.shape[1], 0, spec.shape[3]), dtype=np.float32)
        values = dict(zip(tensors, session.run(tensors, feed), strict=True))
        for name in names:
            value = values[watched[name]]
            x = value.reshape(-1, value.shape[-1]).astype(np.float64)
            sums[name] = sums.get(name, 0.0) + x.T @ x
    return sums


Chooser = Callable[[np.ndarray, "np.ndarray | None"], Quantized]  # (W [K, N], Hessian or None)


def requantized_model(model: Any, hessians: dict[str, np.ndarray], choose: Chooser, accuracy_level: int = 4) -> Any:
    """A copy of `model` whose constant-weight MatMuls are 4-bit MatMulNBits picked by `choose`."""
    import copy

    from onnx import helper, numpy_helper

    from desktop_app.models.onnx_tools import remove_unused

    model = copy.deepcopy(model)
    graph = model.graph
    weights = {i.name: i for i in graph.initializer}
    replaced: dict[str, Any] = {}
    new_initializers = []
    for source, nodes in matmul_inputs(model).items():
        hessian = hessians.get(source)
        for node in nodes:
            w = numpy_helper.to_array(weights[node.input[1]])
            k, n = w.shape
            if k % BLOCK:
                continue
            result = choose(w, hessian)
            packed = result.q[..., 0::2] | (result.q[..., 1::2] << 4)
            zeros = result.zero_points
            if zeros.shape[1] % 2:
                zeros = np.concatenate([zeros, np.zeros((n, 1), dtype=np.uint8)], axis=1)
            packed_zeros = zeros[:, 0::2] | (zeros[:, 1::2] << 4)
            prefix = node.input[1]
            new_initializers += [
                numpy_helper.from_array(packed.astype(np.uint8), f"{prefix}_Q4"),
                numpy_helper.from_array(result.scales.reshape(-1), f"{prefix}_scales"),
                numpy_helper.from_array(packed_zeros.reshape(-1).astype(np.uint8), f"{prefix}_zp"),
            ]
            replaced[node.name or node.output[0]] = helper.make_node(
                "MatMulNBits",
                [node.input[0], f"{prefix}_Q4", f"{prefix}_scales", f"{prefix}_zp"],
                list(node.output),
                name=f"{node.name}_Q4",
                domain="com.microsoft",
                K=k,
                N=n,
                bits=4,
                block_size=BLOCK,
                accuracy_level=accuracy_level,
            )
    nodes = [replaced.get(node.name or node.output[0], node) for node in graph.node]
    del graph.node[:]
    graph.node.extend(nodes)
    graph.initializer.extend(new_initializers)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    remove_unused(model)
    return model


def searched_rounding(weight: np.ndarray, importance: np.ndarray | None = None, steps: int = 48) -> Quantized:
    """Nearest-level rounding with each block's scale searched, not taken from its largest value.

    For every block of 32, scales absmax/(8 + t) for t in [-0.5, 4) are tried with the
    symmetric layout (zero point 8) and the one with the least squared error, weighted by
    `importance` per input (e.g. the mean squared activation) when given, is kept.
    """
    k, n = weight.shape
    blocks = weight.T.reshape(n, k // BLOCK, BLOCK).astype(np.float64)
    weights = np.ones(k) if importance is None else np.asarray(importance, dtype=np.float64)
    weights = weights.reshape(k // BLOCK, BLOCK)[None]
    idx = np.abs(blocks).argmax(axis=2)
    extreme = np.take_along_axis(blocks, idx[..., None], axis=2)[..., 0]
    best_error = np.full(extreme.shape, np.inf)
    best_scale = extreme / -8.0
    for t in np.linspace(-0.5, 4.0, steps, endpoint=False):
        scale = extreme / -(8.0 + t)
        safe = np.where(scale == 0, 1.0, scale)
        codes = np.clip(np.rint(blocks / safe[..., None]) + 8, 0, LEVELS)
        error = (((codes - 8) * safe[..., None] - blocks) ** 2 * weights).sum(axis=2)
        better = error < best_error
        best_error = np.where(better, error, best_error)
        best_scale = np.where(better, safe, best_scale)
    codes = np.clip(np.rint(blocks / best_scale[..., None]) + 8, 0, LEVELS).astype(np.uint8)
    return Quantized(codes, best_scale.astype(np.float32), np.full(extreme.shape, 8, dtype=np.uint8))
