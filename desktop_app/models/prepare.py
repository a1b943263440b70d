"""Preparing models: a GGUF file or a Hugging Face folder becomes an installed ONNX model folder.

prepare_model runs the steps in order, reporting progress and honouring cancellation
between them: check the source and the room on disk (workspace.py), load and export it
and make each variant (export.py), describe the result in a manifest (its chat template
and the tokens that end a reply, found here), and move it into place (workspace.py).
"""

from __future__ import annotations

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
from desktop_app.engine.providers import (
    ORT_NAMES,
    cuda_libraries_wanted,
    cuda_unavailable_reason,
    gpu_memory_bytes,
    preload_cuda_libraries,
)
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
from desktop_app.models.hf_import import chat_template_of, import_hf, special_tokens, views_of
from desktop_app.models.hf_import import read_json as _read_json
from desktop_app.models.hf_source import HFFolder, streams
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
    gpu_variant: bool | None = None,
    route: str = "auto",
) -> Path:
    """Build `output_root/<model_id>` from a GGUF file or a Hugging Face folder. From a GGUF
    file, the fp16 variant for the CUDA provider is made when asked (`gpu_variant`), or by
    default (None) when fp16 is among the quantizations and this machine's GPU can run it
    (gpu_variant_refusal); so from a Hugging Face folder of an architecture the table knows,
    in safetensors, which streams as a GGUF file does (hf_import.py). Other folders, or
    any with `route="export"`, go through optimum's exporter."""
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
    streaming = (
        source.kind == "hf" and route == "auto" and not is_embedding_folder(source.path) and streams(source.path)
    )
    require_export_extra("gguf" if streaming else source.kind)
    output_root.mkdir(parents=True, exist_ok=True)
    clean_stale_partials(output_root)
    gpu_note = "not asked for"
    if (source.kind == "gguf" or streaming) and gpu_variant is None:
        refusal = gpu_variant_refusal(source.path) if "fp16" in quantizations else "fp16 was not asked for"
        gpu_variant, gpu_note = refusal is None, refusal or ""
    if streaming:
        # Each CPU variant at its home's bits, the GPU's at two bytes a weight; the memory
        # to run it is the first CPU variant's.
        views = views_of(source.path, quantizations, bool(gpu_variant))
        check_memory_for(source.label, estimate_output(views[0][1]) + (64 << 20))
        needed = sum(estimate_half_output(v) if half else estimate_output(v) for _, v, half in views) + (64 << 20)
    elif source.kind == "gguf":
        # The file's grids, plus scales, zero points and offsets, and the tokenizer; the
        # memory to run it is the CPU variant's (the GPU variant runs from the GPU's).
        check_memory_for(source.label, estimate_gguf_output(source.path) + (64 << 20))
        needed = estimate_gguf_output(source.path, bool(gpu_variant)) + (64 << 20)
        skipped = [q for q in quantizations if q not in (VARIANT, "fp16")]
        if skipped:
            log.info(
                "From a GGUF file the q4 variant (the file's own grids) is made, and fp16 for a GPU; not %s", skipped
            )
    else:
        needed = export_needs_bytes(source, quantizations)
    check_disk_space(output_root, needed)
    offline_environment()
    if source.kind == "hf" and is_embedding_folder(source.path):
        return _guard_disk(lambda: prepare_embedding(source, output_root, model_id, name or source.label, progress,
                                                     cancel))  # fmt: skip
    if source.kind == "gguf" or streaming:
        return _prepare_streaming(
            source, output_root, model_id, name or source.label, quantizations, bool(gpu_variant), gpu_note, progress,
            cancel,
        )  # fmt: skip

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


def _prepare_streaming(
    source: ModelSource,
    output_root: Path,
    model_id: str,
    name: str,
    quantizations: tuple[str, ...],
    gpu_variant: bool,
    gpu_note: str,
    progress: Progress,
    cancel: threading.Event | None,
) -> Path:
    """The GGUF route (gguf_import.py: the file's own grids) or a Hugging Face folder's
    (hf_import.py: its floats, rounded as `quantizations` ask), built tensor by tensor, and
    with `gpu_variant` the same tensors as float16 for the CUDA provider (else `gpu_note` says why not)."""
    destination = output_root / model_id
    try:
        with workspace(output_root, model_id) as work:
            final = work / "final"
            final.mkdir()
            if source.kind == "gguf":
                import_gguf(source, final, model_id, name, progress, cancel, gpu_variant=gpu_variant, gpu_note=gpu_note)
            else:
                import_hf(source, final, model_id, name, quantizations, progress, cancel, gpu_variant, gpu_note)
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


def cuda_loads() -> bool:
    """Whether the CUDA provider really loads here (its CUDA and cuDNN libraries found): a
    one-node session is opened with it. Takes a second or two, for CUDA's start."""
    import onnxruntime as ort
    from onnx import TensorProto, helper

    value = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "probe", [value], [value])
    graph.output[0].name = "y"
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
    preload_cuda_libraries()
    options = ort.SessionOptions()
    options.log_severity_level = 4
    try:
        session = ort.InferenceSession(model.SerializeToString(), options, [ORT_NAMES["cuda"], ORT_NAMES["cpu"]])
    except Exception as exc:
        log.debug("The CUDA provider did not load: %s", exc)
        return False
    return bool(session.get_providers()[0] == ORT_NAMES["cuda"])


def gpu_variant_refusal(path: Path) -> str | None:
    """Why no fp16 variant is made by default for this GGUF file here, or None: one is made
    where the CUDA provider loads and the GPU holds its weights (two bytes each) and a
    gigabyte besides. The variant decoded 2-10x the CPU variant's speed on an H200 machine
    (bench/RESULTS.md, providers)."""
    why_not = cuda_unavailable_reason()
    if why_not is not None:
        return why_not
    if not cuda_loads():
        return f"the CUDA provider did not load (the {cuda_libraries_wanted()} libraries were not found)"
    tensors = (GGUFFile(path) if path.is_file() else HFFolder(path)).tensors
    needed = 2 * sum(t.rows * t.columns for t in tensors.values()) + (1 << 30)
    memory = gpu_memory_bytes()
    if memory is None or memory < needed:
        have = "unknown" if memory is None else f"{memory / 1e9:.1f} GB"
        return f"the GPU's memory ({have}) is less than its float16 weights need ({needed / 1e9:.1f} GB)"
    return None


def estimate_gguf_output(path: Path, gpu_variant: bool = False) -> int:
    return estimate_output(GGUFFile(path), gpu_variant)


def estimate_output(source: Any, gpu_variant: bool = False) -> int:
    """Bytes an import of `source` (a GGUFFile or HFFolder) writes, from the headers alone:
    each tensor at its home's bits per weight, and a quarter more for what the graph adds
    around them (block-sum rows, tables for the embedding; 13% on a Q4_K_M test file); the
    GPU variant, two bytes a weight."""
    total = half = 0
    for tensor in source.tensors.values():
        count = tensor.rows * tensor.columns
        half += 2 * count
        if is_supported(tensor.qtype):
            total += int(count * home_bits_per_weight(tensor.qtype) / 8)
        else:
            total += tensor.n_bytes  # refused later with its name; count it as it is
    return total * 5 // 4 + (half if gpu_variant else 0)


def estimate_half_output(source: Any) -> int:
    """Bytes of a GPU variant alone: two a weight."""
    return int(2 * sum(t.rows * t.columns for t in source.tensors.values()))


def prepare_default(
    output_root: Path,
    force: bool = False,
    progress: Progress = _noop_progress,
    cancel: threading.Event | None = None,
    quantizations: tuple[str, ...] = DEFAULT_QUANTIZATIONS,
    gpu_variant: bool | None = None,
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
        gpu_variant=gpu_variant,
    )


def _manifest(
    model_id: str, name: str, source: ModelSource, export_dir: Path, variants: list[ModelVariant], attention: str
) -> ModelManifest:
    config = _read_json(export_dir / "config.json")
    template = chat_template_of(export_dir)
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
