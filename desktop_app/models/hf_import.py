"""The streaming route for Hugging Face folders: safetensors become the GGUF route's graph.

A folder of a decoder that the architecture table knows (hf_source.streams) is read
mapped, a chunk of rows at a time, through the same builder and weight writer as a GGUF
file (gguf_import.Conversion), so memory stays near one chunk whatever the model's size
and no torch, transformers or optimum is loaded. Its variants:
- q4: matrices rounded to Q4_0, the embedding and output projection to Q8_0;
- q8: everything rounded to Q8_0;
- fp32: the weights as float32; fp16 (for the CUDA provider): as float16.
Q4_0 and Q8_0 are read by Inkwell's operators where they are built, by MatMulNBits
otherwise. The tokenizer, its special tokens and the chat template are the folder's own.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from dataclasses import replace
from pathlib import Path
from typing import Any

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.core.manifest import ModelManifest
from desktop_app.models.architectures import is_local_layer, shape_of
from desktop_app.models.gguf_import import ACCURACY_LEVEL, Conversion, Progress, View, capped_shape, finish, model_extra
from desktop_app.models.gguf_tokenizer import end_of_turn_tokens
from desktop_app.models.hf_source import ROUNDING, HFFolder
from desktop_app.models.workspace import ModelSource

log = logging.getLogger(__name__)

FLOAT_VARIANTS = ("fp32",)  # CPU variants of the stored floats; fp16 is the GPU's
GPU_VARIANT = "fp16"
COPIED = ("tokenizer.json", "tokenizer_config.json", "generation_config.json", "config.json", "chat_template.jinja")


def cpu_variants(quantizations: tuple[str, ...]) -> list[str]:
    return [q for q in quantizations if q in ROUNDING or q in FLOAT_VARIANTS]


def views_of(path: Path, quantizations: tuple[str, ...], gpu_variant: bool) -> list[View]:
    views: list[View] = [(q, HFFolder(path, q if q in ROUNDING else None), False) for q in cpu_variants(quantizations)]
    if gpu_variant:
        views.append((GPU_VARIANT, HFFolder(path), True))
    if not views:
        raise UserError(
            translate("Errors", "None of the asked variants ({asked}) can be made here.").format(
                asked=", ".join(quantizations)
            ),
            hint=translate("Errors", "Ask for q4, q8 or fp32."),
        )
    return views


def import_hf(
    source: ModelSource,
    folder: Path,
    model_id: str,
    name: str,
    quantizations: tuple[str, ...],
    progress: Progress,
    cancel: threading.Event | None = None,
    gpu_variant: bool = False,
    gpu_note: str = "not asked for",
    keep_blocks: bool = True,
    accuracy_level: int = ACCURACY_LEVEL,
) -> ModelManifest:
    """Write the model's variants, its tokenizer and manifest into `folder` (an empty workspace)."""
    views = views_of(source.path, quantizations, gpu_variant)
    first: HFFolder = views[0][1]
    arch, config = first.arch, first.config
    shape = shape_of(arch, first.scalar_fields(), first.tensors["token_embd.weight"].rows)
    if config.get("query_pre_attn_scalar"):  # Gemma says its query scale outright
        shape = replace(shape, query_width=float(config["query_pre_attn_scalar"]))
    layer_types = config.get("layer_types")
    if isinstance(layer_types, list) and len(layer_types) == shape.layers:
        local = [is_local_layer(arch, shape, i) for i in range(shape.layers)]
        if local != [kind == "sliding_attention" for kind in layer_types]:
            raise UserError(
                translate(
                    "Errors", "This {model_type} model's pattern of sliding-window layers is not the one Inkwell knows."
                ).format(model_type=config.get("model_type"))
            )
    shape, context_note = capped_shape(first, shape)
    template = copy_tokenizer(source.path, folder)
    # The fp32 variant holds the folder's floats as float32 (keep_floats: no two-byte reads).
    conversion = Conversion(
        arch, shape, folder, progress, cancel, accuracy_level, keep_blocks=keep_blocks, keep_floats=False
    )
    variants, writer = conversion.write(views)
    log.info("Converted %s in %.1f s", source.path.name, conversion.seconds)
    rounded = {
        q: f"matrices {ROUNDING[q][0]}, the embedding and output projection {ROUNDING[q][1]} (rounded by Inkwell)"
        for q, _, _ in views
        if q in ROUNDING
    }
    extra = {
        **model_extra(first, shape, writer, context_note),
        "route": "hf",
        "stored_types": dict(sorted(first.stored_types.items())),
        "rounded": rounded,
    }
    special = special_tokens(folder, template)
    note = None if gpu_variant else gpu_note
    return finish(folder, conversion, model_id, name, source, arch, template, special, variants, extra, note)


def copy_tokenizer(source: Path, folder: Path) -> str | None:
    """Copy the tokenizer and its settings; return the chat template. A folder with only a
    SentencePiece model gets its tokenizer.json made by transformers, where it is installed."""
    for name in COPIED:
        if (source / name).is_file():
            shutil.copy2(source / name, folder / name)
    if not (folder / "tokenizer.json").is_file():
        made = _converted_tokenizer(source, folder)
        if not made:
            raise UserError(
                translate("Errors", "{label} has no fast tokenizer (tokenizer.json), which Inkwell needs.").format(
                    label=source.name
                )
            )
    return chat_template_of(folder)


def _converted_tokenizer(source: Path, folder: Path) -> bool:
    try:
        from transformers import AutoTokenizer
    except ImportError:
        return False
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(source), use_fast=True)  # type: ignore[no-untyped-call]
        scratch = folder / "tokenizer-made"
        tokenizer.save_pretrained(str(scratch))
    except Exception:  # a tokenizer transformers cannot make fast: said as a missing tokenizer.json
        log.warning("transformers could not make a fast tokenizer of %s", source, exc_info=True)
        return False
    made = scratch / "tokenizer.json"
    if made.is_file():
        made.replace(folder / "tokenizer.json")
    shutil.rmtree(scratch, ignore_errors=True)
    return (folder / "tokenizer.json").is_file()


def read_json(path: Path) -> dict[str, Any]:
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
    tok_config = read_json(export_dir / "tokenizer_config.json")
    gen_config = read_json(export_dir / "generation_config.json")
    model_config = read_json(export_dir / "config.json")
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


def chat_template_of(export_dir: Path) -> str | None:
    jinja = export_dir / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    template = read_json(export_dir / "tokenizer_config.json").get("chat_template")
    if isinstance(template, list):  # several named templates: take the default one
        template = next((t.get("template") for t in template if t.get("name") == "default"), None)
    return template if isinstance(template, str) else None
