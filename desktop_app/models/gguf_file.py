"""Reading a GGUF file memory-mapped: its metadata, and its tensors a few rows at a time.

The header (metadata and tensor descriptions) is parsed here with struct from the mapped
file: gguf.GGUFReader makes a numpy view for every string, which takes seconds for a
49k-token vocabulary and tens of seconds for Llama 3's. Tensor rows are numpy views of
the mapping, read (paged in) only when asked for, so a model of any size is converted
in the memory of the largest chunk. Everything a damaged or unexpected file can do
wrong (a truncated file, tensors that overlap or run past its end, a type unknown to
the gguf package, a malformed header) becomes a UserError that names it.
(Layout: github.com/ggml-org/ggml docs/gguf.md; little-endian files, versions 2 and 3.)
"""

from __future__ import annotations

import contextlib
import itertools
import mmap
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import marked, translate
from desktop_app.models.ggml_types import GGML_QUANT_SIZES, GGMLQuantizationType

# Rows are read in chunks of about this many bytes of the file.
CHUNK_BYTES = 32 << 20

# Metadata arrays that only the tokenizer reads (tens of thousands of strings).
_TOKENIZER_ARRAYS = (
    "tokenizer.ggml.tokens",
    "tokenizer.ggml.scores",
    "tokenizer.ggml.token_type",
    "tokenizer.ggml.merges",
)
# GGUF value types: struct formats of the numeric ones; 7 is bool, 8 string, 9 array
_NUMBERS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 10: "Q", 11: "q", 12: "d"}
_BOOL, _STRING, _ARRAY = 7, 8, 9
_DAMAGED = marked("Errors", "The file may be incomplete (download it again) or damaged.")


@dataclass(frozen=True)
class TensorInfo:
    name: str
    qtype: Any  # GGMLQuantizationType
    dims: tuple[int, ...]  # numpy order: (rows, columns) for a matrix
    n_bytes: int
    offset: int  # in the file
    data: np.ndarray  # a view of the mapped file: [rows, bytes a row] (uint8) or floats

    @property
    def rows(self) -> int:
        return self.dims[0] if len(self.dims) > 1 else 1

    @property
    def columns(self) -> int:
        return self.dims[-1]

    @property
    def type_name(self) -> str:
        return str(self.qtype.name)


class _Header:
    """A cursor over the mapped header; running past the end reads as truncation."""

    def __init__(self, buffer: Any, name: str) -> None:
        self.buffer, self.at, self.name = buffer, 0, name

    def take(self, fmt: str) -> Any:
        try:
            (value,) = struct.unpack_from("<" + fmt, self.buffer, self.at)
        except struct.error:
            raise UserError(
                translate("Errors", "{file} is truncated: its header ends early.").format(file=self.name),
                hint=translate("Errors", _DAMAGED),
            ) from None
        self.at += struct.calcsize("<" + fmt)
        return value

    def string(self) -> str:
        size = self.take("Q")
        if self.at + size > len(self.buffer):
            raise UserError(
                translate("Errors", "{file} is truncated: its header ends early.").format(file=self.name),
                hint=translate("Errors", _DAMAGED),
            )
        raw = bytes(self.buffer[self.at : self.at + size])
        self.at += size
        return raw.decode("utf-8", errors="replace")

    def value(self, kind: int) -> Any:
        if kind in _NUMBERS:
            return self.take(_NUMBERS[kind])
        if kind == _BOOL:
            return bool(self.take("B"))
        if kind == _STRING:
            return self.string()
        if kind == _ARRAY:
            inner, count = self.take("I"), self.take("Q")
            if inner in _NUMBERS:  # numbers at once
                dtype = np.dtype("<" + _NUMBERS[inner])
                end = self.at + count * dtype.itemsize
                if end > len(self.buffer):
                    raise UserError(
                        translate("Errors", "{file} is truncated: its header ends early.").format(file=self.name),
                        hint=translate("Errors", _DAMAGED),
                    )
                values = np.frombuffer(self.buffer, dtype, count, self.at).tolist()
                self.at = end
                return values
            return [self.value(inner) for _ in range(count)]
        raise UserError(
            translate("Errors", "{file} has metadata of an unknown kind ({kind}).").format(file=self.name, kind=kind),
            hint=translate("Errors", _DAMAGED),
        )


class GGUFFile:
    def __init__(self, path: Path) -> None:

        self.path = path
        with path.open("rb") as handle:
            try:
                self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError:  # an empty file
                raise UserError(
                    translate("Errors", "{file} is empty.").format(file=path.name), hint=translate("Errors", _DAMAGED)
                ) from None
        header = _Header(self._map, path.name)
        if bytes(self._map[:4]) != b"GGUF":
            raise UserError(
                translate("Errors", "{file} is not a GGUF file (it does not start with the GGUF signature).").format(
                    file=path.name
                )
            )
        header.at = 4
        version = header.take("I")
        if version not in (2, 3):
            raise UserError(
                translate(
                    "Errors", "{file} is GGUF version {version}, which Inkwell cannot read (2 and 3 it can)."
                ).format(file=path.name, version=version)
            )
        tensor_count, field_count = header.take("Q"), header.take("Q")
        self.fields: dict[str, Any] = {}
        for _ in range(field_count):
            key = header.string()
            self.fields[key] = header.value(header.take("I"))
        described = []
        for _ in range(tensor_count):
            name = header.string()
            dims = tuple(header.take("Q") for _ in range(header.take("I")))
            described.append((name, dims, header.take("I"), header.take("Q")))
        alignment = self.fields.get("general.alignment", 32)
        if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
            raise UserError(
                translate("Errors", "{file} gives an impossible alignment ({alignment}).").format(
                    file=path.name, alignment=alignment
                ),
                hint=translate("Errors", _DAMAGED),
            )
        start = -(-header.at // alignment) * alignment
        self._data = np.frombuffer(self._map, np.uint8)
        self.tensors: dict[str, TensorInfo] = {}
        for name, ggml_dims, code, offset in described:
            try:
                qtype = GGMLQuantizationType(code)
            except ValueError:
                raise UserError(
                    translate(
                        "Errors", "{file} holds tensors of an unknown GGUF type ({code}), such as {name}."
                    ).format(file=path.name, code=code, name=name),
                    hint=translate(
                        "Errors", "The file may come from a newer llama.cpp than Inkwell knows, or be damaged."
                    ),
                ) from None
            block, size = GGML_QUANT_SIZES[qtype]
            dims = tuple(int(d) for d in reversed(ggml_dims)) or (1,)
            if any(d <= 0 for d in dims) or dims[-1] % block:
                raise UserError(
                    translate("Errors", "Tensor {name} of {file} has an impossible shape {shape}.").format(
                        name=name, file=path.name, shape=list(dims)
                    ),
                    hint=translate("Errors", _DAMAGED),
                )
            count = int(np.prod(dims, dtype=np.int64))
            n_bytes = count // block * size
            at = start + offset
            if at + n_bytes > len(self._map):
                raise UserError(
                    translate("Errors", "{file} is truncated: tensor {name} runs past its end.").format(
                        file=path.name, name=name
                    ),
                    hint=translate("Errors", _DAMAGED),
                )
            raw = self._data[at : at + n_bytes].reshape(max(1, count // dims[-1]), -1)
            float_type = {"F32": np.float32, "F16": np.float16}.get(qtype.name)
            data = raw.view(float_type) if float_type is not None else raw
            self.tensors[name] = TensorInfo(name, qtype, dims, n_bytes, at, data)
        self._check_overlaps()

    def _check_overlaps(self) -> None:
        spans = sorted((t.offset, t.offset + t.n_bytes, t.name) for t in self.tensors.values())
        for (_, end, name), following in itertools.pairwise(spans):
            if following[0] < end:
                raise UserError(
                    translate(
                        "Errors",
                        "{file} is inconsistent: tensor {name} overlaps {other} (their sizes disagree with their shapes).",
                    ).format(file=self.path.name, name=name, other=following[2]),
                    hint=translate("Errors", _DAMAGED),
                )

    @property
    def total_tensor_bytes(self) -> int:
        return sum(t.n_bytes for t in self.tensors.values())

    def field(self, key: str, default: Any = None) -> Any:
        """One metadata value as Python (a str, number, bool or list), or `default`."""
        return self.fields.get(key, default)

    def scalar_fields(self) -> dict[str, Any]:
        """Every metadata value but the tokenizer's long arrays."""
        return {k: v for k, v in self.fields.items() if k not in _TOKENIZER_ARRAYS}

    def chunks(self, tensor: TensorInfo) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, raw bytes [rows, bytes a row] as uint8) over the tensor, chunk by chunk.

        After the tensor its pages are let go (MADV_DONTNEED), so that what was read does
        not stay resident in this process (the kernel keeps it cached)."""
        rows = tensor.rows
        raw = tensor.data.view(np.uint8).reshape(rows, -1)
        step = max(1, CHUNK_BYTES // max(1, raw.shape[1]))
        for start in range(0, rows, step):
            yield start, raw[start : start + step]
        self.release(tensor)

    def release(self, tensor: TensorInfo) -> None:
        start = tensor.offset - tensor.offset % mmap.PAGESIZE
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self._map.madvise(mmap.MADV_DONTNEED, start, tensor.offset + tensor.n_bytes - start)
