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

log = logging.getLogger(__name__)

FUSABLE_ARCHITECTURES = ("llama", "mistral", "qwen2")
MS_DOMAIN = "com.microsoft"
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
    inv_freq, attention_factor = ROPE_INIT_FUNCTIONS[rope_type](hf_config, "cpu")
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
        projections = []
        for proj in ("q_proj", "k_proj", "v_proj"):
            node = by_name.get(f"{prefix}/{proj}/Add") or by_name.get(f"{prefix}/{proj}/MatMul")
            projections.append(node.output[0] if node is not None else None)
        o_proj = by_name.get(f"{prefix}/o_proj/MatMul")
        if None in projections or o_proj is None:
            log.info("Attention of layer %d does not have the expected shape; not fusing", i)
            return 0
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
    producers = {out: node for node in graph.node for out in node.output}
    fused_nodes = {}
    for i, (q, k, v), o_proj in plan:
        presents = [f"present.{i}.key", f"present.{i}.value"]
        for name in presents:
            _rename_value(graph, producers[name], name, f"{name}.unfused")
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
    del graph.node[:]
    graph.node.extend(ordered)
    if not any(op.domain == MS_DOMAIN for op in model.opset_import):
        model.opset_import.append(helper.make_opsetid(MS_DOMAIN, 1))
    from desktop_app.models.onnx_tools import remove_unused

    remove_unused(model)
    return layers


def _rename_value(graph: Any, producer: Any, old: str, new: str) -> None:
    """Give a value a new name at its producer and every reader (graph outputs excepted)."""
    for index, name in enumerate(producer.output):
        if name == old:
            producer.output[index] = new
    for node in graph.node:
        for index, name in enumerate(node.input):
            if name == old:
                node.input[index] = new
