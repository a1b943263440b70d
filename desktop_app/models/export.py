"""The Hugging Face route from a source to quantized ONNX variants (needs the `export` extra).

transformers loads the weights (its GGUF loader dequantizes GGUF files), optimum exports
a text-generation graph with past key values, the graph is fused (fusion.py) and kept
only if it gives the exported graph's logits, and onnx_tools makes each variant. torch,
transformers, optimum and onnx are imported inside the functions that use them, so
checking for the tools does not load them.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
from collections.abc import Callable, Iterator
from importlib import metadata, util
from pathlib import Path
from typing import Any

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import marked, translate
from desktop_app.core.manifest import ModelVariant
from desktop_app.core.paths import user_models_dir
from desktop_app.engine.onnx_model import AnyKVCache, KVCache, OnnxCausalLM
from desktop_app.models.fusion import fuse_attention, fuse_rms_norms, pack_qkv, pack_shared_inputs
from desktop_app.models.onnx_tools import last_position_logits, quantize, untie_output_projection
from desktop_app.models.workspace import ModelSource, sha256_of

log = logging.getLogger(__name__)

VARIANT_PROVIDERS = {"q4": ("cpu",), "q8": ("cpu",), "fp16": ("cuda",), "fp32": ()}
TOOL_PACKAGES = ("torch", "transformers", "optimum", "optimum-onnx", "onnx", "onnxruntime", "onnxruntime-gpu", "gguf")


def tool_versions() -> dict[str, str]:
    versions = {}
    for package in TOOL_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return versions


def require_export_extra(kind: str = "hf") -> None:
    """The tools a route needs: a GGUF file only onnx (to write the graph; the installed app
    carries it); a Hugging Face folder torch, transformers and optimum as well."""
    needs = ("onnx",) if kind == "gguf" else ("torch", "transformers", "optimum.exporters.onnx", "onnx")
    missing = [m for m in needs if _find(m) is None]
    if not missing:
        return
    if kind == "gguf":
        raise UserError(
            translate("Errors", "Importing GGUF files needs the onnx package, which is not installed."),
            hint=translate("Errors", "Install it with: pip install onnx   (make run does this)"),
        )
    hint = translate("Errors", "Install them with: pip install 'inkwell[export]'   (make run does this)")
    if getattr(sys, "frozen", False):
        hint = translate(
            "Errors",
            "The installed app imports GGUF files (the files LM Studio, Ollama and Jan use) and "
            "Hugging Face folders of Llama, Mistral, Qwen, Gemma and Phi-3 models; other folders "
            "need Inkwell from source. Prepare the model there, then copy the prepared model's "
            "folder into {folder}.",
        ).format(folder=user_models_dir())
    raise UserError(
        translate(
            "Errors", "Preparing models needs the export tools, which are not installed (missing: {missing})."
        ).format(missing=", ".join(missing)),
        hint=hint,
    )


def _find(module: str) -> Any:
    try:
        return util.find_spec(module)
    except ModuleNotFoundError:
        return None


def offline_environment() -> None:
    # Preparation reads local files only; make sure no library reaches for a model hub.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"


def load_as_hf_folder(source: ModelSource, target: Path) -> Path:
    """A Hugging Face folder for the exporter: the source itself, or the GGUF dequantized."""
    if source.kind == "hf":
        return source.path
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(source.path.parent), source.path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)  # type: ignore[no-untyped-call]
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    return target


def export_onnx(hf_folder: Path, target: Path, task: str = "text-generation-with-past") -> None:
    from optimum.exporters.onnx import main_export

    main_export(
        str(hf_folder),
        output=str(target),
        task=task,
        device="cpu",
        library_name="transformers",
        trust_remote_code=False,
    )


def run_tool(what: str, action: Callable[[], Any], **values: object) -> Any:
    """`action()`, its failure a UserError that says Inkwell could not do `what` (marked for
    translation under "Errors", with {placeholders} filled from `values`)."""
    try:
        return action()
    except (UserError, OSError, MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:
        log.exception("Could not %s", what.format(**values))
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise UserError(
            translate("Errors", "Inkwell could not {what}: {first_line}").format(
                what=translate("Errors", what).format(**values), first_line=first_line
            ),
            hint=translate(
                "Errors",
                "The model may be corrupt, or of an architecture the exporter does not support "
                "(Llama-family models, Qwen2 and Phi-3 are known to work).",
            ),
        ) from exc


def build_variants(
    export_dir: Path, final: Path, quantizations: tuple[str, ...], advance: Callable[[str], None]
) -> tuple[list[ModelVariant], str]:
    import onnx

    exported = sorted(export_dir.glob("*.onnx"))
    if len(exported) != 1:
        raise UserError(
            translate("Errors", "The exporter wrote {count} ONNX files where one was expected.").format(
                count=len(exported)
            )
        )
    base, attention = fused_if_equivalent(exported[0], export_dir)
    if not last_position_logits(base):
        log.info("The output projection is not a plain MatMul; logits stay per position")
    variants = []
    for quantization in quantizations:
        advance(translate("Preparation", "Making the {quantization} variant").format(quantization=quantization))
        model = run_tool(
            marked("Errors", "make the {quantization} variant"),
            functools.partial(quantize, base, quantization),
            quantization=quantization,
        )
        target = final / f"model.{quantization}.onnx"
        data = final / f"{target.name}.data"
        # Weights beside the graph: ONNX Runtime maps them instead of keeping a parsed copy.
        onnx.save_model(model, str(target), save_as_external_data=True, location=data.name, size_threshold=1024)
        del model
        files = [target, data] if data.exists() else [target]  # no data file when every tensor is tiny
        variants.append(
            ModelVariant(
                file=target.name,
                quantization=quantization,
                providers=VARIANT_PROVIDERS[quantization],
                size_bytes=sum(f.stat().st_size for f in files),
                sha256=sha256_of(files),
                data_file=data.name if data.exists() else None,
            )
        )
    return variants, attention


def _untied(exported: Path) -> Any:
    import onnx

    model = onnx.load(str(exported))
    log.info("Untied %d output projection(s) from the embeddings", untie_output_projection(model))
    return model


def fused_if_equivalent(exported: Path, export_dir: Path) -> tuple[Any, str]:
    """The attention-fused graph when it gives the same logits as the exported file, else
    the exported graph. One copy of the model is held at a time: the graph is fused in
    place (and read again from the file when the fusion does not hold), and the file's and
    the fused graph's logits are computed one after the other."""
    from transformers import AutoConfig

    model: Any = _untied(exported)
    try:
        config = AutoConfig.from_pretrained(str(export_dir))
        if fuse_attention(model, config):
            packed, shared, norms = pack_qkv(model), pack_shared_inputs(model), fuse_rms_norms(model)
            log.info(
                "Packed q/k/v in %d layers and %d other shared-input groups; fused %d RMS norms", packed, shared, norms
            )
            difference = logits_difference(exported, model, int(config.vocab_size))
            if difference <= FUSION_TOLERANCE:
                log.info("Fused attention into GroupQueryAttention (largest logit difference %.2g)", difference)
                return model, "GroupQueryAttention"
            log.warning("Fused attention differs from the export (%.2g); keeping the exported graph", difference)
    except Exception:
        log.exception("Attention fusion failed; keeping the exported graph")
    model = None  # the fused (or partly fused) graph goes before the file is read again
    return _untied(exported), "unfused"


# Relative to the largest logit; fp32 kernels that sum in another order differ by ~1e-5.
FUSION_TOLERANCE = 1e-3


def logits_difference(reference: Any, candidate: Any, vocab_size: int) -> float:
    """Largest logit difference, relative to the largest logit, over a prefill and decode steps.
    Each graph (a ModelProto, or the Path of a model file) is run on its own, one after the
    other, so that only one is loaded at a time.

    Returns infinity when the two graphs pick a different next token anywhere.
    """
    import numpy as np

    rng = np.random.default_rng(0)
    steps = [rng.integers(1, vocab_size, size=n).tolist() for n in (7, 1, 3, 1)]
    with _as_model_files(reference, candidate) as (path_a, path_b):
        expected = _step_logits(path_a, steps)
        got = _step_logits(path_b, steps)
    worst = 0.0
    for a, b in zip(expected, got, strict=True):
        if int(np.argmax(a)) != int(np.argmax(b)):
            return float("inf")
        worst = max(worst, float(np.abs(a - b).max() / max(float(np.abs(a).max()), 1e-6)))
    return worst


def _step_logits(path: Path, steps: list[list[int]]) -> list[Any]:
    import numpy as np

    model = OnnxCausalLM(path, "cpu", threads=1)
    cache: AnyKVCache = KVCache.empty(model.kv)
    logits = []
    for ids in steps:
        step, cache = model.forward(ids, cache)
        logits.append(np.array(step, dtype=np.float32, copy=True))
    return logits


@contextlib.contextmanager
def _as_model_files(*models: Any) -> Iterator[list[Path]]:
    """Each model as a file: a Path as it is, a ModelProto saved in a temporary folder."""
    import tempfile

    import onnx

    with tempfile.TemporaryDirectory(prefix="inkwell-check-") as folder:
        paths = []
        for index, model in enumerate(models):
            if isinstance(model, Path):
                paths.append(model)
                continue
            path = Path(folder) / f"model{index}.onnx"
            large = model.ByteSize() > 1_800_000_000
            onnx.save_model(model, str(path), save_as_external_data=large, location=f"{path.name}.data")
            paths.append(path)
        yield paths
