"""Sentence-embedding models (for searching documents by meaning): a Hugging Face folder of
a BERT-family encoder becomes an installed ONNX model with 8-bit weights.

optimum exports the encoder for feature extraction (a hidden state per token); the pooling
and the query and passage prefixes come from the folder's sentence-transformers files
(modules.json, 1_Pooling/config.json, config_sentence_transformers.json) and go into the
manifest, where the engine's Embedder reads them. The 8-bit graph is kept only where its
vectors agree with the exported graph's; otherwise the exported (fp32) graph is installed.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import marked, translate
from desktop_app.core.manifest import ModelManifest, ModelVariant
from desktop_app.engine.embeddings import Embedder
from desktop_app.models.export import export_onnx, run_tool, tool_versions
from desktop_app.models.workspace import (
    ModelSource,
    Steps,
    fsync_tree,
    install,
    sha256_of,
    workspace,
)

log = logging.getLogger(__name__)

EMBEDDING_KIND = "embedding"
# Encoders that optimum exports for feature extraction and that sentence-embedding models
# are built on (MiniLM, BGE, GTE and E5 are BERT; multilingual ones XLM-RoBERTa; MPNet).
ENCODER_TYPES = ("bert", "roberta", "xlm-roberta", "distilbert", "mpnet", "electra", "camembert")
LARGE_GRAPH_BYTES = 1_800_000_000  # past this an ONNX file keeps its weights beside it (protobuf's 2 GB)
MIN_AGREEMENT = 0.99  # cosine of the 8-bit graph's vectors to the exported graph's, at worst
CHECK_SENTENCES = (
    "How do I reset the router to its factory settings?",
    "Refunds are paid within 14 days of the return reaching our warehouse.",
    "The quick brown fox jumps over the lazy dog.",
    "Notes from the meeting: the budget for next year is approved.",
)


def read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(translate("Errors", "{path} cannot be read: {error}.").format(path=path, error=exc)) from None
    return data if isinstance(data, dict) else {}


def is_embedding_folder(folder: Path) -> bool:
    """A sentence-embedding model: an encoder with the sentence-transformers files, or an
    encoder saved as the bare model (BertModel), not one with a head for masked words."""
    config = read_json(folder / "config.json")
    if config.get("model_type") not in ENCODER_TYPES:
        return False
    if (folder / "modules.json").is_file():
        return True
    architectures = config.get("architectures") or []
    return any(isinstance(a, str) and a.endswith("Model") for a in architectures)


def sentence_settings(folder: Path) -> dict[str, Any]:
    """Pooling, longest input and prefixes, from the sentence-transformers files (mean
    pooling and the encoder's own length where the folder has none)."""
    config = read_json(folder / "config.json")
    modules = (
        json.loads((folder / "modules.json").read_text(encoding="utf-8")) if (folder / "modules.json").is_file() else []
    )
    pooling = "mean"
    for module in modules if isinstance(modules, list) else []:
        kind = str(module.get("type", ""))
        if kind.endswith(".Dense"):
            raise UserError(
                translate(
                    "Errors", "{folder} adds a dense layer after pooling, which Inkwell does not run yet."
                ).format(folder=folder.name),
                hint=translate(
                    "Errors", "Models such as all-MiniLM-L6-v2, bge-small-en-v1.5 and multilingual-e5-small work."
                ),
            )
        if kind.endswith(".Pooling"):
            pool = read_json(folder / str(module.get("path", "1_Pooling")) / "config.json")
            if pool.get("pooling_mode_cls_token"):
                pooling = "cls"
            elif pool.get("pooling_mode_max_tokens") and not pool.get("pooling_mode_mean_tokens"):
                pooling = "max"
            elif pool.get("pooling_mode_lasttoken") or pool.get("pooling_mode_weightedmean_tokens"):
                raise UserError(
                    translate("Errors", "{folder} pools its tokens in a way Inkwell does not run yet.").format(
                        folder=folder.name
                    )
                )
    limits = [int(config.get("max_position_embeddings") or 512)]
    sentence = read_json(folder / "sentence_bert_config.json")
    if sentence.get("max_seq_length"):
        limits.append(int(sentence["max_seq_length"]))
    if config.get("model_type") in ("roberta", "xlm-roberta", "camembert"):
        limits[0] -= 2  # their positions start after the padding index
    prompts = read_json(folder / "config_sentence_transformers.json").get("prompts") or {}
    return {
        "pooling": pooling,
        "max_tokens": max(8, min(limits)),
        "dimensions": int(config.get("hidden_size") or 0),
        "query_prefix": str(prompts.get("query", "")),
        "passage_prefix": str(prompts.get("document", prompts.get("passage", ""))),
        "model_type": str(config.get("model_type")),
    }


def prepare_embedding(
    source: ModelSource,
    output_root: Path,
    model_id: str,
    name: str,
    progress: Callable[[int, int, str], None],
    cancel: threading.Event | None,
) -> Path:
    """Export, quantize, check and install; the installed folder."""
    settings = sentence_settings(source.path)
    total = 4
    advance = Steps(total, progress, cancel).advance

    destination = output_root / model_id
    with workspace(output_root, model_id) as work:
        advance(translate("Preparation", "Exporting {model} for feature extraction").format(model=source.label))
        export_dir = work / "export"
        # the hidden states for feature extraction; the pooling is the Embedder's
        run_tool(
            marked("Errors", "export the embedding model"),
            lambda: export_onnx(source.path, export_dir, "feature-extraction"),
        )
        if not (export_dir / "tokenizer.json").is_file():
            raise UserError(
                translate("Errors", "{label} has no fast tokenizer (tokenizer.json), which Inkwell needs.").format(
                    label=source.label
                )
            )
        advance(translate("Preparation", "Making the 8-bit variant"))
        final = work / "final"
        final.mkdir()
        variant, agreement = run_tool(
            marked("Errors", "make the 8-bit variant"), lambda: _variant(export_dir, final, settings)
        )
        advance(translate("Preparation", "Writing the manifest"))
        for extra in ("tokenizer.json", "tokenizer_config.json", "config.json", "special_tokens_map.json"):
            if (export_dir / extra).is_file():
                shutil.copy2(export_dir / extra, final / extra)
        manifest = ModelManifest(
            id=model_id,
            name=name,
            architecture=settings["model_type"],
            context_length=settings["max_tokens"],
            chat_template=None,
            special_tokens={},
            source={"kind": source.kind, "file": source.path.name, "sha256": source.sha256,
                    "size_bytes": source.size_bytes},
            variants=(variant,),
            tools=tool_versions(),
            created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            extra={
                "kind": EMBEDDING_KIND,
                "pooling": settings["pooling"],
                "dimensions": settings["dimensions"],
                "query_prefix": settings["query_prefix"],
                "passage_prefix": settings["passage_prefix"],
                "agreement": round(agreement, 5),
            },
        )  # fmt: skip
        manifest.write(final)
        fsync_tree(final)
        advance(translate("Preparation", "Installing"))
        install(final, destination)
    progress(total, total, translate("Preparation", "Ready: {model}").format(model=model_id))
    return destination


def _variant(export_dir: Path, final: Path, settings: dict[str, Any]) -> tuple[ModelVariant, float]:
    """The 8-bit graph, or the exported one where 8 bits would move the vectors; with the
    worst cosine between the two graphs' vectors of the check sentences.

    8 bits here are ONNX Runtime's dynamic quantization (int8 weights per output channel,
    activations quantized per batch, integer matrix products), not the MatMulNBits blocks
    of the chat models: an encoder multiplies whole batches of tokens, where integer GEMM
    is fastest. Measured on the benchmark's MiniLM-shaped model on 2 AVX2 cores: 1.4x
    the fp32 graph, 2.2x MatMulNBits' 8 bits, a quarter of the size, vectors within
    0.9999 cosine of the fp32 graph's."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    exported = export_dir / "model.onnx"
    if not exported.is_file():
        raise UserError(translate("Errors", "The exporter wrote no model.onnx."))
    large = sum(f.stat().st_size for f in export_dir.iterdir() if f.is_file()) > LARGE_GRAPH_BYTES
    candidate = final / "model.q8.onnx"
    logging.disable(logging.WARNING)  # its advice to pre-process goes to the root logger, for every user
    try:
        quantize_dynamic(
            str(exported),
            str(candidate),
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul"],
            use_external_data_format=large,
        )
    finally:
        logging.disable(logging.NOTSET)
    agreement = _agreement(exported, candidate, export_dir, settings)
    quantization = "q8"
    if agreement < MIN_AGREEMENT:
        log.warning("8-bit vectors agree only to %.4f; installing the exported fp32 graph", agreement)
        for path in list(final.iterdir()):
            path.unlink()
        for path in export_dir.iterdir():  # the graph and its weights, if they are beside it
            if path.suffix in (".onnx", ".onnx_data", ".data") or path.name.endswith(".onnx.data"):
                shutil.copy2(path, final / ("model.fp32.onnx" if path == exported else path.name))
        candidate = final / "model.fp32.onnx"
        quantization = "fp32"
    files = [f for f in final.iterdir() if f.is_file() and f.name != "tokenizer.json"]
    data = next((f for f in files if f != candidate), None)
    variant = ModelVariant(
        file=candidate.name,
        quantization=quantization,
        providers=("cpu",),
        size_bytes=sum(f.stat().st_size for f in files),
        sha256=sha256_of(sorted(files)),
        data_file=data.name if data is not None else None,
    )
    return variant, agreement


def _agreement(reference: Path, candidate: Path, export_dir: Path, settings: dict[str, Any]) -> float:
    def manifest_for(path: Path) -> ModelManifest:
        variant = ModelVariant(path.name, "check", ("cpu",), 0, "")
        return ModelManifest(
            "check", "check", settings["model_type"], settings["max_tokens"], None, {}, {}, (variant,), {}, "",
            extra={"pooling": settings["pooling"], "dimensions": settings["dimensions"]},
        )  # fmt: skip

    shutil.copy2(export_dir / "tokenizer.json", candidate.parent / "tokenizer.json")
    a = Embedder(reference.parent, manifest_for(reference), threads=1).embed(CHECK_SENTENCES)
    b = Embedder(candidate.parent, manifest_for(candidate), threads=1).embed(CHECK_SENTENCES)
    return float(np.min(np.sum(a * b, axis=1)))
