"""Reading a GGUF file memory-mapped: its metadata, and its tensors a few rows at a time.

gguf.GGUFReader maps the file and describes each tensor without reading it; the rows of
a tensor are read (paged in) only when asked for, so a model of any size is read in the
memory of the largest chunk. Everything a damaged or unexpected file can do wrong
(a truncated file, tensors that overlap or run past its end, a type this gguf package
does not know, metadata of the wrong kind) becomes a UserError that names it.
"""

from __future__ import annotations

import contextlib
import mmap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.core.errors import UserError

# Rows are read in chunks of about this many bytes of the file.
CHUNK_BYTES = 32 << 20

# Metadata arrays that are read only by the tokenizer (tens of thousands of strings).
_TOKENIZER_ARRAYS = (
    "tokenizer.ggml.tokens",
    "tokenizer.ggml.scores",
    "tokenizer.ggml.token_type",
    "tokenizer.ggml.merges",
)


@dataclass(frozen=True)
class TensorInfo:
    name: str
    qtype: Any  # gguf.GGMLQuantizationType
    dims: tuple[int, ...]  # numpy order: (rows, columns) for a matrix
    n_bytes: int
    data: np.ndarray  # a view of the mapped file

    @property
    def rows(self) -> int:
        return self.dims[0] if len(self.dims) > 1 else 1

    @property
    def columns(self) -> int:
        return self.dims[-1]

    @property
    def type_name(self) -> str:
        return str(self.qtype.name)


class GGUFFile:
    def __init__(self, path: Path) -> None:
        import gguf

        self.path = path
        try:
            self._reader = gguf.GGUFReader(path)
        except ValueError as exc:
            text = str(exc)
            if "GGMLQuantizationType" in text:
                number = text.split()[0]
                raise UserError(
                    f"{path.name} holds tensors of an unknown GGUF type ({number}).",
                    hint="The file may come from a newer llama.cpp than Inkwell knows, or be damaged.",
                ) from None
            if "reshape" in text:  # the mapped file ends before its tensors do
                raise UserError(f"{path.name} is truncated: its tensors run past its end.", hint=_DAMAGED) from None
            raise UserError(f"{path.name} cannot be read as a GGUF file: {_cause(exc)}.", hint=_DAMAGED) from None
        except (KeyError, IndexError, OSError, TypeError, UnicodeDecodeError) as exc:
            raise UserError(f"{path.name} cannot be read as a GGUF file: {_cause(exc)}.", hint=_DAMAGED) from None
        self.tensors: dict[str, TensorInfo] = {}
        for t in self._reader.tensors:
            dims = tuple(int(d) for d in reversed(t.shape.tolist()))
            self.tensors[t.name] = TensorInfo(t.name, t.tensor_type, dims, int(t.n_bytes), t.data)
        self._check_layout()

    def _check_layout(self) -> None:
        size = self.path.stat().st_size
        spans = sorted((t.data_offset, t.data_offset + int(t.n_bytes), t.name) for t in self._reader.tensors)
        for (_start, end, name), following in zip(spans, [*spans[1:], None], strict=True):
            if end > size:
                raise UserError(f"{self.path.name} is truncated: tensor {name} runs past its end.", hint=_DAMAGED)
            if following is not None and following[0] < end:
                raise UserError(
                    f"{self.path.name} is inconsistent: tensor {name} overlaps {following[2]} "
                    "(their sizes disagree with their shapes).",
                    hint=_DAMAGED,
                )

    @property
    def total_tensor_bytes(self) -> int:
        return sum(t.n_bytes for t in self.tensors.values())

    def field(self, key: str, default: Any = None) -> Any:
        """One metadata value as Python (a str, number, bool or list), or `default`."""
        found = self._reader.fields.get(key)
        if found is None:
            return default
        try:
            value = found.contents()
        except (ValueError, IndexError, UnicodeDecodeError) as exc:
            raise UserError(f"The metadata {key} of {self.path.name} cannot be read: {exc}.") from None
        return value

    def scalar_fields(self) -> dict[str, Any]:
        """Every metadata value but the tokenizer's long arrays."""
        return {
            k: self.field(k) for k in self._reader.fields if k not in _TOKENIZER_ARRAYS and not k.startswith("GGUF.")
        }

    def chunks(self, tensor: TensorInfo) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, raw bytes [rows, bytes a row] as uint8) over the tensor, chunk by chunk.

        After each chunk the file's pages are let go (MADV_DONTNEED), so that what was read
        does not stay resident in this process."""
        rows = tensor.rows
        data = tensor.data.reshape(rows, -1)
        step = max(1, CHUNK_BYTES // max(1, tensor.n_bytes // rows))
        for start in range(0, rows, step):
            part = np.ascontiguousarray(data[start : start + step]).view(np.uint8).reshape(min(step, rows - start), -1)
            yield start, part
        self.release(tensor)

    def release(self, tensor: TensorInfo) -> None:
        backing = getattr(self._reader.data, "_mmap", None)
        if backing is None or not hasattr(backing, "madvise"):
            return
        offset = tensor.data.ctypes.data - self._reader.data.ctypes.data
        start = offset - offset % mmap.PAGESIZE
        with contextlib.suppress(OSError, ValueError):
            backing.madvise(mmap.MADV_DONTNEED, start, offset + tensor.n_bytes - start)


_DAMAGED = "The file may be incomplete (download it again) or damaged."


def _cause(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
