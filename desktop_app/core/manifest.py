"""The manifest written beside a prepared model: what it was built from, and how to run it."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate

MANIFEST_NAME = "manifest.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class ModelVariant:
    """One ONNX file of a model: a quantization meant for some execution providers."""

    file: str
    quantization: str  # "q4", "q8", "fp16", "fp32"
    providers: tuple[str, ...]  # "cpu", "cuda": where this variant is the preferred one
    size_bytes: int
    sha256: str
    # The weights, beside the graph: ONNX Runtime maps them from disk instead of holding a
    # parsed copy in memory (-57 MB for q4). None for a model whose weights are inside `file`.
    data_file: str | None = None

    @property
    def files(self) -> tuple[str, ...]:
        return (self.file,) if self.data_file is None else (self.file, self.data_file)


@dataclass(frozen=True)
class ModelManifest:
    id: str
    name: str
    architecture: str
    context_length: int
    chat_template: str | None
    special_tokens: dict[str, Any]
    source: dict[str, Any]
    variants: tuple[ModelVariant, ...]
    tools: dict[str, str]
    created: str
    format_version: int = FORMAT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """ "chat" (a language model that writes), or "embedding" (turns text into vectors
        for searching documents by meaning)."""
        return str(self.extra.get("kind", "chat"))

    @property
    def is_base_model(self) -> bool:
        """A model that continues text rather than following a chat (no chat template, or
        the preparation said so)."""
        return bool(self.extra.get("base_model", self.chat_template is None))

    @property
    def stop_token_ids(self) -> tuple[int, ...]:
        return tuple(int(t) for t in self.special_tokens.get("stop_token_ids", ()))

    def variant(self, quantization: str) -> ModelVariant | None:
        return next((v for v in self.variants if v.quantization == quantization), None)

    def to_json(self) -> str:
        data = asdict(self)
        data["variants"] = [asdict(v) | {"providers": list(v.providers)} for v in self.variants]
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"

    def write(self, directory: Path) -> Path:
        path = directory / MANIFEST_NAME
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    @classmethod
    def read(cls, directory: Path) -> ModelManifest:
        path = directory / MANIFEST_NAME
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise UserError(
                translate("Errors", "{directory} is not a prepared model: it has no {file}.").format(
                    directory=directory, file=MANIFEST_NAME
                )
            ) from None
        except (OSError, ValueError) as exc:
            raise UserError(
                translate("Errors", "The model manifest {path} cannot be read: {error}.").format(path=path, error=exc)
            ) from None
        return cls.from_dict(data, path)

    @classmethod
    def from_dict(cls, data: Any, where: Path | str = "manifest") -> ModelManifest:
        if not isinstance(data, dict):
            raise UserError(translate("Errors", "The model manifest {where} is not a JSON object.").format(where=where))
        version = data.get("format_version", FORMAT_VERSION)
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise UserError(
                translate(
                    "Errors", "The model manifest {where} was written by a newer Inkwell (format {version})."
                ).format(where=where, version=version),
                hint=translate("Errors", "Update Inkwell, or prepare the model again with this version."),
            )
        try:
            variants = tuple(
                ModelVariant(
                    file=str(v["file"]),
                    quantization=str(v["quantization"]),
                    providers=tuple(v.get("providers", ())),
                    size_bytes=int(v["size_bytes"]),
                    sha256=str(v["sha256"]),
                    data_file=str(v["data_file"]) if v.get("data_file") else None,
                )
                for v in data["variants"]
            )
            return cls(
                id=str(data["id"]),
                name=str(data.get("name", data["id"])),
                architecture=str(data["architecture"]),
                context_length=int(data["context_length"]),
                chat_template=data.get("chat_template"),
                special_tokens=dict(data.get("special_tokens", {})),
                source=dict(data.get("source", {})),
                variants=variants,
                tools=dict(data.get("tools", {})),
                created=str(data.get("created", "")),
                format_version=version,
                extra=dict(data.get("extra", {})),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise UserError(
                translate("Errors", "The model manifest {where} is incomplete or malformed ({error}).").format(
                    where=where, error=repr(exc)
                )
            ) from None
