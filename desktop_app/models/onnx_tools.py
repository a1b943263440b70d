"""Graph surgery and quantization for exported decoder models (needs the `export` extra)."""

from __future__ import annotations

import logging
from typing import Any

from desktop_app.models.gguf_exact import keep_gguf_grids
from desktop_app.models.graph import initializers, producers, remove_unused

log = logging.getLogger(__name__)

QUANTIZATIONS = ("q4", "q8", "fp16", "fp32")
# Block size 32 matches llama.cpp's Q4 blocks; accuracy level 4 lets MatMulNBits compute
# with int8 activations on the CPU, its fastest path (ONNX Runtime MatMulNBits docs).
BLOCK_SIZE = 32
ACCURACY_LEVEL = 4
LAST_POSITION_NODE = "/inkwell/LastPosition"


def untie_output_projection(model: Any) -> int:
    """Give each MatMul that reads a transposed initializer its own transposed copy.

    optimum ties the output projection to the embeddings through a Transpose node; the
    weight-only quantizer skips a MatMul whose weight is not an initializer, which would
    leave the largest matrix of a small model in fp32. Returns how many were untied.
    """
    import numpy as np
    from onnx import numpy_helper

    graph = model.graph
    weights, writers = initializers(graph), producers(graph)
    untied = 0
    for node in graph.node:
        if node.op_type != "MatMul" or node.input[1] not in writers:
            continue
        source = writers[node.input[1]]
        if source.op_type != "Transpose" or source.input[0] not in weights:
            continue
        perm = next((list(a.ints) for a in source.attribute if a.name == "perm"), [1, 0])
        weight = np.ascontiguousarray(numpy_helper.to_array(weights[source.input[0]]).transpose(perm))
        name = f"{source.input[0]}.untied_for_{node.name.strip('/').replace('/', '_')}"
        graph.initializer.append(numpy_helper.from_array(weight, name))
        node.input[1] = name
        untied += 1
    remove_unused(model)
    return untied


def last_position_logits(model: Any) -> bool:
    """Compute logits for the last position only; returns False if the graph has another shape.

    The engine reads only the last position's logits, but the export projects every prompt
    position onto the vocabulary: for a 1,000-token prompt and a 49,152-token vocabulary
    that is 200 MB of logits and most of the prefill's arithmetic, thrown away.
    """
    import numpy as np
    from onnx import helper, numpy_helper

    graph = model.graph
    logits = graph.output[0].name
    producer = next((n for n in graph.node if logits in n.output), None)
    if producer is None or producer.op_type != "MatMul":
        return False
    hidden = producer.input[0]
    last = f"{hidden}.last_position"
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array([-1], dtype=np.int64), "inkwell_last_start"),
            numpy_helper.from_array(np.array([np.iinfo(np.int64).max], dtype=np.int64), "inkwell_last_end"),
            numpy_helper.from_array(np.array([1], dtype=np.int64), "inkwell_sequence_axis"),
        ]
    )
    slice_node = helper.make_node(
        "Slice",
        [hidden, "inkwell_last_start", "inkwell_last_end", "inkwell_sequence_axis"],
        [last],
        name=LAST_POSITION_NODE,
    )
    position = list(graph.node).index(producer)
    graph.node.insert(position, slice_node)
    producer.input[0] = last
    dims = graph.output[0].type.tensor_type.shape.dim
    if len(dims) == 3:
        dims[1].ClearField("dim_param")
        dims[1].dim_value = 1
    return True


def quantize(model: Any, quantization: str) -> Any:
    """Return a new ModelProto in the requested precision (the input is not modified)."""
    import copy

    model = copy.deepcopy(model)
    if quantization == "fp32":
        return model
    if quantization == "fp16":
        from onnxruntime.transformers.float16 import convert_float_to_float16

        return convert_float_to_float16(model, keep_io_types=False, disable_shape_infer=True)
    if quantization in ("q4", "q8"):
        from onnxruntime.quantization import matmul_nbits_quantizer as nbits

        if quantization == "q4":  # weights from a Q4_1 GGUF stay exact; the rest is rounded
            keep_gguf_grids(model, ACCURACY_LEVEL)

        config = nbits.DefaultWeightOnlyQuantConfig(
            block_size=BLOCK_SIZE,
            is_symmetric=True,
            accuracy_level=ACCURACY_LEVEL,
            bits=4 if quantization == "q4" else 8,
            op_types_to_quantize=("MatMul", "Gather"),
            quant_axes=(("MatMul", 0), ("Gather", 1)),
        )
        quantizer = nbits.MatMulNBitsQuantizer(model, algo_config=config)
        quantizer.process()
        result = quantizer.model.model
        remove_unused(result)
        return result
    raise ValueError(f"unknown quantization {quantization!r}")
