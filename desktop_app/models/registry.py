"""Which prepared models are installed, where, and which one is the default."""

from __future__ import annotations

import builtins
import logging
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

from desktop_app.core.errors import ModelNotFoundError, UserError
from desktop_app.core.i18n import marked, translate
from desktop_app.core.manifest import MANIFEST_NAME, ModelManifest
from desktop_app.core.paths import bundled_models_dir, user_models_dir

log = logging.getLogger(__name__)

DEFAULT_MODEL_ID = "smollm2-135m-instruct"
CHAT, EMBEDDING = "chat", "embedding"  # what a model is for (ModelManifest.kind)
MODELS_DIR_ENV = "INKWELL_MODELS_DIR"


@dataclass(frozen=True)
class InstalledModel:
    manifest: ModelManifest
    directory: Path
    size_bytes: int

    @property
    def id(self) -> str:
        return self.manifest.id

    def details(self) -> list[tuple[str, str]]:
        """What the models page and `inkwell models list --json` show, as (label, value); in the
        window's language (English on the command line)."""
        manifest, extra, source = self.manifest, self.manifest.extra, self.manifest.source
        if manifest.kind == EMBEDDING:
            return self._embedding_details()
        rows = [(translate("ModelDetails", "Architecture"), manifest.architecture)]
        if extra.get("parameters"):
            rows.append(
                (
                    translate("ModelDetails", "Parameters"),
                    translate("ModelDetails", "{count} billion").format(count=f"{int(extra['parameters']) / 1e9:.2f}"),
                )
            )
        mix = extra.get("quant_mix")
        if isinstance(mix, dict) and mix:
            rows.append(
                (translate("ModelDetails", "Tensors by type"), ", ".join(f"{k} × {v}" for k, v in sorted(mix.items())))
            )
        where = {v.quantization: "GPU" if "cuda" in v.providers else "CPU" for v in manifest.variants}
        rows.append((translate("ModelDetails", "Runs as"), ", ".join(f"{q} ({on})" for q, on in where.items())))
        rows.append(
            (
                translate("ModelDetails", "Context"),
                translate("ModelDetails", "{count} tokens").format(count=f"{manifest.context_length:,}"),
            )
        )
        chat = (
            translate("ModelDetails", "base model: it continues text")
            if manifest.is_base_model
            else translate("ModelDetails", "follows a chat template")
        )
        rows.append((translate("ModelDetails", "Chat"), chat))
        rows.append((translate("ModelDetails", "Size on disk"), f"{self.size_bytes / 1e6:,.1f} MB"))
        if source.get("file"):
            rows.append((translate("ModelDetails", "Made from"), str(source.get("path") or source["file"])))
        if source.get("sha256"):
            rows.append((translate("ModelDetails", "Source sha256"), str(source["sha256"])))
        rows.append((translate("ModelDetails", "Folder"), str(self.directory)))
        return rows

    def _embedding_details(self) -> list[tuple[str, str]]:
        manifest, extra = self.manifest, self.manifest.extra
        rows = [
            (
                translate("ModelDetails", "Used for"),
                translate("ModelDetails", "searching your documents by meaning, beside their words"),
            ),
            (translate("ModelDetails", "Architecture"), manifest.architecture),
            (translate("ModelDetails", "Vector size"), str(extra.get("dimensions", "?"))),
            (translate("ModelDetails", "Pooling"), str(extra.get("pooling", "mean"))),
            (
                translate("ModelDetails", "Longest passage read"),
                translate("ModelDetails", "{count} tokens").format(count=f"{manifest.context_length:,}"),
            ),
            (translate("ModelDetails", "Runs as"), ", ".join(v.quantization for v in manifest.variants)),
            (translate("ModelDetails", "Size on disk"), f"{self.size_bytes / 1e6:,.1f} MB"),
        ]
        if manifest.source.get("file"):
            rows.append(
                (translate("ModelDetails", "Made from"), str(manifest.source.get("path") or manifest.source["file"]))
            )
        rows.append((translate("ModelDetails", "Folder"), str(self.directory)))
        return rows

    def as_dict(self, default_id: str | None) -> dict[str, object]:
        return {
            "id": self.id,
            "kind": self.manifest.kind,
            "name": self.manifest.name,
            "default": self.id == default_id,
            "architecture": self.manifest.architecture,
            "context_length": self.manifest.context_length,
            "quantizations": [v.quantization for v in self.manifest.variants],
            "size_bytes": self.size_bytes,
            "path": str(self.directory),
            "base_model": self.manifest.is_base_model,
            "source": self.manifest.source,
            "details": dict(self.details()),
        }


# The model setting is a model id, or "id:quantization" where the user picked the weights.
WEIGHTS_SEPARATOR = ":"
WEIGHTS_NOTES = {
    "q4": marked("ModelDetails", "fastest"),
    "q8": marked("ModelDetails", "closest to the original weights"),
}


def split_model_setting(setting: str | None) -> tuple[str | None, str | None]:
    """(model id or None for the default, quantization or None for automatic)."""
    model_id, _, quantization = (setting or "").partition(WEIGHTS_SEPARATOR)
    return model_id or None, quantization or None


def model_options(models: list[InstalledModel]) -> list[tuple[str, str]]:
    """(setting, label) for each model; models with more than one CPU variant (q4 and q8,
    say) also get one entry per variant, so the user can trade speed for faithfulness."""
    options = []
    for model in models:
        label = f"{model.manifest.name} ({model.id})"
        options.append((model.id, label))
        cpu = [v.quantization for v in model.manifest.variants if "cpu" in v.providers]
        if len(cpu) > 1:
            for quantization in cpu:
                note = WEIGHTS_NOTES.get(quantization)
                weights = translate("ModelDetails", "{quantization} weights").format(quantization=quantization)
                weights += f", {translate('ModelDetails', note)}" if note else ""
                options.append((f"{model.id}{WEIGHTS_SEPARATOR}{quantization}", f"{label}, {weights}"))
    return options


class ModelRegistry:
    """Models found in a list of folders; an id found earlier in the list wins."""

    def __init__(self, roots: list[Path]) -> None:
        self.roots = roots

    def list(self, kind: str | None = CHAT) -> list[InstalledModel]:
        """The installed models of `kind` (chat models unless asked; None: every kind)."""
        return [m for m in self.all() if kind is None or m.manifest.kind == kind]

    def all(self) -> builtins.list[InstalledModel]:
        found: dict[str, InstalledModel] = {}
        for root in self.roots:
            if not root.is_dir():
                continue
            for directory in sorted(root.iterdir()):
                # dot-folders are preparations in progress (or abandoned): never models
                if directory.name.startswith(".") or not (directory / MANIFEST_NAME).is_file():
                    continue
                model = self._load(directory)
                if model is not None and model.id not in found:
                    found[model.id] = model
        return list(found.values())

    @staticmethod
    def _load(directory: Path) -> InstalledModel | None:
        try:
            manifest = ModelManifest.read(directory)
        except UserError as exc:
            log.warning("Skipping %s: %s", directory, exc)
            return None
        missing = [f for v in manifest.variants for f in v.files if not (directory / f).is_file()]
        if missing or not (directory / "tokenizer.json").is_file() or not manifest.variants:
            log.warning("Skipping %s: files missing (%s)", directory, ", ".join(missing) or "tokenizer.json")
            return None
        size = sum(f.stat().st_size for f in directory.iterdir() if f.is_file())
        return InstalledModel(manifest, directory, size)

    def default_id(self, preferred: str | None = None) -> str | None:
        ids = [m.id for m in self.list()]
        for candidate in (preferred, DEFAULT_MODEL_ID):
            if candidate and candidate in ids:
                return candidate
        return ids[0] if ids else None

    def delete(self, model_id: str) -> None:
        """Remove a model's folder: renamed to a hidden name first, so that a deletion cut
        short never leaves something that looks like a model."""
        model = self.get(model_id, kind=None)
        if not os.access(model.directory.parent, os.W_OK):
            raise UserError(
                translate("Errors", "{name} ships with Inkwell and cannot be deleted.").format(name=model.manifest.name)
            )
        doomed = model.directory.with_name(f".deleting-{model.directory.name}")
        try:
            if doomed.exists():
                shutil.rmtree(doomed)
            model.directory.rename(doomed)
            shutil.rmtree(doomed)
        except OSError as exc:
            raise UserError(
                translate("Errors", "The model {model} could not be deleted: {error}.").format(
                    model=model_id, error=exc
                )
            ) from None

    def get(self, model_id: str | None = None, kind: str | None = CHAT) -> InstalledModel:
        models = {m.id: m for m in self.list(kind)}
        chosen = model_id or self.default_id()
        if chosen is None:
            raise ModelNotFoundError(
                translate("Errors", "No model is prepared yet."),
                hint=translate("Errors", "Prepare the default model with: inkwell models prepare (or make run)."),
            )
        if chosen not in models:
            other = next((m for m in self.all() if m.id == chosen), None)
            if other is not None:
                what = (
                    translate(
                        "Errors",
                        "{model} is an embedding model: it searches your documents by meaning, it does not write.",
                    )
                    if other.manifest.kind == EMBEDDING
                    else translate("Errors", "{model} is a chat model, not an embedding model.")
                )
                raise ModelNotFoundError(
                    what.format(model=chosen),
                    hint=translate("Errors", "`inkwell models list` shows what each model is for."),
                )
            have = ", ".join(sorted(models)) or translate("Errors", "none")
            raise ModelNotFoundError(
                translate("Errors", "The model {model} is not installed.").format(model=repr(chosen)),
                hint=translate("Errors", "Installed models: {names}.").format(names=have),
            )
        return models[chosen]


def is_source_checkout(models_dir: Path) -> bool:
    return not getattr(sys, "frozen", False) and (models_dir.parent / "pyproject.toml").is_file()


def default_registry() -> ModelRegistry:
    """INKWELL_MODELS_DIR if set; else the user's models, then onnx_models/ (checkout or bundle)."""
    override = os.environ.get(MODELS_DIR_ENV)
    if override:
        return ModelRegistry([Path(override).expanduser()])
    return ModelRegistry([user_models_dir(), bundled_models_dir()])


def default_output_dir() -> Path:
    """Where `models prepare` and `models import` write by default."""
    override = os.environ.get(MODELS_DIR_ENV)
    if override:
        return Path(override).expanduser()
    bundled = bundled_models_dir()
    if is_source_checkout(bundled) and os.access(bundled, os.W_OK):
        return bundled
    return user_models_dir()
