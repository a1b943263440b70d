"""The graph builder's means: tensors by name, nodes, constants, and products of weights.

GraphBuilder (gguf_graph.py) stands on these: what it asks of the source (a GGUF file or a
Hugging Face folder read as one) and of the weight writer goes through here, so the
builder itself holds the model's structure only.
"""

from __future__ import annotations

from typing import Any, cast

import numpy as np

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.engine import ggml_ops
from desktop_app.models.architectures import Architecture, Shape
from desktop_app.models.gguf_file import TensorInfo
from desktop_app.models.gguf_weights import Product, WeightWriter
from desktop_app.models.graph import MS_DOMAIN

_MS_OPS = frozenset({"GroupQueryAttention", "MatMulNBits", "GatherBlockQuantized", "SkipSimplifiedLayerNormalization", "FusedMatMul", "FastGelu"})  # fmt: skip
_GGML_OPS = frozenset({"GgmlMatMul", "GgmlGather", "GgmlAttention"})


class GraphParts:
    source: Any  # GGUFFile, or hf_source.HFFolder
    arch: Architecture
    shape: Shape
    writer: WeightWriter
    accuracy_level: int
    nodes: list[Any]
    used: set[str]
    _sums: dict[tuple[str, int, int, int], str]
    _constants: set[str]

    def tensor(self, name: str, required: bool = True) -> TensorInfo | None:
        found: TensorInfo | None = self.source.tensors.get(name)
        if found is None and required:
            raise UserError(
                translate(
                    "Errors", "The GGUF file lacks the tensor {name}, which a {architecture} model needs."
                ).format(name=name, architecture=self.arch.name)
            )
        if found is not None:
            self.used.add(name)
        return found

    def need(self, name: str) -> TensorInfo:
        return cast(TensorInfo, self.tensor(name))  # required: a missing tensor raised

    def node(self, op: str, inputs: list[str], outputs: list[str] | int = 1, name: str = "", **attrs: Any) -> list[str]:
        from onnx import helper

        name = name or f"/inkwell/{op}_{len(self.nodes)}"
        if isinstance(outputs, int):
            outputs = [f"{name}/out{i}" for i in range(outputs)]
        domain = MS_DOMAIN if op in _MS_OPS else ggml_ops.DOMAIN if op in _GGML_OPS else ""
        self.nodes.append(helper.make_node(op, inputs, outputs, name=name, domain=domain, **attrs))
        return outputs

    def const(self, name: str, value: np.ndarray) -> str:
        if name not in self._constants:
            self._constants.add(self.writer.array(name, value))
        return name

    def check_shape(self, tensor: TensorInfo, dims: tuple[int, ...]) -> None:
        if tensor.dims != dims and not (len(dims) == 1 and tensor.dims == (1, dims[0])):
            raise UserError(
                translate("Errors", "Tensor {name} has shape {shape} where the metadata implies {expected}.").format(
                    name=tensor.name, shape=list(tensor.dims), expected=list(dims)
                ),
                hint=translate("Errors", "The file may be damaged, or its metadata does not match its tensors."),
            )

    def vector(self, name: str, size: int) -> str:
        tensor = self.need(name)
        self.check_shape(tensor, (size,))
        return self.writer.vector(name, tensor)

    # -- products --------------------------------------------------------------------

    def products(
        self, source: str, names: list[str], rows: list[int], columns: int, keep_packed: bool = False
    ) -> list[str]:
        """source · Wᵀ for each named matrix; those sharing a home are computed as one product.
        With `keep_packed`, one product holding them all is returned as it is, not split."""
        tensors = [self.need(n) for n in names]
        for tensor, n in zip(tensors, rows, strict=True):
            self.check_shape(tensor, (n, columns))
        groups: dict[tuple[Any, ...], list[int]] = {}
        for index, tensor in enumerate(tensors):
            groups.setdefault(self.writer.group(tensor), []).append(index)
        outputs: list[str] = [""] * len(names)
        for members in groups.values():
            label = names[members[0]].removesuffix(".weight") + ("_packed" if len(members) > 1 else "")
            product = self.writer.matrix(label, [tensors[i] for i in members])
            result = self.apply(product, source, label)
            if len(members) == 1 or (keep_packed and len(members) == len(names)):
                outputs[members[0]] = result
                continue
            split = self.const(f"{label}.split", np.array([rows[i] for i in members], np.int64))
            parts = self.node("Split", [result, split], len(members), name=f"{label}/Split", axis=-1)
            for i, part in zip(members, parts, strict=True):
                outputs[i] = part
        return [output for output in outputs if output]  # one, when kept packed

    def apply(self, product: Product, source: str, label: str) -> str:
        if product.kind == "float":
            return self.node("FusedMatMul", [source, *product.inputs], name=f"{label}/MatMul", transB=1)[0]
        if product.kind == "blocks":
            return self.ggml_matmul(source, product, label)
        if product.sum_copies:
            source = self._with_block_sums(source, product)
        return self.node(
            "MatMulNBits",
            [source, *product.inputs],
            name=f"{label}/MatMulNBits",
            K=product.k,
            N=product.n,
            bits=product.bits,
            block_size=product.block,
            accuracy_level=self.accuracy_level,
        )[0]

    def ggml_matmul(self, source: str, product: Product, label: str, **attrs: Any) -> str:
        """GgmlMatMul of a "blocks" product (with its rows' interleaving, if any)."""
        if product.interleave:
            attrs["interleave"] = product.interleave
        inputs = [source, *product.inputs]
        return self.node("GgmlMatMul", inputs, name=f"{label}/GgmlMatMul", ggml_type=product.ggml_type, **attrs)[0]

    def _with_block_sums(self, source: str, product: Product) -> str:
        """[x, S(x), ...]: x followed by its block sums (padded), as many times as asked,
        made once per distinct input. Reshape, ReduceSum, Pad and one Concat: on SmolLM2
        that decodes 12% faster a token (6.4 against 7.4 ms, AVX2 EPYC, 2026-12-03) than
        summing by a small 0/1 MatMulNBits, whose cost also grows with K²."""
        columns = product.k - product.sum_copies * product.sum_width
        key = (source, product.offset_block, product.sum_width, product.sum_copies)
        if key not in self._sums:
            ob, width, copies = product.offset_block, product.sum_width, product.sum_copies
            label = f"{source}/block_sums_{ob}x{copies}"
            blocks = self.const(f"{label}.shape", np.array([0, 0, columns // ob, ob], np.int64))
            grouped = self.node("Reshape", [source, blocks], name=f"{label}/Reshape")[0]
            last = self.const(f"{label}.axis", np.array([-1], np.int64))
            sums = self.node("ReduceSum", [grouped, last], name=f"{label}/ReduceSum", keepdims=0)[0]
            if width > columns // ob:
                pads = self.const(f"{label}.pads", np.array([0, 0, 0, 0, 0, width - columns // ob], np.int64))
                sums = self.node("Pad", [sums, pads], name=f"{label}/Pad")[0]
            self._sums[key] = self.node("Concat", [source] + [sums] * copies, axis=-1)[0]
        return self._sums[key]
