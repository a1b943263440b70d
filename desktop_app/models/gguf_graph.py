"""The one builder: a GGUF decoder's tensors become the ONNX graph the engine runs.

The shape that runs fastest under ONNX Runtime on the CPU (fusion.py's, built directly):
one attention operator with rotary inside and one KV buffer for past and present (Inkwell's
GgmlAttention on the CPU, ONNX Runtime's GroupQueryAttention on the GPU), q/k/v and
gate/up as one product each where their grids allow, (Skip)SimplifiedLayerNormalization,
logits for the last position(s) only (optionally, refine_output: a 4-bit copy with the top
REFINED_LOGITS recomputed exactly; off, see `embedding`). Names as the engine expects:
input_ids, attention_mask, logits_to_keep, past_key_values.{i}.key/value -> logits,
present.{i}.key/value.
Architectures differ only through their table (architectures.py); weights are written as
they are met (gguf_weights.py), so the builder holds names only.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.engine import ggml_ops
from desktop_app.engine.onnx_model import LOGITS_LENGTH, LOGITS_TO_KEEP
from desktop_app.models.architectures import Architecture, Shape, is_local_layer, rope_tables
from desktop_app.models.gguf_file import GGUFFile, TensorInfo
from desktop_app.models.gguf_nodes import GraphParts
from desktop_app.models.gguf_weights import APPROXIMATE_BLOCK, Embedding, Product, WeightWriter
from desktop_app.models.graph import MS_DOMAIN

OPSET = 17
IR_VERSION = 10  # what onnxruntime 1.2x reads
# Logits recomputed exactly after the 4-bit output projection (as the export route's
# gguf_exact.REFINED_LOGITS: 64 against 32 cost ~3% of decode and saved 0.7 points of perplexity).
REFINED_LOGITS = 64


class GraphBuilder(GraphParts):
    def __init__(
        self,
        source: GGUFFile,
        arch: Architecture,
        shape: Shape,
        writer: WeightWriter,
        accuracy_level: int = 4,
        refine_output: bool = False,
    ) -> None:
        self.source, self.arch, self.shape, self.writer = source, arch, shape, writer
        self.accuracy_level = accuracy_level
        self.refine_output = refine_output
        # Attention by Inkwell's operator on the CPU where it is built (each query row computed
        # alone, so that checked proposals get a decoded token's bits: issue 23); else, and on
        # the GPU, ONNX Runtime's GroupQueryAttention.
        self.own_attention = not writer.half and ggml_ops.available()
        self.nodes: list[Any] = []
        self.used: set[str] = set()
        self._sums: dict[tuple[str, int, int, int], str] = {}
        self._constants: set[str] = set()

    # -- the model -------------------------------------------------------------------

    def build(self) -> Any:
        from onnx import TensorProto, helper

        s = self.shape
        embedded = self.embedding()
        self.attention_inputs()
        residual = embedded
        hidden = self.node(
            "SimplifiedLayerNormalization",
            [residual, self.vector("blk.0.attn_norm.weight", s.hidden)],
            axis=-1,
            epsilon=s.rms_epsilon,
            stash_type=1,
        )[0]
        mlp = ""
        for layer in range(s.layers):
            attended = self.attention(layer, hidden)
            hidden, residual = self.add_and_norm(attended, residual, f"blk.{layer}.ffn_norm.weight", layer, "attn")
            mlp = self.post_norm(self.feed_forward(layer, hidden), f"blk.{layer}.post_ffw_norm.weight")
            if layer + 1 < s.layers:
                hidden, residual = self.add_and_norm(mlp, residual, f"blk.{layer + 1}.attn_norm.weight")
        # Only the last `logits_to_keep` positions' logits are computed (a prompt needs its
        # last; a speculative check, those of the tokens it checks). Sliced before the final norm.
        last = [
            self.node("Neg", [LOGITS_TO_KEEP], name="/inkwell/LastStart")[0],
            self.const("inkwell_last_end", np.array([np.iinfo(np.int64).max], np.int64)),
            self.const("inkwell_sequence_axis", np.array([1], np.int64)),
        ]
        mlp_last = self.node("Slice", [mlp, *last], name="/inkwell/LastPosition")[0]
        residual_last = self.node("Slice", [residual, *last])[0]
        final, _ = self.add_and_norm(mlp_last, residual_last, "output_norm.weight")
        logits = self.output_projection(final)

        kv_heads, head_dim, kv_type = (
            s.kv_heads,
            s.head_dim,
            TensorProto.FLOAT16 if self.writer.half else TensorProto.FLOAT,
        )
        inputs = [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch_size", "sequence_length"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch_size", "total_sequence_length"]),
            helper.make_tensor_value_info(LOGITS_TO_KEEP, TensorProto.INT64, [1]),
        ]
        logits_shape: list[str | int] = ["batch_size", LOGITS_LENGTH, s.vocab]
        outputs = [helper.make_tensor_value_info(logits, TensorProto.FLOAT, logits_shape)]
        past: list[str | int] = ["batch_size", kv_heads, "past_sequence_length", head_dim]
        present: list[str | int] = ["batch_size", kv_heads, "total_sequence_length", head_dim]
        for i in range(s.layers):
            for kind in ("key", "value"):
                inputs.append(helper.make_tensor_value_info(f"past_key_values.{i}.{kind}", kv_type, past))
                outputs.append(helper.make_tensor_value_info(f"present.{i}.{kind}", kv_type, present))
        unused = sorted(set(self.source.tensors) - self.used)
        if unused:
            raise UserError(
                translate(
                    "Errors", "The GGUF file has tensors a {architecture} model is not known to use: {names}."
                ).format(architecture=self.arch.name, names=", ".join(unused[:4])),
                hint=translate(
                    "Errors",
                    "Inkwell refuses to guess what they do; this variant of the architecture is not supported yet.",
                ),
            )
        graph = helper.make_graph(self.nodes, "inkwell_gguf", inputs, outputs, self.writer.initializers)
        return helper.make_model(
            graph,
            ir_version=IR_VERSION,
            opset_imports=[
                helper.make_opsetid("", OPSET),
                helper.make_opsetid(MS_DOMAIN, 1),
                helper.make_opsetid(ggml_ops.DOMAIN, 1),
            ],
            producer_name="inkwell-gguf",
        )

    def embedding(self) -> str:
        s = self.shape
        table = self.need("token_embd.weight")
        self.check_shape(table, (s.vocab, s.hidden))
        output = self.tensor("output.weight", required=False)
        self.tied: Product | None = None
        # With refine_output, the output projection (the largest matrix, read for every token)
        # runs at 4 bits and the largest logits are recomputed exactly from the file's rows.
        # It is off: on the default model it decodes ~12% faster but moves perplexity from
        # +0.5% to +3.5% of llama.cpp's on the same file (the tail of the softmax is 4-bit),
        # and faithfulness to the file comes first (bench/RESULTS.md).
        self.refine = (
            self.refine_output
            and self.accuracy_level > 0
            and s.vocab > REFINED_LOGITS
            and s.hidden % APPROXIMATE_BLOCK == 0
        )
        if output is None and not self.refine:  # tied: the output projection reads the embedding's own grid
            self.tied = self.writer.matrix("output", [table])
        self.table: Embedding = self.writer.embedding("token_embd", table, shared=self.tied)
        rows = self.gather_rows(self.table, "input_ids", "token_embd")
        if self.arch.scale_embedding:  # computed in float32 and rounded as the model was trained (bf16)
            rows = self.node(
                "Mul", [rows, self.const("inkwell_embedding_scale", np.array(np.sqrt(s.hidden), np.float32))]
            )[0]
        return rows

    def gather_rows(self, found: Embedding, indices: str, label: str) -> str:
        """Rows `indices` of a table as float32 [*indices.shape, hidden]; `indices` is of rank
        2 (input_ids) or 3 (the refined logits' indices)."""
        s = self.shape
        if found.kind == "float":
            return self.node("Gather", [found.inputs[0], indices], axis=0)[0]
        if found.kind == "blocks":
            attrs: dict[str, Any] = {"ggml_type": found.ggml_type, "K": s.hidden}
            if found.interleave:  # a tied output projection's rows, interleaved for its product
                attrs["interleave"] = found.interleave
            return self.node("GgmlGather", [found.inputs[0], indices], **attrs)[0]
        data, *grid = found.inputs  # scales, and zero points unless they are the default
        rows = self.node(
            "GatherBlockQuantized",
            [data, indices, *grid],
            bits=found.bits,
            block_size=found.block,
            gather_axis=0,
            quantize_axis=1,
        )[0]
        if found.offsets is None:
            return rows
        ob = found.offset_block
        keep = [0, 0] if indices == "input_ids" else [0, 0, 0]
        offsets = self.node("Gather", [found.offsets, indices], axis=0)[0]
        grouped = self.node(
            "Reshape", [rows, self.const(f"{label}.groups", np.array([*keep, s.hidden // ob, ob], np.int64))]
        )[0]
        widened = self.node("Unsqueeze", [offsets, self.const("inkwell_last_axis", np.array([-1], np.int64))])[0]
        summed = self.node("Add", [grouped, widened])[0]
        return self.node("Reshape", [summed, self.const(f"{label}.shape", np.array([*keep, s.hidden], np.int64))])[0]

    def output_projection(self, hidden: str) -> str:
        s = self.shape
        output = self.tensor("output.weight", required=False)
        if self.refine:
            logits = self._refined_projection(hidden, output)
        elif self.tied is not None:
            logits = self.apply(self.tied, hidden, "output")
        else:
            logits = self.products(hidden, ["output.weight"], [s.vocab], s.hidden)[0]
        if s.final_softcap:
            cap = self.const("inkwell_final_softcap", np.array(s.final_softcap, np.float32))
            logits = self.node("Mul", [self.node("Tanh", [self.node("Div", [logits, cap])[0]])[0], cap])[0]
        if self.writer.half:  # the GPU variant's logits are given as float32 too, as the engine reads them
            return self.node("Cast", [logits], ["logits"], name="/inkwell/logits", to=1)[0]
        return self.node("Identity", [logits], ["logits"], name="/inkwell/logits")[0]

    def _refined_projection(self, hidden: str, output: TensorInfo | None) -> str:
        """Every logit from a 4-bit copy, then the REFINED_LOGITS largest again in float32
        from the exact rows (the embedding's table when tied): greedy choices and the
        candidates sampling draws from get the file's logits; only the tail is rounded."""
        s = self.shape
        if output is None:
            matrix, table = self.need("token_embd.weight"), self.table
        else:
            self.check_shape(output, (s.vocab, s.hidden))
            matrix, table = output, self.writer.embedding("output", output)
        approximate = self.apply(self.writer.approximate("output.approximate", matrix), hidden, "output/approximate")
        k = self.const("inkwell_refined_logits", np.array([REFINED_LOGITS], np.int64))
        _, top = self.node("TopK", [approximate, k], 2, name="/inkwell/output/TopK", axis=-1)
        rows = self.gather_rows(table, top, "output")  # [batch, 1, k, hidden]
        column = self.node("Unsqueeze", [hidden, self.const("inkwell_row_axis", np.array([-2], np.int64))])[0]
        products = self.node("Mul", [rows, column])[0]
        last = self.const("inkwell_last_axis", np.array([-1], np.int64))
        exact = self.node("ReduceSum", [products, last], keepdims=0)[0]
        return self.node("ScatterElements", [approximate, top, exact], name="/inkwell/output/Refined", axis=-1)[0]

    def add_and_norm(self, value: str, residual: str, weight: str, layer: int = -1, where: str = "") -> tuple[str, str]:
        if where == "attn":
            value = self.post_norm(value, f"blk.{layer}.post_attention_norm.weight")
        out = self.node(
            "SkipSimplifiedLayerNormalization",
            [value, residual, self.vector(weight, self.shape.hidden)],
            4,
            epsilon=self.shape.rms_epsilon,
        )
        return out[0], out[3]

    def post_norm(self, value: str, weight: str) -> str:
        if not self.arch.post_norms:
            return value
        return self.node(
            "SimplifiedLayerNormalization",
            [value, self.vector(weight, self.shape.hidden)],
            axis=-1,
            epsilon=self.shape.rms_epsilon,
            stash_type=1,
        )[0]

    # -- attention -------------------------------------------------------------------

    def attention_inputs(self) -> None:
        """seqlens_k and the total length from the attention mask, and the rope tables."""
        mask_sum = self.node(
            "ReduceSum", ["attention_mask", self.const("inkwell_axis_1", np.array([1], np.int64))], keepdims=0
        )[0]
        minus_one = self.node("Sub", [mask_sum, self.const("inkwell_one", np.array(1, np.int64))])[0]
        self.node("Cast", [minus_one], ["inkwell_seqlens_k"], to=6)
        mask_shape = self.node("Shape", ["attention_mask"])[0]
        total = self.node("Gather", [mask_shape, self.const("inkwell_index_1", np.array(1, np.int64))], axis=0)[0]
        self.node("Cast", [total], ["inkwell_total_length"], to=6)
        s = self.shape
        # Llama 3's rope scaling or LongRoPE's short factors (gguf_import caps the context to where
        # they apply) as per-frequency divisors, llama.cpp's freq_factors; YaRN in the table.
        self.tensor("rope_factors_long.weight", required=False)  # known, not run: see gguf_import
        factors = self.tensor("rope_freqs.weight", False) or self.tensor("rope_factors_short.weight", False)
        divisors = None if factors is None else self.writer.floats(factors).astype(np.float64)
        if factors is not None:
            self.check_shape(factors, (s.rotary_dim // 2,))
        self.rope = self._rope_tables("inkwell_rotary", s.rope_base, s.rope_linear_factor, divisors, yarn=True)
        self.local_rope = self.rope
        if self.shape.local_rope_base is not None:  # the file's rope.freq_base_swa, else the table's
            self.local_rope = self._rope_tables("inkwell_local_rotary", self.shape.local_rope_base, 1.0, None)

    def _rope_tables(self, name: str, base: float, factor: float, divisors: Any, yarn: bool = False) -> tuple[str, str]:
        cos, sin = rope_tables(self.shape, base, factor, divisors, yarn)
        return self.const(f"{name}_cos", cos), self.const(f"{name}_sin", sin)

    def attention(self, layer: int, hidden: str) -> str:
        s, prefix = self.shape, f"blk.{layer}"
        if f"{prefix}.attn_qkv.weight" in self.source.tensors:
            packed = self.products(hidden, [f"{prefix}.attn_qkv.weight"], [s.q_size + 2 * s.kv_size], s.hidden)
            qkv = self._biased(packed, [f"{prefix}.attn_qkv.bias"], [s.q_size + 2 * s.kv_size])
        else:
            names = [f"{prefix}.attn_{p}.weight" for p in "qkv"]
            sizes = [s.q_size, s.kv_size, s.kv_size]
            # One product for all three goes to the attention packed, without a Split.
            outputs = self.products(hidden, names, sizes, s.hidden, keep_packed=True)
            qkv = self._biased(outputs, [f"{prefix}.attn_{p}.bias" for p in "qkv"], sizes)
        if self.arch.qk_norm:  # GroupQueryAttention's own q/k norm inputs are not run on the CPU
            if len(qkv) == 1:
                split = self.const("inkwell_qkv_split", np.array([s.q_size, s.kv_size, s.kv_size], np.int64))
                qkv = self.node("Split", [qkv[0], split], 3, axis=-1)
            qkv = [
                self._head_norm(qkv[0], f"{prefix}.attn_q_norm.weight", s.heads),
                self._head_norm(qkv[1], f"{prefix}.attn_k_norm.weight", s.kv_heads),
                qkv[2],
            ]
        query = [*qkv, "", ""] if len(qkv) == 1 else qkv
        local = is_local_layer(self.arch, s, layer)
        cos, sin = self.local_rope if local else self.rope
        inputs = [
            *query,
            f"past_key_values.{layer}.key",
            f"past_key_values.{layer}.value",
            "inkwell_seqlens_k",
            "inkwell_total_length",
            cos,
            sin,
        ]
        if self.own_attention:  # Inkwell's operator: each query row computed alone (ggml_attention.cpp)
            joined = qkv[0] if len(qkv) == 1 else self.node("Concat", qkv, axis=-1)[0]
            attended = self.node(
                "GgmlAttention",
                [joined, inputs[3], inputs[4], inputs[5], cos, sin],
                [f"{prefix}/attention", f"present.{layer}.key", f"present.{layer}.value"],
                name=f"{prefix}/GgmlAttention",
                num_heads=s.heads,
                kv_num_heads=s.kv_heads,
                window=s.sliding_window if local else 0,
                interleaved=int(self.arch.rope_interleaved),
                scale=float(s.attention_scale),
                softcap=float(s.attention_softcap),
            )[0]
            return self.products(attended, [f"{prefix}.attn_output.weight"], [s.hidden], s.q_size)[0]
        attrs: dict[str, Any] = {}
        if local:
            # llama.cpp attends to the last `sliding_window` positions, the query's own
            # included; ONNX Runtime's window counts the same way (checked against the
            # reference in the tests).
            attrs["local_window_size"] = s.sliding_window
        if s.attention_softcap:
            attrs["softcap"] = s.attention_softcap
        attended = self.node(
            "GroupQueryAttention",
            inputs,
            [f"{prefix}/attention", f"present.{layer}.key", f"present.{layer}.value"],
            name=f"{prefix}/GroupQueryAttention",
            num_heads=s.heads,
            kv_num_heads=s.kv_heads,
            do_rotary=1,
            rotary_interleaved=int(self.arch.rope_interleaved),
            scale=s.attention_scale,
            **attrs,
        )[0]
        return self.products(attended, [f"{prefix}.attn_output.weight"], [s.hidden], s.q_size)[0]

    def _head_norm(self, value: str, weight: str, heads: int) -> str:
        """RMSNorm over each head of `value` [batch, sequence, heads * head_dim]."""
        s = self.shape
        by_head = self.node(
            "Reshape", [value, self.const(f"inkwell_heads_{heads}", np.array([0, 0, heads, s.head_dim], np.int64))]
        )[0]
        normed = self.node(
            "SimplifiedLayerNormalization",
            [by_head, self.vector(weight, s.head_dim)],
            axis=-1,
            epsilon=s.rms_epsilon,
            stash_type=1,
        )[0]
        return self.node(
            "Reshape", [normed, self.const(f"inkwell_flat_{heads}", np.array([0, 0, heads * s.head_dim], np.int64))]
        )[0]

    def _biased(self, values: list[str], biases: list[str], sizes: list[int]) -> list[str]:
        """Add each bias the file has; several outputs of one product share one Add."""
        present = [b in self.source.tensors for b in biases]
        if not any(present):
            return values
        if len(values) == 1 and len(biases) > 1:  # biases of a packed product: one vector
            joined = np.concatenate([self._bias_array(b, n) for b, n in zip(biases, sizes, strict=True)])
            return [self.node("Add", [values[0], self.const(f"{biases[0]}.packed", joined)])[0]]
        return [
            self.node("Add", [v, self.vector(b, n)])[0] if here else v
            for v, b, n, here in zip(values, biases, sizes, present, strict=True)
        ]

    def _bias_array(self, name: str, size: int) -> np.ndarray:
        tensor = self.tensor(name, required=False)
        if tensor is None:
            return np.zeros(size, np.float32)
        self.check_shape(tensor, (size,))
        return self.writer.floats(tensor)

    # -- feed-forward ------------------------------------------------------------------

    def feed_forward(self, layer: int, hidden: str) -> str:
        s, prefix = self.shape, f"blk.{layer}"
        fused = self.arch.fused_gate_up  # one matrix holds both (ffn_up)
        names = [f"{prefix}.ffn_up.weight"] if fused else [f"{prefix}.ffn_gate.weight", f"{prefix}.ffn_up.weight"]
        joined = self.products(hidden, names, [2 * s.ffn] if fused else [s.ffn, s.ffn], s.hidden, keep_packed=True)
        down = self.need(f"{prefix}.ffn_down.weight")
        if len(joined) == 1 and self.arch.activation != "gelu_tanh" and self.writer.kept(down):
            # [gate | up] into the down projection: it applies silu(gate) · up as it rounds its input
            self.check_shape(down, (s.hidden, s.ffn))
            matrix = self.writer.matrix(f"{prefix}.ffn_down", [down])
            return self.ggml_matmul(joined[0], matrix, f"{prefix}.ffn_down", swiglu=1)
        if len(joined) == 1:
            split = self.const("inkwell_ffn_split", np.array([s.ffn, s.ffn], np.int64))
            joined = self.node("Split", [joined[0], split], 2, axis=-1)
        gate, up = joined
        gelu = self.arch.activation == "gelu_tanh"
        activated = self.node("FastGelu", [gate])[0] if gelu else self.node("Mul", [gate, self.node("Sigmoid", [gate])[0]])[0]  # fmt: skip
        product = self.node("Mul", [activated, up])[0]
        return self.products(product, [f"{prefix}.ffn_down.weight"], [s.hidden], s.ffn)[0]
