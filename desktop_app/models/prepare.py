"""Preparing models: a GGUF file or a Hugging Face folder becomes an installed ONNX model folder.

prepare_model runs the steps in order, reporting progress and honouring cancellation
between them: check the source and the room on disk (workspace.py), load and export it
and make each variant (export.py), describe the result in a manifest (its chat template
and the tokens that end a reply, found here), and move it into place (workspace.py).
"""

from __future__ import annotations

import json
import logging
import shutil
import sys
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import marked, translate
from desktop_app.core.manifest import ModelManifest, ModelVariant
from desktop_app.models.embedding_export import is_embedding_folder, prepare_embedding
from desktop_app.models.export import (
    build_variants,
    export_onnx,
    load_as_hf_folder,
    offline_environment,
    require_export_extra,
    run_tool,
    tool_versions,
)
from desktop_app.models.gguf_blocks import home_bits_per_weight, is_supported
from desktop_app.models.gguf_file import GGUFFile
from desktop_app.models.gguf_import import VARIANT, import_gguf
from desktop_app.models.gguf_tokenizer import end_of_turn_tokens
from desktop_app.models.onnx_tools import QUANTIZATIONS
from desktop_app.models.registry import DEFAULT_MODEL_ID
from desktop_app.models.workspace import (
    ModelSource,
    Steps,
    check_disk_space,
    check_memory_for,
    clean_stale_partials,
    export_needs_bytes,
    fsync_tree,
    inspect_source,
    install,
    locate_default_gguf,
    model_id_from,
    workspace,
)

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
DEFAULT_QUANTIZATIONS = ("q4", "fp16")


def _noop_progress(step: int, total: int, message: str) -> None:
    log.info("[%d/%d] %s", step, total, message)


def prepare_model(
    source_path: Path,
    output_root: Path,
    model_id: str | None = None,
    name: str | None = None,
    quantizations: tuple[str, ...] = DEFAULT_QUANTIZATIONS,
    force: bool = False,
    progress: Progress = _noop_progress,
    cancel: threading.Event | None = None,
) -> Path:
    """Build `output_root/<model_id>` from a GGUF file or a Hugging Face folder."""
    unknown = [q for q in quantizations if q not in QUANTIZATIONS]
    if unknown or not quantizations:
        raise UserError(
            translate("Errors", "Unknown quantization {unknown}.").format(unknown=unknown),
            hint=translate("Errors", "Choose from: {choices}.").format(choices=", ".join(QUANTIZATIONS)),
        )
    source = inspect_source(source_path)
    model_id = model_id_from(model_id or source.label)
    destination = output_root / model_id
    if destination.exists() and not force:
        raise UserError(
            translate("Errors", "A model named {model} is already installed in {folder}.").format(
                model=repr(model_id), folder=output_root
            ),
            hint=translate("Errors", "Use --force to replace it."),
        )
    require_export_extra(source.kind)
    output_root.mkdir(parents=True, exist_ok=True)
    clean_stale_partials(output_root)
    if source.kind == "gguf":
        # The file's grids, plus scales, zero points and offsets, and the tokenizer.
        needed = estimate_gguf_output(source.path) + (64 << 20)
        check_memory_for(source.label, needed)
    else:
        needed = export_needs_bytes(source, quantizations)
    check_disk_space(output_root, needed)
    offline_environment()
    if source.kind == "hf" and is_embedding_folder(source.path):
        return _guard_disk(lambda: prepare_embedding(source, output_root, model_id, name or source.label, progress,
                                                     cancel))  # fmt: skip
    if source.kind == "gguf":
        return _prepare_gguf(source, output_root, model_id, name or source.label, quantizations, progress, cancel)

    total = 4 + len(quantizations)
    advance = Steps(total, progress, cancel).advance

    try:
        with workspace(output_root, model_id) as work:
            advance(translate("Preparation", "Loading {model}").format(model=source.label))
            hf_folder = run_tool(marked("Errors", "load the model"), lambda: load_as_hf_folder(source, work / "hf"))
            advance(translate("Preparation", "Exporting to ONNX with a KV cache (the slowest step)"))
            export_dir = work / "export"
            run_tool(marked("Errors", "export the model to ONNX"), lambda: export_onnx(hf_folder, export_dir))
            if not (export_dir / "tokenizer.json").is_file():
                raise UserError(
                    translate("Errors", "{label} has no fast tokenizer (tokenizer.json), which Inkwell needs.").format(
                        label=source.label
                    )
                )
            final = work / "final"
            final.mkdir()
            variants, attention = build_variants(export_dir, final, quantizations, advance)
            advance(translate("Preparation", "Writing the manifest"))
            manifest = _manifest(model_id, name or source.label, source, export_dir, variants, attention)
            for extra in ("tokenizer.json", "tokenizer_config.json", "config.json", "generation_config.json"):
                if (export_dir / extra).is_file():
                    shutil.copy2(export_dir / extra, final / extra)
            manifest.write(final)
            fsync_tree(final)
            install(final, destination)
            progress(total, total, translate("Preparation", "Ready: {model}").format(model=model_id))
    except OSError as exc:
        if exc.errno == 28:  # ENOSPC
            raise UserError(
                translate("Errors", "The disk filled up while preparing the model; nothing was installed.")
            ) from None
        raise
    return destination


def _prepare_gguf(
    source: ModelSource,
    output_root: Path,
    model_id: str,
    name: str,
    quantizations: tuple[str, ...],
    progress: Progress,
    cancel: threading.Event | None,
) -> Path:
    """The GGUF route (gguf_import.py): the file's own grids, built tensor by tensor."""
    skipped = [q for q in quantizations if q != VARIANT]
    if skipped:
        log.info("From a GGUF file only the %s variant (the file's own grids) is made; not %s", VARIANT, skipped)
    destination = output_root / model_id
    try:
        with workspace(output_root, model_id) as work:
            final = work / "final"
            final.mkdir()
            import_gguf(source, final, model_id, name, progress, cancel)
            fsync_tree(final)
            install(final, destination)
    except OSError as exc:
        if exc.errno == 28:  # ENOSPC
            raise UserError(
                translate("Errors", "The disk filled up while preparing the model; nothing was installed.")
            ) from None
        raise
    return destination


def _guard_disk(action: Callable[[], Path]) -> Path:
    try:
        return action()
    except OSError as exc:
        if exc.errno == 28:  # ENOSPC
            raise UserError(
                translate("Errors", "The disk filled up while preparing the model; nothing was installed.")
            ) from None
        raise


def estimate_gguf_output(path: Path) -> int:
    """Bytes the import writes, from the header alone: each tensor at its home's bits per
    weight, and a quarter more for what the graph adds around them (block-sum rows,
    tables for the embedding; 13% on a Q4_K_M test file)."""
    source = GGUFFile(path)
    total = 0
    for tensor in source.tensors.values():
        count = tensor.rows * tensor.columns
        if is_supported(tensor.qtype):
            total += int(count * home_bits_per_weight(tensor.qtype) / 8)
        else:
            total += tensor.n_bytes  # refused later with its name; count it as it is
    return total * 5 // 4


def prepare_default(
    output_root: Path,
    force: bool = False,
    progress: Progress = _noop_progress,
    cancel: threading.Event | None = None,
    quantizations: tuple[str, ...] = DEFAULT_QUANTIZATIONS,
) -> Path:
    if getattr(sys, "frozen", False):  # the default's source file is not bundled, its prepared model is
        raise UserError(
            translate(
                "Errors", "The installed app carries the default model ready to run, but not the file it is built from."
            ),
            hint=translate("Errors", "To run another model, import its GGUF file: inkwell models import FILE.gguf"),
        )
    require_export_extra("gguf")
    return prepare_model(
        locate_default_gguf(),
        output_root,
        model_id=DEFAULT_MODEL_ID,
        name="SmolLM2-135M-Instruct",
        quantizations=quantizations,
        force=force,
        progress=progress,
        cancel=cancel,
    )


def _manifest(
    model_id: str, name: str, source: ModelSource, export_dir: Path, variants: list[ModelVariant], attention: str
) -> ModelManifest:
    config = _read_json(export_dir / "config.json")
    template = _chat_template(export_dir)
    return ModelManifest(
        id=model_id,
        name=name,
        architecture=str(config.get("model_type", "unknown")),
        context_length=int(config.get("max_position_embeddings") or 2048),
        chat_template=template,
        special_tokens=special_tokens(export_dir, template),
        source={
            "kind": source.kind,
            "file": source.path.name,
            "sha256": source.sha256,
            "size_bytes": source.size_bytes,
        },
        variants=tuple(variants),
        tools=tool_versions(),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        extra={
            "num_layers": config.get("num_hidden_layers"),
            "hidden_size": config.get("hidden_size"),
            "num_key_value_heads": config.get("num_key_value_heads"),
            "vocab_size": config.get("vocab_size"),
            "attention": attention,
        },
    )


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _token_text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) and value else None


def special_tokens(export_dir: Path, chat_template: str | None) -> dict[str, Any]:
    """bos/eos and the ids that end a reply: eos, generation_config's eos ids, end-of-turn."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(export_dir / "tokenizer.json"))
    tok_config = _read_json(export_dir / "tokenizer_config.json")
    gen_config = _read_json(export_dir / "generation_config.json")
    model_config = _read_json(export_dir / "config.json")
    bos, eos = _token_text(tok_config.get("bos_token")), _token_text(tok_config.get("eos_token"))
    stop_ids: list[int] = []
    for source in (gen_config.get("eos_token_id"), model_config.get("eos_token_id")):
        for token_id in source if isinstance(source, list) else [source]:
            if isinstance(token_id, int) and token_id not in stop_ids:
                stop_ids.append(token_id)
    candidates = [eos, *end_of_turn_tokens(chat_template)]
    for text in candidates:
        token_id = tokenizer.token_to_id(text) if text else None
        if token_id is not None and token_id not in stop_ids:
            stop_ids.append(token_id)
    return {
        "bos_token": bos,
        "eos_token": eos,
        "stop_token_ids": stop_ids,
        "stop_tokens": [tokenizer.id_to_token(i) for i in stop_ids],
    }


def _chat_template(export_dir: Path) -> str | None:
    jinja = export_dir / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    template = _read_json(export_dir / "tokenizer_config.json").get("chat_template")
    if isinstance(template, list):  # several named templates: take the default one
        template = next((t.get("template") for t in template if t.get("name") == "default"), None)
    return template if isinstance(template, str) else None
