"""The GGUF route: a .gguf file becomes an installed ONNX model folder, tensor by tensor.

The file is mapped, never loaded: the builder (gguf_graph.py) walks the model in order
and each tensor is converted and appended to the external data file as it is met
(gguf_weights.py), so memory stays near one chunk of rows whatever the model's size.
The tokenizer and chat template come from the metadata (gguf_tokenizer.py). Progress is
reported after each tensor, and a cancel is honoured there; everything is written in
the caller's workspace folder, which is moved into place only when complete.

The variant that keeps the file's own grids ("q4") is the one the engine picks on the
CPU. With `gpu_variant`, a second graph ("fp16", for the CUDA provider) is written from
the same tensors dequantized to float16: the CUDA provider has no kernels for the file's
blocks, and running the q4 graph under it would leave its products on the CPU.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.core.manifest import ModelManifest, ModelVariant
from desktop_app.engine import ggml_ops
from desktop_app.models.architectures import CONTEXT_CAP, Architecture, Shape, architecture_of, shape_of
from desktop_app.models.gguf_file import GGUFFile, TensorInfo
from desktop_app.models.gguf_graph import GraphBuilder
from desktop_app.models.gguf_tokenizer import write_tokenizer
from desktop_app.models.gguf_weights import FLOAT_TYPES, WeightWriter
from desktop_app.models.workspace import ModelSource, PreparationCancelled, sha256_of

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
VARIANT = "q4"  # the name the engine's CPU choice and `models check` know the CPU variant by
GPU_VARIANT = "fp16"  # the name the engine's CUDA choice knows the GPU variant by
ACCURACY_LEVEL = 4  # int8 activations in MatMulNBits: ONNX Runtime's fastest CPU path
REPORT_EVERY_S = 0.5
TOOLS = ("onnx", "onnxruntime", "tokenizers")
# The builder's graph, as revised: 2 computes each query row alone (Inkwell's attention),
# so that checked proposals get a decoded token's bits (issue 23); 3 says in the manifest
# whether they do (checked_rows_exact); 4 interleaves the rows of Q4_0..Q8_0 products by
# eights (ggml_ops.interleave), which GgmlMatMul reads 2-2.5 times as fast. `make run`
# prepares the default model again when its graph is older (is_current).
GRAPH_REVISION = 4


def import_gguf(
    source: ModelSource,
    folder: Path,
    model_id: str,
    name: str,
    progress: Progress,
    cancel: threading.Event | None = None,
    accuracy_level: int = ACCURACY_LEVEL,
    refine_output: bool = False,
    keep_blocks: bool = True,
    gpu_variant: bool = False,
    gpu_note: str = "not asked for",
) -> ModelManifest:
    """Write the model, its tokenizer and manifest into `folder` (an empty workspace)."""
    gguf = GGUFFile(source.path)
    arch_name = gguf.field("general.architecture")
    if not isinstance(arch_name, str):
        raise UserError(
            translate("Errors", "{file} does not say its architecture (general.architecture).").format(
                file=source.path.name
            )
        )
    arch = architecture_of(arch_name)
    embedding = gguf.tensors.get("token_embd.weight")
    if embedding is None:
        raise UserError(
            translate("Errors", "{file} has no token embedding (token_embd.weight).").format(file=source.path.name)
        )
    shape, context_note = capped_shape(gguf, shape_of(arch, gguf.scalar_fields(), embedding.rows))
    special, template = write_tokenizer(gguf, folder)
    views: list[View] = [(VARIANT, gguf, False)] + ([(GPU_VARIANT, gguf, True)] if gpu_variant else [])
    conversion = Conversion(arch, shape, folder, progress, cancel, accuracy_level, refine_output, keep_blocks)
    variants, writer = conversion.write(views)
    log.info("Converted %s in %.1f s", source.path.name, conversion.seconds)
    extra = {**model_extra(gguf, shape, writer, context_note), "route": "gguf"}
    if refine_output:  # its first pass over the output runs on MatMulNBits, whose rows differ
        extra["checked_rows_exact"] = False
    note = None if gpu_variant else gpu_note
    return finish(folder, conversion, model_id, name, source, arch, template, special, variants, extra, note)


def finish(
    folder: Path,
    conversion: Conversion,
    model_id: str,
    name: str,
    source: ModelSource,
    arch: Architecture,
    template: str | None,
    special: dict[str, Any],
    variants: list[ModelVariant],
    extra: dict[str, Any],
    gpu_note: str | None,
) -> ModelManifest:
    """Write the manifest of a converted model (`gpu_note`: why it has no GPU variant, or None)."""
    skipped = {} if gpu_note is None else {"skipped_variants": f"no fp16 variant for the GPU: {gpu_note}"}
    manifest = ModelManifest(
        id=model_id,
        name=name,
        architecture=arch.name,
        context_length=conversion.shape.context,
        chat_template=template,
        special_tokens=special,
        source=source_description(source),
        variants=tuple(variants),
        tools=_tool_versions(),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        extra={**extra, **skipped},
    )
    manifest.write(folder)
    progress = conversion.progress
    progress(conversion.total, conversion.total, translate("Preparation", "Wrote the manifest"))
    return manifest


# (variant name, the tensors' source, whether as float16 for the GPU)
View = tuple[str, Any, bool]


def is_current(manifest: ModelManifest) -> bool:
    """Whether a model was built by this builder's graph (an older one still runs)."""
    return bool(manifest.extra.get("graph_revision", 1) >= GRAPH_REVISION)


def capped_shape(source: Any, shape: Shape) -> tuple[Shape, str]:
    """The shape Inkwell runs, and a note on the context it was given."""
    context_note = f"the file's context, capped at {CONTEXT_CAP} tokens to bound the KV cache"
    if "rope_factors_short.weight" in source.tensors:
        # LongRoPE (Phi-3 128k): llama.cpp rotates by the short factors while its context is
        # within the original one, by the long ones beyond. One graph holds one table: the
        # short one, and the context the file was trained at before scaling.
        shape = replace(shape, context=min(shape.context, shape.original_context))
        context_note = (
            f"capped at the file's original context ({shape.original_context}), where its short rope factors apply"
        )
    return shape, context_note


def source_description(source: ModelSource) -> dict[str, Any]:
    return {
        "kind": source.kind,
        "file": source.path.name,
        # Where `models check` finds the file to ask llama.cpp about, while it is there.
        "path": str(source.path.resolve()),
        "sha256": source.sha256,
        "size_bytes": source.size_bytes,
    }


def model_extra(source: Any, shape: Shape, writer: WeightWriter, context_note: str) -> dict[str, Any]:
    """The manifest's details of a model built by the one builder."""
    mix: dict[str, int] = {}
    for tensor in source.tensors.values():
        mix[tensor.type_name] = mix.get(tensor.type_name, 0) + 1
    return {
        "graph_revision": GRAPH_REVISION,
        "num_layers": shape.layers,
        "hidden_size": shape.hidden,
        "num_key_value_heads": shape.kv_heads,
        "vocab_size": shape.vocab,
        "parameters": sum(t.rows * t.columns for t in source.tensors.values()),
        "attention": "GroupQueryAttention",  # its semantics (in place); the operator that runs them:
        "attention_operator": "GgmlAttention" if ggml_ops.available() else "GroupQueryAttention",
        "file_context_length": shape.file_context,
        "context_note": context_note,
        "quant_mix": dict(sorted(mix.items())),
        "homes": _homes(writer),
        # Q4_K/Q5_K/Q6_K read in the file's own blocks by Inkwell's operators (engine/ggml_ops.py)
        "operators": ggml_ops.DOMAIN if any(writer.kept(t) for t in source.tensors.values()) else "onnxruntime",
        "checked_rows_exact": checked_rows_exact(source, writer),
    }


def checked_rows_exact(source: Any, writer: WeightWriter) -> bool:
    """Whether the CPU graph gives each row of a pass the bits that row has alone, so that a
    checked proposal's logits are a decoded token's (greedy speculation is then exact):
    Inkwell's attention, and every matrix on its operators or in float32 (ONNX Runtime's
    float MatMul gives a row the same bits whatever rows come with it; MatMulNBits, where
    Q2_K, Q3_K and IQ4 grids go, computes a lone row by another kernel than several)."""
    return ggml_ops.available() and all(
        writer.kept(t) or t.type_name in FLOAT_TYPES for t in source.tensors.values() if len(t.dims) > 1
    )


@dataclass
class Conversion:
    """Writing one or more variants' graphs and weights, tensor by tensor, with progress
    (tensor n of N, MB/s) and a cancel honoured after each tensor."""

    arch: Architecture
    shape: Shape
    folder: Path
    progress: Progress
    cancel: threading.Event | None
    accuracy_level: int = ACCURACY_LEVEL
    refine_output: bool = False
    keep_blocks: bool = True
    keep_floats: bool = True
    total: int = 0
    seconds: float = 0.0

    def write(self, views: list[View]) -> tuple[list[ModelVariant], WeightWriter]:
        """Each view's variant in order; the first view's writer (for the manifest's homes)."""
        count = sum(len(source.tensors) for _, source, _ in views)
        self.total = count + 2
        self.progress(1, self.total, translate("Preparation", "Read the tokenizer"))
        done = [0, 0]  # tensors, bytes (over every view)
        started = reported = time.perf_counter()

        def on_tensor(tensor: TensorInfo) -> None:
            nonlocal reported
            if self.cancel is not None and self.cancel.is_set():
                raise PreparationCancelled(
                    translate("Errors", "Model preparation was cancelled; nothing was installed.")
                )
            done[0] += 1
            done[1] += tensor.n_bytes
            now = time.perf_counter()
            if now - reported >= REPORT_EVERY_S or done[0] == count:  # a line a tensor floods a terminal
                reported = now
                rate = done[1] / 1e6 / max(now - started, 1e-6)
                self.progress(
                    1 + done[0],
                    self.total,
                    translate("Preparation", "Converted tensor {done} of {count} ({rate} MB/s)").format(
                        done=done[0], count=count, rate=f"{rate:.0f}"
                    ),
                )

        variants, writers = [], []
        for quantization, source, half in views:
            target = self.folder / f"model.{quantization}.onnx"
            data = self.folder / f"{target.name}.data"
            writer = WeightWriter(
                source, data, on_tensor, keep_blocks=self.keep_blocks, keep_floats=self.keep_floats, half=half
            )
            try:
                refine = self.refine_output and not half
                model = GraphBuilder(source, self.arch, self.shape, writer, self.accuracy_level, refine).build()
            finally:
                writer.close()
            _save(model, target)
            files = [target, data]
            variants.append(
                ModelVariant(
                    file=target.name,
                    quantization=quantization,
                    providers=("cuda",) if half else ("cpu",),
                    size_bytes=sum(f.stat().st_size for f in files),
                    sha256=sha256_of(files),
                    data_file=data.name,
                )
            )
            writers.append(writer)
        self.seconds = time.perf_counter() - started
        return variants, writers[0]


def _homes(writer: WeightWriter) -> dict[str, Any]:
    """Per GGUF type: the grid it was given, and bits a weight in the file and as written."""
    homes = {}
    for type_name, report in sorted(writer.report.items()):
        weights = max(report.weights, 1)
        homes[type_name] = {
            "home": report.home,
            "tensors": report.tensors,
            "file_bits_per_weight": round(8 * report.file_bytes / weights, 3),
            "home_bits_per_weight": round(8 * report.written_bytes / weights, 3),
        }
    return homes


def _save(model: Any, target: Path) -> None:
    import onnx

    # Every large tensor already points into the data file; the graph itself is small.
    onnx.save_model(model, str(target))


def _tool_versions() -> dict[str, str]:
    versions = {}
    for package in TOOLS:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return versions
