"""Fusing each layer's attention of an optimum export into ONNX Runtime's GroupQueryAttention.

optimum's TorchScript export spells attention out as ~90 small nodes a layer (masks,
rotary embedding, repeat-kv, shape arithmetic); on a small model ONNX Runtime spends most
of each token running those rather than the matrix products. GroupQueryAttention (a
com.microsoft contrib op on the CPU and CUDA providers) does the same work in one kernel,
with the rotary embedding built in. The KV cache inputs and outputs keep their names and
BNSH layout, so the engine runs fused and unfused models alike.

The rewrite is driven by the exporter's node names (`/model/layers.N/self_attn/q_proj/...`)
and only for architectures whose attention is plain rotary GQA; preparation checks the
fused graph against the unfused one and keeps the unfused graph if they disagree.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from desktop_app.models.graph import (
    MS_DOMAIN,
    constants,
    consumers,
    initializers,
    producers,
    rename_value,
    replace_nodes,
)
from desktop_app.models.grids import grid_kind

log = logging.getLogger(__name__)

FUSABLE_ARCHITECTURES = ("llama", "mistral", "qwen2")
GQA_SHARED_INPUTS = ("inkwell_seqlens_k", "inkwell_total_length", "inkwell_rotary_cos", "inkwell_rotary_sin")


def rotary_tables(hf_config: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """cos/sin caches (max_positions, head_dim / 2) from transformers' own rope setup."""
    from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS

    scaling = getattr(hf_config, "rope_scaling", None) or {}
    rope_type = scaling.get("rope_type", scaling.get("type", "default"))
    # dynamic and longrope change their frequencies with the sequence length: not a fixed table
    if rope_type not in ("default", "linear", "llama3", "yarn") or rope_type not in ROPE_INIT_FUNCTIONS:
        return None
    head_dim = getattr(hf_config, "head_dim", None) or hf_config.hidden_size // hf_config.num_attention_heads
    if getattr(hf_config, "partial_rotary_factor", 1.0) != 1.0:
        return None
    inv_freq, attention_factor = ROPE_INIT_FUNCTIONS[rope_type](hf_config, "cpu")  # type: ignore[arg-type]
    inv = inv_freq.detach().cpu().numpy().astype(np.float64)
    if inv.shape[0] * 2 != head_dim:
        return None
    positions = np.arange(hf_config.max_position_embeddings, dtype=np.float64)
    angles = np.outer(positions, inv)
    factor = float(attention_factor)
    return (np.cos(angles) * factor).astype(np.float32), (np.sin(angles) * factor).astype(np.float32)


def fuse_attention(model: Any, hf_config: Any) -> int:
    """Rewrite `model` in place; return the number of fused layers (0: left as it was)."""
    from onnx import helper, numpy_helper

    if getattr(hf_config, "model_type", None) not in FUSABLE_ARCHITECTURES:
        return 0
    window = getattr(hf_config, "sliding_window", None)
    if window and getattr(hf_config, "use_sliding_window", True) and window < hf_config.max_position_embeddings:
        return 0
    tables = rotary_tables(hf_config)
    if tables is None:
        return 0
    graph = model.graph
    by_name = {n.name: n for n in graph.node}
    layers = int(hf_config.num_hidden_layers)
    plan = []
    for i in range(layers):
        prefix = f"/model/layers.{i}/self_attn"
        found = [
            by_name.get(f"{prefix}/{p}/Add") or by_name.get(f"{prefix}/{p}/MatMul")
            for p in ("q_proj", "k_proj", "v_proj")
        ]
        o_proj = by_name.get(f"{prefix}/o_proj/MatMul")
        if any(node is None for node in found) or o_proj is None:
            log.info("Attention of layer %d does not have the expected shape; not fusing", i)
            return 0
        projections: list[str] = [str(node.output[0]) for node in found if node is not None]
        plan.append((i, projections, o_proj))

    cos, sin = tables
    graph.initializer.extend(
        [numpy_helper.from_array(cos, "inkwell_rotary_cos"), numpy_helper.from_array(sin, "inkwell_rotary_sin")]
    )
    shared = [
        helper.make_node("ReduceSum", ["attention_mask", "inkwell_axis_1"], ["inkwell_mask_sum"], keepdims=0),
        helper.make_node("Sub", ["inkwell_mask_sum", "inkwell_one"], ["inkwell_seqlens_k_64"]),
        helper.make_node("Cast", ["inkwell_seqlens_k_64"], ["inkwell_seqlens_k"], to=6),  # int32
        helper.make_node("Shape", ["attention_mask"], ["inkwell_mask_shape"]),
        helper.make_node("Gather", ["inkwell_mask_shape", "inkwell_index_1"], ["inkwell_total_64"], axis=0),
        helper.make_node("Cast", ["inkwell_total_64"], ["inkwell_total_length"], to=6),
    ]
    graph.initializer.extend(
        [
            numpy_helper.from_array(np.array([1], dtype=np.int64), "inkwell_axis_1"),
            numpy_helper.from_array(np.array(1, dtype=np.int64), "inkwell_one"),
            numpy_helper.from_array(np.array(1, dtype=np.int64), "inkwell_index_1"),
        ]
    )
    heads = int(hf_config.num_attention_heads)
    kv_heads = int(getattr(hf_config, "num_key_value_heads", None) or heads)
    head_dim = getattr(hf_config, "head_dim", None) or hf_config.hidden_size // heads
    writers = producers(graph)
    fused_nodes = {}
    for i, (q, k, v), o_proj in plan:
        presents = [f"present.{i}.key", f"present.{i}.value"]
        for name in presents:
            rename_value(graph, writers[name], name, f"{name}.unfused")
        output = f"/model/layers.{i}/self_attn/inkwell_gqa_output_0"
        fused_nodes[o_proj.name] = helper.make_node(
            "GroupQueryAttention",
            [
                q,
                k,
                v,
                f"past_key_values.{i}.key",
                f"past_key_values.{i}.value",
                "inkwell_seqlens_k",
                "inkwell_total_length",
                "inkwell_rotary_cos",
                "inkwell_rotary_sin",
            ],
            [output, *presents],
            name=f"/model/layers.{i}/self_attn/GroupQueryAttention",
            domain=MS_DOMAIN,
            num_heads=heads,
            kv_num_heads=kv_heads,
            do_rotary=1,
            rotary_interleaved=0,
            scale=float(1.0 / np.sqrt(head_dim)),
        )
        o_proj.input[0] = output
    ordered = list(shared)
    for node in graph.node:
        if node.name in fused_nodes:
            ordered.append(fused_nodes[node.name])
        ordered.append(node)
    replace_nodes(model, ordered)
    return layers


def pack_qkv(model: Any) -> int:
    """Give each fused attention one q/k/v projection (weights side by side); returns how many.

    GroupQueryAttention accepts the three projections packed in its query input. One matrix
    product in place of three reads the input once (quantized once, by MatMulNBits) and
    saves two kernel launches a layer. Projections with a bias are left alone.
    """
    from onnx import numpy_helper

    graph = model.graph
    weights_by_name, writers = initializers(graph), producers(graph)
    removed: set[str] = set()
    packed = 0
    for node in graph.node:
        if node.op_type != "GroupQueryAttention" or len(node.input) < 3 or not node.input[1]:
            continue
        projections = [writers.get(name) for name in node.input[:3]]
        if not all(p is not None and p.op_type == "MatMul" and p.input[1] in weights_by_name for p in projections):
            continue
        if len({p.input[0] for p in projections}) != 1:  # type: ignore[union-attr]
            continue
        weights = [numpy_helper.to_array(weights_by_name[p.input[1]]) for p in projections]  # type: ignore[union-attr]
        if len({w.shape[0] for w in weights}) != 1 or any(w.ndim != 2 for w in weights):
            continue
        name = f"{node.name}/qkv_proj"
        graph.initializer.append(numpy_helper.from_array(np.concatenate(weights, axis=1), f"{name}.weight"))
        first = projections[0]
        first.input[1] = f"{name}.weight"  # type: ignore[union-attr]
        first.output[0] = f"{name}_output_0"  # type: ignore[union-attr]
        first.name = f"{name}/MatMul"  # type: ignore[union-attr]
        removed.update(p.output[0] for p in projections[1:])  # type: ignore[union-attr]
        node.input[0], node.input[1], node.input[2] = f"{name}_output_0", "", ""
        packed += 1
    if removed:
        replace_nodes(model, [n for n in graph.node if n.output[0] not in removed])
    return packed


def pack_shared_inputs(model: Any) -> int:
    """Matrices that read the same input (an MLP's gate and up projections) become one
    product and a Split; returns how many groups were packed.

    One wider product reads and quantizes the input once and runs one kernel where there
    were several (+2-3% decode speed on SmolLM2-135M, where gate and up pack). Matrices
    whose weights sit on different GGUF grids stay apart, so that each keeps its own.
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    weights_by_name = initializers(graph)
    groups: dict[str, list[Any]] = {}
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in weights_by_name:
            groups.setdefault(node.input[0], []).append(node)
    packs: dict[str, list[Any]] = {}  # first node's output -> [MatMul, Split]
    packed_outputs: set[str] = set()
    for source, members in groups.items():
        if len(members) < 2:
            continue
        weights = [numpy_helper.to_array(weights_by_name[n.input[1]]) for n in members]
        if any(w.ndim != 2 for w in weights) or len({(w.shape[0], w.dtype) for w in weights}) != 1:
            continue
        if len({grid_kind(w) for w in weights}) != 1:
            continue
        first = members[0]
        name = f"{first.name or first.output[0]}/packed"
        graph.initializer.append(numpy_helper.from_array(np.concatenate(weights, axis=1), f"{name}.weight"))
        graph.initializer.append(
            numpy_helper.from_array(np.array([w.shape[1] for w in weights], np.int64), f"{name}.split")
        )
        packs[first.output[0]] = [
            helper.make_node("MatMul", [source, f"{name}.weight"], [f"{name}_output_0"], name=f"{name}/MatMul"),
            helper.make_node(
                "Split",
                [f"{name}_output_0", f"{name}.split"],
                [n.output[0] for n in members],
                name=f"{name}/Split",
                axis=-1,
            ),
        ]
        packed_outputs.update(n.output[0] for n in members)
    if not packs:
        return 0
    nodes: list[Any] = []
    for node in graph.node:
        if node.output and node.output[0] in packs:
            nodes.extend(packs[node.output[0]])
        elif not (node.output and node.output[0] in packed_outputs):
            nodes.append(node)
    replace_nodes(model, nodes)
    return len(packs)


def fuse_rms_norms(model: Any) -> int:
    """Replace each spelled-out RMSNorm with SimplifiedLayerNormalization; returns how many.

    The export writes RMSNorm as nine nodes (Pow, ReduceMean, Add, Sqrt, Div, Mul, Casts,
    Mul by the weight). ONNX Runtime fuses those on load, but leaves the residual Add in
    front of each norm as a node of its own; here that Add goes inside
    SkipSimplifiedLayerNormalization, whose fourth output is the residual sum.
    """
    from onnx import helper

    graph = model.graph
    initializer_names = set(initializers(graph))
    known = constants(graph)
    readers_of, writers = consumers(graph), producers(graph)
    graph_outputs = {o.name for o in graph.output}

    def only_reader(value: str, op_type: str) -> Any:
        readers = readers_of.get(value, [])
        if len(readers) != 1 or readers[0].op_type != op_type or value in graph_outputs:
            return None
        return readers[0]

    replaced: dict[str, Any] = {}  # the anchor node's first output -> the fused node
    removed: set[str] = set()
    fused = 0
    for pow_node in list(graph.node):
        if pow_node.op_type != "Pow" or not _is_scalar(known.get(pow_node.input[1]), 2.0):
            continue
        x = pow_node.input[0]
        mean = only_reader(pow_node.output[0], "ReduceMean")
        add = mean is not None and only_reader(mean.output[0], "Add")
        if not add:
            continue
        eps = known.get(add.input[1] if add.input[0] == mean.output[0] else add.input[0])
        sqrt = only_reader(add.output[0], "Sqrt")
        div = sqrt is not None and only_reader(sqrt.output[0], "Div")
        if eps is None or eps.size != 1 or not div or not _is_scalar(known.get(div.input[0]), 1.0):
            continue
        scale = only_reader(div.output[0], "Mul")
        if scale is None or x not in scale.input:
            continue
        chain = [pow_node, mean, add, sqrt, div, scale]
        last = scale
        cast = only_reader(last.output[0], "Cast")
        if cast is not None:
            chain.append(cast)
            last = cast
        weight_mul = only_reader(last.output[0], "Mul")
        if weight_mul is None:
            continue
        gamma_name: str = next((i for i in weight_mul.input if i != last.output[0]), "")
        alias = writers.get(gamma_name)
        if alias is not None and alias.op_type == "Identity":  # the exporter shares equal weights
            gamma_name = alias.input[0]
        gamma = known.get(gamma_name) if gamma_name in initializer_names else None
        if gamma is None or gamma.ndim != 1:
            continue
        chain.append(weight_mul)
        # The export casts the residual sum to float32 (a no-op here) before the norm, and
        # the next residual Add reads that cast; the fused node's sum output takes its name.
        summed = x
        cast_in = writers.get(x)
        if cast_in is not None and cast_in.op_type == "Cast" and _cast_target(cast_in) == FLOAT32:
            summed = cast_in.input[0]
        residual = writers.get(summed)
        epsilon = float(eps.reshape(-1)[0])
        if (
            residual is not None
            and residual.op_type == "Add"
            and all(i and i not in known for i in residual.input)
            and len(readers_of.get(summed, [])) == 1
            and summed not in graph_outputs
        ):
            if summed != x:
                chain.append(cast_in)
            fused_node = helper.make_node(
                "SkipSimplifiedLayerNormalization",
                [residual.input[0], residual.input[1], gamma_name],
                [weight_mul.output[0], "", "", x],
                name=f"{weight_mul.name}/SkipSimplifiedLayerNormalization",
                domain=MS_DOMAIN,
                epsilon=epsilon,
            )
            anchor = residual
        else:
            fused_node = helper.make_node(
                "SimplifiedLayerNormalization",
                [x, gamma_name],
                [weight_mul.output[0]],
                name=f"{weight_mul.name}/SimplifiedLayerNormalization",
                axis=-1,
                epsilon=epsilon,
                stash_type=1,
            )
            anchor = pow_node
        removed.update(n.output[0] for n in chain)
        removed.add(anchor.output[0])
        replaced[anchor.output[0]] = fused_node
        fused += 1
    if fused:
        ordered = []
        for node in graph.node:
            if node.output[0] in replaced:
                ordered.append(replaced[node.output[0]])
            elif node.output[0] not in removed:
                ordered.append(node)
        replace_nodes(model, ordered)
    return fused


FLOAT32 = 1  # onnx.TensorProto.FLOAT


def _cast_target(node: Any) -> int | None:
    return next((int(a.i) for a in node.attribute if a.name == "to"), None)


def _is_scalar(value: np.ndarray | None, expected: float) -> bool:
    return value is not None and value.size == 1 and float(value.reshape(-1)[0]) == expected
