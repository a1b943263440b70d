"""Settings › Model › Speed-up: speculative decoding as the user chose it, applied to a
loaded engine (the window, `inkwell ask`, the API server share it), and the installed
models that can be a draft for another (the same vocabulary, smaller)."""

from __future__ import annotations

import functools
import logging
from pathlib import Path
from typing import Any

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.engine.loading import load_draft
from desktop_app.engine.speculation import SpeculationSettings, vocabulary_hash
from desktop_app.engine.tokenizer import Tokenizer
from desktop_app.models.registry import InstalledModel, ModelRegistry
from desktop_app.session.settings import ModelChoice

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=32)
def _vocabulary_of(tokenizer_file: Path, _modified: float) -> str:
    return vocabulary_hash(Tokenizer(tokenizer_file))


def vocabulary_of(model: InstalledModel) -> str | None:
    """The model's vocabulary fingerprint; None where its tokenizer cannot be read."""
    path = model.directory / "tokenizer.json"
    try:
        return _vocabulary_of(path, path.stat().st_mtime)
    except (OSError, UserError):
        return None


def _size(model: InstalledModel) -> int:
    """The bytes a token reads: the CPU variant's size (a lower quantization of the same
    model is smaller, and a valid draft)."""
    cpu = [v.size_bytes for v in model.manifest.variants if "cpu" in v.providers]
    return min(cpu) if cpu else 0


def draft_choices(registry: ModelRegistry, target_id: str | None) -> list[ModelChoice]:
    """The installed models that can propose tokens for `target_id`'s: the same vocabulary
    and smaller (a draft as large as the model saves nothing)."""
    try:
        target = registry.get(target_id)
    except UserError:
        return []
    wanted = vocabulary_of(target)
    size = _size(target)
    found = []
    for model in registry.list():
        if model.id == target.id or vocabulary_of(model) != wanted or wanted is None:
            continue
        if size and _size(model) >= size:
            continue
        found.append(ModelChoice(model.id, f"{model.manifest.name} ({model.id})"))
    return found


def apply_speedup(engine: Any, mode: str, draft_id: str, registry: ModelRegistry, threads: int | None = None) -> str:
    """Set `engine`'s speculation; a sentence saying what runs (the status bar's tooltip).
    A draft that cannot be used leaves lookup running and says why; a remote engine (which
    has no speculation of its own) is left alone."""
    if not hasattr(engine, "speculation"):
        return ""
    if mode == "off":
        engine.speculation = SpeculationSettings("off")
        return translate("Speedup", "Speed-up is off.")
    if not engine.model.verifies:
        engine.speculation = SpeculationSettings("off")
        return translate(
            "Speedup",
            "This model was prepared before speed-up existed: import it again to check several tokens at once.",
        )
    if not getattr(engine, "checks_exactly", True):
        engine.speculation = SpeculationSettings("off")
        return translate(
            "Speedup",
            "Speed-up is off for this model: some of its weights (or the GPU) run on ONNX Runtime's kernels, "
            "where checked tokens could come out slightly unlike decoded ones, and speed-up never changes a reply.",
        )
    draft = None
    note = translate("Speedup", "Speed-up: tokens looked up in the prompt and the reply are checked several at a time.")
    if mode == "auto" and draft_id:
        try:
            draft = load_draft(registry.get(draft_id).directory, engine, threads)
            note = translate("Speedup", "Speed-up: lookup, and {draft} as the draft model.").format(draft=draft.name)
        except UserError as problem:
            log.warning("The draft model %s is not used: %s", draft_id, problem)
            note = translate("Speedup", "Speed-up: lookup only. The draft model is not used: {reason}").format(
                reason=str(problem)
            )
    engine.speculation = SpeculationSettings(mode, draft)
    return note
