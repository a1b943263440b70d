"""Writing a GGUF's tensors into an ONNX external data file, each on the grid that holds it.

Every weight is appended to `model.<variant>.onnx.data` as it is converted, a chunk of
rows at a time, and the graph gets a TensorProto that only points there (location,
offset, length): memory stays at about one chunk whatever the model's size.

A quantized matrix keeps its file's own block grid (gguf_blocks.grid_of): levels, a scale
and an integer zero point a block, as MatMulNBits holds them. Some grids also have a
free offset a block (Q4_1, Q4_K, Q5_K, Q2_K). A float zero point would make
MatMulNBits dequantize the whole matrix on every call (shared/GGUF-GRIDS.md), so the
offsets R are folded into the same product as extra input rows fed by the block sums of
the input: x · W = [x, S(x)] · [W ; R]. R is rounded to 8 bits (a scale per 32 offsets);
a 4-bit matrix holds those 8 bits as two 4-bit digits, high then low, reading S(x)
twice. Matrices that read the same input and share a home are written side by side as
one product (q, k and v; gate and up). F32 matrices stay float32; F16 and BF16 ones are
read as the file holds them by the operators below (float32 where those are not built).
An output projection refined after a first pass also gets a rounded 4-bit copy
(`approximate`), counted in its type's bytes written.

Where Inkwell's own operators are built (engine/ggml_ops.py), Q4_0, Q5_0, Q5_1, Q8_0,
Q4_K, Q5_K, Q6_K, F16 and BF16 matrices and tables are not regridded at all: their bytes are copied
as the file holds them, and GgmlMatMul/GgmlGather read them as llama.cpp does
(`keep_blocks`; Q4_1 too, see REGRIDDED).

With `half` (the GPU variant), every matrix and table is dequantized to float16 instead,
and small float arrays are written as float16: plain MatMul and Gather, which the CUDA
provider runs, at two bytes a weight.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.engine import ggml_ops
from desktop_app.models.gguf_blocks import BlockGrid, dequantize_grid, floats_of, grid_of, home_of, is_supported
from desktop_app.models.gguf_file import GGUFFile, TensorInfo

ALIGNMENT = 4096  # page-aligned tensors can be mapped by ONNX Runtime
SMALL_BYTES = 1024  # smaller tensors are kept inside the graph
FLOAT_TYPES = ("F32", "F16", "BF16")
FLOAT_HOME = (32, 0, False)
APPROXIMATE_BLOCK = 32  # MatMulNBits' fastest grid: 4 bits, block 32, default zero point
# Types the operators hold that go to MatMulNBits all the same: none now. Q4_1 (the default
# model's type) went there while MatMulNBits read prompts faster (a 1,000-token prompt in
# 2.2 s against 2.9 on the operators, AVX2 EPYC, 2026-12-04), but MatMulNBits computes a
# lone row by another kernel than several, whose last bits differ: checked proposals then
# disagreed with plain decoding (issue 23). The operators give each row the same bits
# whatever rows come with it, and decode 4% faster (107 against 103 tokens/s).
REGRIDDED: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Product:
    """A matrix as written: `inputs` are the initializers after the activation input."""

    kind: str  # "nbits" (MatMulNBits), "float" (FusedMatMul with transB) or "blocks" (GgmlMatMul)
    inputs: tuple[str, ...]
    n: int
    k: int  # of the weights as stored (the augmented K of a grid with offsets)
    bits: int = 32
    block: int = 0
    offset_block: int = 0  # block sums of the input over this many columns feed the offsets
    sum_copies: int = 0  # how many times the padded block sums follow the input
    sum_width: int = 0  # the padded length of the block sums
    ggml_type: int = 0  # of a "blocks" product
    interleave: int = 0  # a "blocks" product's rows interleaved by this many (ggml_ops.interleave), or not (0)


@dataclass(frozen=True)
class Embedding:
    kind: str  # "nbits" (GatherBlockQuantized), "float" (Gather) or "blocks" (GgmlGather)
    inputs: tuple[str, ...]  # data, scales, zero points (or the float table)
    bits: int = 32
    block: int = 0
    offsets: str | None = None  # a float table [V, K / offset_block] added by blocks
    offset_block: int = 0
    ggml_type: int = 0  # of a "blocks" table
    interleave: int = 0  # as Product's


@dataclass(frozen=True)
class _GridRegions:
    """(name, offset, bytes a row) of each part of a grid as reserved in the data file."""

    levels: tuple[str, int, int]
    scales: tuple[str, int, int]
    zeros: tuple[str, int, int] | None
    bits: int
    zero_width: int  # bytes of zero points a row

    @property
    def inputs(self) -> tuple[str, ...]:
        parts = (self.levels, self.scales) if self.zeros is None else (self.levels, self.scales, self.zeros)
        return tuple(part[0] for part in parts)

    @property
    def row_bytes(self) -> int:
        return self.levels[2] + self.scales[2] + (self.zero_width if self.zeros is not None else 0)


@dataclass
class TypeReport:
    tensors: int = 0
    weights: int = 0
    file_bytes: int = 0
    written_bytes: int = 0
    home: str = ""


@dataclass
class WeightWriter:
    source: GGUFFile
    data_path: Path
    on_tensor: Callable[[TensorInfo], None] = lambda tensor: None
    keep_blocks: bool = False  # the types the operators hold, as the file holds them (`kept`)
    keep_floats: bool = True  # F16 and BF16 among them (a Hugging Face folder's fp32 variant: no)
    half: bool = False  # every weight as float16 (the GPU variant)
    initializers: list[Any] = field(default_factory=list)
    report: dict[str, TypeReport] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._fd = os.open(self.data_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        self._end = 0

    def close(self) -> None:
        os.close(self._fd)

    # -- storage -----------------------------------------------------------------------

    def _reserve(self, nbytes: int) -> int:
        offset = -(-self._end // ALIGNMENT) * ALIGNMENT
        self._end = offset + nbytes
        return offset

    def _external(self, name: str, dtype: Any, dims: tuple[int, ...], offset: int, nbytes: int) -> str:
        from onnx import TensorProto, helper

        tensor = TensorProto(name=name, data_type=helper.np_dtype_to_tensor_dtype(np.dtype(dtype)), dims=list(dims))
        tensor.data_location = TensorProto.EXTERNAL
        for key, value in (("location", self.data_path.name), ("offset", str(offset)), ("length", str(nbytes))):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, value
        self.initializers.append(tensor)
        return name

    def _region(self, name: str, dtype: Any, dims: tuple[int, ...]) -> tuple[str, int, int]:
        """Reserve room for a tensor; returns (name, offset, bytes a row of its first axis)."""
        row = int(np.prod(dims[1:], dtype=np.int64)) * np.dtype(dtype).itemsize
        offset = self._reserve(row * dims[0])
        self._external(name, dtype, dims, offset, row * dims[0])
        return name, offset, row

    def _write(self, offset: int, array: np.ndarray) -> None:
        view = np.ascontiguousarray(array).data.cast("B")
        while view:
            written = os.pwrite(self._fd, view, offset)
            view, offset = view[written:], offset + written

    def array(self, name: str, value: np.ndarray) -> str:
        """A whole (small or float) array as an initializer."""
        from onnx import numpy_helper

        value = np.ascontiguousarray(value)
        if self.half and value.dtype.kind == "f":
            value = value.astype(np.float16)
        if value.nbytes < SMALL_BYTES:
            self.initializers.append(numpy_helper.from_array(value, name))
            return name
        offset = self._reserve(value.nbytes)
        self._write(offset, value)
        return self._external(name, value.dtype, value.shape, offset, value.nbytes)

    def floats(self, tensor: TensorInfo) -> np.ndarray:
        """A small float tensor's values as float32 [elements], counted as written."""
        if tensor.type_name not in FLOAT_TYPES:
            raise UserError(
                translate("Errors", "Tensor {name} is of type {type} where a float type was expected.").format(
                    name=tensor.name, type=tensor.type_name
                )
            )
        raw = np.ascontiguousarray(tensor.data).view(np.uint8).reshape(1, -1)
        value: np.ndarray = floats_of(tensor.qtype, raw, tensor.rows * tensor.columns).reshape(-1).astype(np.float32)
        self._count(tensor, value.nbytes)
        return value

    def vector(self, name: str, tensor: TensorInfo) -> str:
        """A norm weight or bias, as float32 (float16 in the GPU variant)."""
        return self.array(name, self.floats(tensor))

    # -- matrices ----------------------------------------------------------------------

    def kept(self, tensor: TensorInfo) -> bool:
        """Whether the tensor keeps its file's blocks (read by GgmlMatMul/GgmlGather)."""
        return (
            self.keep_blocks
            and not self.half
            and tensor.type_name not in REGRIDDED
            and (self.keep_floats or tensor.type_name not in FLOAT_TYPES)
            and ggml_ops.holds(tensor.type_name, tensor.columns)
        )

    def group(self, tensor: TensorInfo) -> tuple[Any, ...]:
        """Matrices of one group are written side by side as one product."""
        if self.half:
            self.home(tensor)  # an unsupported type is refused here too
            return FLOAT_HOME
        return ("blocks", tensor.type_name) if self.kept(tensor) else self.home(tensor)

    def home(self, tensor: TensorInfo) -> tuple[int, int, bool]:
        if tensor.type_name in FLOAT_TYPES:
            return FLOAT_HOME
        if not is_supported(tensor.qtype):
            raise UserError(
                translate("Errors", "Tensor {name} is of GGUF type {type}, which Inkwell cannot import yet.").format(
                    name=tensor.name, type=tensor.type_name
                ),
                hint=translate("Errors", "Choose a file quantized as Q4_K_M, Q5_K_M, Q6_K, Q8_0, Q4_0 or F16."),
            )
        bits, block, offsets = home_of(tensor.qtype)
        return int(bits), int(block), bool(offsets)

    def matrix(self, name: str, members: list[TensorInfo]) -> Product:
        """Write `members` (same home, same columns) as one matrix, rows in order."""
        k = members[0].columns
        n = sum(t.rows for t in members)
        if self.kept(members[0]):
            return self._blocks(name, members)
        bits, block, has_offsets = self.home(members[0])
        if self.half or (bits, block) == FLOAT_HOME[:2]:
            weights, offset, row = self._region(f"{name}.weight", self.float_type, (n, k))
            start = 0
            for tensor in members:
                for first, raw in self.source.chunks(tensor):
                    self._write(offset + (start + first) * row, self._values(tensor, raw))
                self._count(tensor, tensor.rows * row)
                start += tensor.rows
            return Product("float", (weights,), n, k)
        offset_block = self._offset_block(members[0]) if has_offsets else 0
        sum_width = -(-(k // offset_block) // block) * block if has_offsets else 0
        copies = (2 if bits == 4 else 1) if has_offsets else 0
        k_all = k + copies * sum_width
        # A grid without offsets has one zero point everywhere (its format's centre): the
        # levels move onto MatMulNBits' default instead, and no zero points are stored
        # (less to read, and its faster kernel: shared/GGUF-GRIDS.md).
        names = self._grid_regions(name, n, k_all, bits, block, stored_zero_points=has_offsets)
        start = 0
        for tensor in members:
            for first, raw in self.source.chunks(tensor):
                grid = grid_of(tensor.qtype, raw, k, tensor.name)
                self._write_grid(
                    names, start + first, *_with_offset_rows(grid, bits, block, offset_block, sum_width, copies)
                )
            self._count(tensor, names.row_bytes * tensor.rows)
            start += tensor.rows
        return Product("nbits", names.inputs, n, k_all, bits, block, offset_block, copies, sum_width)

    def _blocks(self, name: str, members: list[TensorInfo], product: bool = True) -> Product:
        """The members' rows as their file holds them: [n, bytes a row] of uint8. A product's
        rows of a 32-weight type are interleaved by eights where each member's rows allow:
        the same bytes, in the order GgmlMatMul reads fastest (a table only looked up keeps
        its file's order)."""
        first_tensor = members[0]
        row_bytes = first_tensor.n_bytes // first_tensor.rows
        n = sum(t.rows for t in members)
        interleave = ggml_ops.INTERLEAVE if product and _interleavable(members) else 0
        data, offset, row = self._region(f"{name}.blocks", np.uint8, (n, row_bytes))
        start = 0
        for tensor in members:
            if tensor.qtype != first_tensor.qtype or tensor.n_bytes // tensor.rows != row:
                raise RuntimeError("members of one block product differ in type or row length")
            chunks = self.source.chunks(tensor)
            for first, raw in _in_eights(chunks) if interleave else chunks:
                self._write(
                    offset + (start + first) * row, ggml_ops.interleave(tensor.type_name, raw) if interleave else raw
                )
            self._count(tensor, tensor.n_bytes)
            start += tensor.rows
        return Product(
            "blocks",
            (data,),
            n,
            first_tensor.columns,
            ggml_type=ggml_ops.HELD_TYPES[first_tensor.type_name],
            interleave=interleave,
        )

    def approximate(self, name: str, tensor: TensorInfo) -> Product:
        """A 4-bit, block-32 copy of a matrix, rounded (symmetric, no zero points): for a
        first pass whose largest results are then recomputed exactly from the file's grid."""
        n, k = tensor.rows, tensor.columns
        blocks = k // APPROXIMATE_BLOCK
        names = self._grid_regions(name, n, k, 4, APPROXIMATE_BLOCK, stored_zero_points=False)
        for first, raw in self.source.chunks(tensor):
            grouped = self._values(tensor, raw, np.float32).reshape(-1, blocks, APPROXIMATE_BLOCK)
            step = np.abs(grouped).max(axis=2) / 7.0
            step = np.where(step == 0, 1.0, step).astype(np.float32)
            levels = (np.clip(np.rint(grouped / step[..., None]), -8, 7) + 8).astype(np.uint8)
            self._write(names.levels[1] + first * names.levels[2], _pack(levels.reshape(-1, k), 4))
            self._write(names.scales[1] + first * names.scales[2], step)
        self._count(tensor, names.row_bytes * n, again=True)
        return Product("nbits", names.inputs, n, k, 4, APPROXIMATE_BLOCK)

    def _grid_regions(
        self, name: str, n: int, k: int, bits: int, block: int, stored_zero_points: bool, table: bool = False
    ) -> _GridRegions:
        """Room for levels, scales and (if stored) zero points of an [n, k] grid. A table
        (GatherBlockQuantized's data) is [n, k·bits/8]; a matrix (MatMulNBits' B) [n, blocks, block·bits/8]."""
        blocks, zero_width = k // block, -(-(k // block) * bits // 8)
        levels_dims = (n, k * bits // 8) if table else (n, blocks, block * bits // 8)
        levels = self._region(f"{name}.{'data' if table else f'q{bits}'}", np.uint8, levels_dims)
        scales = self._region(f"{name}.scales", np.float32, (n, blocks))
        zeros = None
        if stored_zero_points:
            zeros = self._region(f"{name}.zero_points", np.uint8, (n, zero_width) if table else (n * zero_width,))
        return _GridRegions(levels, scales, zeros, bits, zero_width)

    def _write_grid(
        self, regions: _GridRegions, row: int, levels: np.ndarray, scales: np.ndarray, zeros: np.ndarray
    ) -> None:
        bits = regions.bits
        if regions.zeros is None:
            default = 1 << (bits - 1)
            shift = default - int(zeros.flat[0]) if zeros.size else 0
            if (
                (zeros != zeros.flat[0]).any()
                or int(levels.max(initial=0)) + shift >= 1 << bits
                or levels.min(initial=0) + shift < 0
            ):
                raise RuntimeError("a grid without offsets has zero points that differ or do not fit the default")
            levels = levels + np.uint8(shift) if shift >= 0 else levels - np.uint8(-shift)
        self._write(regions.levels[1] + row * regions.levels[2], _pack(levels, bits))
        self._write(regions.scales[1] + row * regions.scales[2], scales.astype(np.float32))
        if regions.zeros is not None:
            self._write(regions.zeros[1] + row * regions.zero_width, _pack(zeros, bits))

    def _offset_block(self, tensor: TensorInfo) -> int:
        raw = np.asarray(tensor.data.reshape(tensor.rows, -1)[:1]).view(np.uint8)
        return int(grid_of(tensor.qtype, raw, tensor.columns, tensor.name).offset_block)

    def embedding(self, name: str, tensor: TensorInfo, shared: Product | None = None) -> Embedding:
        """The token embedding table, read by a Gather (float) or GatherBlockQuantized."""
        v, k = tensor.rows, tensor.columns
        if self.kept(tensor):
            ggml_type = ggml_ops.HELD_TYPES[tensor.type_name]
            if shared is not None and shared.kind == "blocks":  # a tied output projection: the same bytes
                return Embedding("blocks", shared.inputs, ggml_type=ggml_type, interleave=shared.interleave)
            return Embedding("blocks", self._blocks(name, [tensor], product=False).inputs, ggml_type=ggml_type)
        bits, block, has_offsets = self.home(tensor)
        if self.half or (bits, block) == FLOAT_HOME[:2]:
            if shared is not None and shared.kind == "float":
                return Embedding("float", shared.inputs)
            table, offset, row = self._region(f"{name}.weight", self.float_type, (v, k))
            for first, raw in self.source.chunks(tensor):
                self._write(offset + first * row, self._values(tensor, raw))
            self._count(tensor, v * row)
            return Embedding("float", (table,))
        blocks, zero_width = k // block, -(-(k // block) * bits // 8)
        if shared is not None and shared.kind == "nbits" and not shared.sum_copies:
            # A tied output projection: the same bytes, seen as a [V, K] table.
            parts = [(f"{name}.data", (v, k * bits // 8)), (f"{name}.scales", (v, blocks))]
            if len(shared.inputs) > 2:
                parts.append((f"{name}.zero_points", (v, zero_width)))
            for source_name, (new, dims) in zip(shared.inputs, parts, strict=True):
                self._alias(source_name, new, dims)
            return Embedding("nbits", tuple(new for new, _ in parts), bits, block)
        regions = self._grid_regions(name, v, k, bits, block, stored_zero_points=has_offsets, table=True)
        offsets_name, offsets_at, offsets_row, offset_block = None, 0, 0, 0
        if has_offsets:
            offset_block = self._offset_block(tensor)
            offsets_name, offsets_at, offsets_row = self._region(f"{name}.offsets", np.float32, (v, k // offset_block))
        for first, raw in self.source.chunks(tensor):
            grid = grid_of(tensor.qtype, raw, k, tensor.name)
            self._write_grid(regions, first, grid.levels, grid.scales, grid.zero_points)
            if offsets_name is not None and grid.offsets is not None:
                self._write(offsets_at + first * offsets_row, grid.offsets.astype(np.float32))
        self._count(tensor, v * (regions.row_bytes + offsets_row))
        return Embedding("nbits", regions.inputs, bits, block, offsets_name, offset_block)

    @property
    def float_type(self) -> Any:
        return np.float16 if self.half else np.float32

    def _values(self, tensor: TensorInfo, raw: np.ndarray, dtype: Any = None) -> np.ndarray:
        """A chunk of a tensor's rows as floats (of the written type unless `dtype` says): a
        quantized one dequantized as llama.cpp's dequantization gives it (the GPU variant
        then rounds it to float16)."""
        k = tensor.columns
        if tensor.type_name in FLOAT_TYPES:
            values = floats_of(tensor.qtype, raw, k)
        else:
            values = dequantize_grid(grid_of(tensor.qtype, raw, k, tensor.name))
        return values.astype(dtype or self.float_type)

    def _alias(self, source: str, name: str, dims: tuple[int, ...]) -> None:
        original = next(t for t in self.initializers if t.name == source)
        alias = type(original)()
        alias.CopyFrom(original)
        alias.name = name
        del alias.dims[:]
        alias.dims.extend(dims)
        self.initializers.append(alias)

    def _count(self, tensor: TensorInfo, written: int, again: bool = False) -> None:
        """Count a tensor as written; `again`: more bytes written for a tensor already counted."""
        report = self.report.setdefault(tensor.type_name, TypeReport())
        report.written_bytes += written
        if again:
            return
        report.tensors += 1
        report.weights += tensor.rows * tensor.columns
        report.file_bytes += tensor.n_bytes
        bits, block, offsets = self.home(tensor)
        report.home = "float32" if block == 0 else f"{bits}-bit, block {block}" + (" + offsets" if offsets else "")
        if self.half:
            report.home = "float16 (dequantized)"
        elif self.kept(tensor):
            report.home = "the file's own blocks (Inkwell's operators)"
        self.on_tensor(tensor)


def _with_offset_rows(
    grid: BlockGrid, bits: int, block: int, offset_block: int, width: int, copies: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Levels [n, K'], scales and zero points [n, K'/block] of W, then R's rows (if any)."""
    scales, zeros = grid.scales.astype(np.float32), grid.zero_points.astype(np.uint8)
    if not copies:
        return grid.levels, scales, zeros
    if grid.offsets is None or grid.offset_block != offset_block:
        raise UserError(
            translate("Errors", "A grid's offsets changed shape within one matrix ({first} vs {second}).").format(
                first=grid.offset_block, second=offset_block
            )
        )
    n = grid.levels.shape[0]
    r = np.zeros((n, width), np.float32)
    r[:, : grid.offsets.shape[1]] = grid.offsets
    groups = r.reshape(n, width // block, block)
    step = np.abs(groups).max(axis=2) / 127.0
    step = np.where(step == 0, 1.0, step).astype(np.float32)
    code = (np.clip(np.rint(groups / step[..., None]), -127, 127) + 128).astype(np.uint8).reshape(n, width)
    if copies == 1:  # an 8-bit matrix holds the code as it is
        extra_levels, extra_scales, extra_zeros = [code], [step], [np.full(step.shape, 128, np.uint8)]
    else:  # two 4-bit digits: 16·step·(high − 8) + step·low = step·(code − 128)
        extra_levels = [code >> 4, code & 15]
        extra_scales = [step * 16, step]
        extra_zeros = [np.full(step.shape, 8, np.uint8), np.zeros(step.shape, np.uint8)]
    return (
        np.concatenate([grid.levels, *extra_levels], axis=1),
        np.concatenate([scales, *extra_scales], axis=1),
        np.concatenate([zeros, *extra_zeros], axis=1),
    )


def _pack(values: np.ndarray, bits: int) -> np.ndarray:
    """Rows of levels (or per-block zero points) as MatMulNBits stores them: 8 bits as they
    are, 4 bits two to a byte, low nibble first, each row padded to whole bytes."""
    values = values.astype(np.uint8, copy=False)
    if bits == 8:
        return values
    if values.shape[1] % 2:
        values = np.concatenate([values, np.zeros((values.shape[0], 1), np.uint8)], axis=1)
    packed: np.ndarray = values[:, 0::2] | (values[:, 1::2] << 4)
    return packed


def _interleavable(members: list[TensorInfo]) -> bool:
    return all(t.type_name in ggml_ops.INTERLEAVED_TYPES and t.rows % ggml_ops.INTERLEAVE == 0 for t in members)


def _in_eights(chunks: Iterator[tuple[int, np.ndarray]]) -> Iterator[tuple[int, np.ndarray]]:
    """(first row, rows) chunks regrouped so that each holds whole groups of eight rows
    (the last one too: the tensor's rows are a multiple of eight)."""
    held: list[np.ndarray] = []
    start = 0
    for first, raw in chunks:
        if not held:
            start = first
        held.append(raw)
        rows = sum(len(part) for part in held)
        whole = rows - rows % ggml_ops.INTERLEAVE
        if whole:
            joined = held[0] if len(held) == 1 else np.concatenate(held)
            yield start, joined[:whole]
            held = [joined[whole:]] if whole < rows else []
            start += whole
    if held:
        raise RuntimeError("a tensor's rows did not come in whole groups of eight")
