"""Small helpers for editing an ONNX graph in place, shared by every rewrite in models/.

The lowest layer of models/: it knows ONNX's protobuf shapes and nothing of GGUF grids,
attention or quantization. onnx itself is imported inside the functions that need it, so
that importing this module loads only numpy.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# The domain of ONNX Runtime's contrib ops (MatMulNBits, GroupQueryAttention, ...).
MS_DOMAIN = "com.microsoft"


def initializers(graph: Any) -> dict[str, Any]:
    """The graph's initializers (TensorProto) by name."""
    return {i.name: i for i in graph.initializer}


def producers(graph: Any) -> dict[str, Any]:
    """The node that writes each value, by the value's name."""
    return {out: node for node in graph.node for out in node.output}


def consumers(graph: Any) -> dict[str, list[Any]]:
    """The nodes that read each value, in graph order, by the value's name."""
    readers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            readers.setdefault(name, []).append(node)
    return readers


def constants(graph: Any) -> dict[str, np.ndarray]:
    """The values known without running the graph: initializers and Constant nodes' tensors."""
    from onnx import numpy_helper

    values = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for node in graph.node:
        if node.op_type == "Constant" and node.attribute and node.attribute[0].name == "value":
            values[node.output[0]] = numpy_helper.to_array(node.attribute[0].t)
    return values


def rename_value(graph: Any, producer: Any, old: str, new: str) -> None:
    """Give a value a new name at its producer and every reader (graph outputs excepted)."""
    for index, name in enumerate(producer.output):
        if name == old:
            producer.output[index] = new
    for node in graph.node:
        for index, name in enumerate(node.input):
            if name == old:
                node.input[index] = new


def replace_nodes(model: Any, nodes: list[Any]) -> None:
    """Give the graph these nodes, declare the contrib-op domain, drop what is now unused."""
    from onnx import helper

    del model.graph.node[:]
    model.graph.node.extend(nodes)
    if not any(op.domain == MS_DOMAIN for op in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    remove_unused(model)


def remove_unused(model: Any) -> None:
    """Drop nodes whose outputs nobody reads, then initializers nobody uses."""
    graph = model.graph
    needed = {o.name for o in graph.output}
    kept = []
    for node in reversed(list(graph.node)):
        if any(out in needed for out in node.output):
            kept.append(node)
            needed.update(_inputs_including_subgraphs(node))
    if len(kept) != len(graph.node):
        del graph.node[:]
        graph.node.extend(reversed(kept))
    used = needed | {i for n in graph.node for i in _inputs_including_subgraphs(n)}
    unused = [i for i in graph.initializer if i.name not in used]
    for initializer in unused:
        graph.initializer.remove(initializer)


def _inputs_including_subgraphs(node: Any) -> set[str]:
    """A node's inputs, plus the outer names read by nodes of its subgraphs (If, Loop)."""
    names = {i for i in node.input if i}
    for attribute in node.attribute:
        graphs = list(attribute.graphs) + ([attribute.g] if attribute.HasField("g") else [])
        for subgraph in graphs:
            for inner in subgraph.node:
                names |= _inputs_including_subgraphs(inner)
    return names
