"""The graph helpers every rewrite in models/ shares."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from desktop_app.models.graph import (
    MS_DOMAIN,
    constants,
    consumers,
    producers,
    remove_unused,
    rename_value,
    replace_nodes,
)


def small_model() -> onnx.ModelProto:
    """x -> Add(w) -> y (the output); x -> Mul(unused_w) -> dead; an If whose branch reads `outer`."""
    branch = helper.make_graph(
        [helper.make_node("Identity", ["outer"], ["branch_out"])],
        "branch",
        [],
        [helper.make_tensor_value_info("branch_out", TensorProto.FLOAT, None)],
    )
    nodes = [
        helper.make_node("Constant", [], ["c"], value=numpy_helper.from_array(np.array(2.0, np.float32))),
        helper.make_node("Add", ["x", "w"], ["sum"], name="add"),
        helper.make_node("Mul", ["x", "unused_w"], ["dead"], name="mul"),
        helper.make_node("If", ["flag"], ["picked"], name="if", then_branch=branch, else_branch=branch),
        helper.make_node("Add", ["sum", "picked"], ["y"], name="out"),
    ]
    graph = helper.make_graph(
        nodes,
        "g",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [2]),
            helper.make_tensor_value_info("flag", TensorProto.BOOL, []),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])],
        [numpy_helper.from_array(np.ones(2, np.float32), name) for name in ("w", "unused_w", "outer", "never_read")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def test_remove_unused_keeps_what_the_outputs_need_including_subgraph_reads() -> None:
    model = small_model()
    remove_unused(model)
    assert [n.name for n in model.graph.node] == ["add", "if", "out"]
    assert sorted(i.name for i in model.graph.initializer) == ["outer", "w"]


def test_lookups_and_renaming() -> None:
    model = small_model()
    graph = model.graph
    assert producers(graph)["sum"].name == "add"
    assert [n.name for n in consumers(graph)["x"]] == ["add", "mul"]
    known = constants(graph)
    assert float(known["c"]) == 2.0 and set(known) == {"c", "w", "unused_w", "outer", "never_read"}
    rename_value(graph, producers(graph)["sum"], "sum", "total")
    assert producers(graph)["total"].name == "add" and "sum" not in consumers(graph)


def test_replace_nodes_declares_the_contrib_domain_once_and_prunes() -> None:
    model = small_model()
    kept = [n for n in model.graph.node if n.name != "mul"]
    replace_nodes(model, kept)
    replace_nodes(model, list(model.graph.node))
    assert [op.domain for op in model.opset_import].count(MS_DOMAIN) == 1
    assert "unused_w" not in {i.name for i in model.graph.initializer}
    assert "Constant" not in [n.op_type for n in model.graph.node]
