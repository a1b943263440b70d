"""Opening a prepared model: its manifest, tokenizer and the ONNX variant for the provider."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.core.manifest import ModelManifest, ModelVariant
from desktop_app.engine.generate import Engine
from desktop_app.engine.onnx_model import OnnxCausalLM
from desktop_app.engine.providers import ProviderRequest, cuda_unavailable_reason, validate_request
from desktop_app.engine.speculation import DraftModel
from desktop_app.engine.tokenizer import Tokenizer

log = logging.getLogger(__name__)


def choose_variant(manifest: ModelManifest, provider: str, quantization: str | None = None) -> ModelVariant:
    if quantization:
        found = manifest.variant(quantization)
        if found is None:
            have = ", ".join(v.quantization for v in manifest.variants)
            raise UserError(
                translate("Errors", "Model {model} has no {quantization} variant.").format(
                    model=manifest.id, quantization=quantization
                ),
                hint=translate("Errors", "It has: {have}.").format(have=have),
            )
        return found
    for variant in manifest.variants:
        if provider in variant.providers:
            return variant
    return manifest.variants[0]


CPU_VARIANT_ONLY = "this model was prepared for the CPU only (it has no fp16 variant for the GPU)"


FLOAT16_OVERFLOW = "its GPU variant's float16 arithmetic gave logits that are not numbers on a test sentence"
PROBE_TEXT = "The quick brown fox jumps over the lazy dog."


def runs_on_cuda(variant: ModelVariant) -> bool:
    """Whether a variant can run on the CUDA provider: made for it, or for no provider in particular."""
    return not variant.providers or "cuda" in variant.providers


def load_engine(
    model_dir: Path,
    provider: str = "auto",
    quantization: str | None = None,
    threads: int | None = None,
) -> Engine:
    """Open a prepared model. CUDA is tried (with its own variant) only when it can load."""
    request: ProviderRequest = validate_request(provider)
    manifest = ModelManifest.read(model_dir)
    tokenizer = Tokenizer(model_dir / "tokenizer.json")
    cuda_missing = cuda_unavailable_reason()
    try_cuda = request == "cuda" or (request == "auto" and cuda_missing is None)
    variant = choose_variant(manifest, "cuda" if try_cuda else "cpu", quantization)
    in_place = manifest.extra.get("attention") == "GroupQueryAttention"  # only GQA reads the past

    def open_model(file: str, provider: ProviderRequest) -> OnnxCausalLM:
        return OnnxCausalLM(model_dir / file, provider, threads, in_place, manifest.context_length)

    def on_the_cpu(reason: str) -> Engine:
        """The variant made for the CPU, with the reason the GPU is not used; asked for CUDA
        outright, the reason is the answer instead."""
        if request == "cuda":
            raise UserError(
                translate("Errors", "CUDA cannot be used: {reason}.").format(reason=reason),
                hint=translate(
                    "Errors", "Choose the automatic provider, or import the model again with --gpu-variant yes."
                ),
            )
        chosen = choose_variant(manifest, "cpu")
        model = open_model(chosen.file, "cpu")
        model.provider = replace(model.provider, reason=reason)
        log.info("Model %s (%s) runs on the CPU: %s", manifest.id, chosen.quantization, reason)
        return Engine(model, tokenizer, manifest, chosen)

    if try_cuda and cuda_missing is None and quantization is None and not runs_on_cuda(variant):
        # Every variant was made for the CPU (a GGUF import's blocks are read by Inkwell's
        # CPU operators; float32 attention has no CUDA kernel). Under CUDA those nodes would
        # still run on the CPU, with the activations copied to the GPU and back around each
        # of them: no faster than the CPU alone (bench/RESULTS.md, providers).
        return on_the_cpu(CPU_VARIANT_ONLY)
    gpu_only = quantization is None and "cpu" not in variant.providers
    try:
        model = open_model(variant.file, request)
    except UserError as exc:
        if request == "cuda" or not gpu_only:
            raise
        return on_the_cpu(f"its GPU variant could not be loaded ({exc.message.strip()[:200]})")
    if gpu_only and model.provider.name == "cpu":  # CUDA did not load after all
        return on_the_cpu(model.provider.reason)
    if gpu_only and not model.finite_on(tokenizer.encode(PROBE_TEXT)):
        return on_the_cpu(FLOAT16_OVERFLOW)
    log.info(
        "Model %s (%s) runs on %s: %s", manifest.id, variant.quantization, model.provider.label, model.provider.reason
    )
    return Engine(model, tokenizer, manifest, variant)


def load_draft(model_dir: Path, target: Engine, threads: int | None = None) -> DraftModel:
    """Open a prepared model as a draft for `target`: on the CPU, beside it on the same
    thread. UserError when its vocabulary differs, or its graph cannot be checked against."""
    manifest = ModelManifest.read(model_dir)
    tokenizer = Tokenizer(model_dir / "tokenizer.json")
    in_place = manifest.extra.get("attention") == "GroupQueryAttention"
    variant = choose_variant(manifest, "cpu")
    model = OnnxCausalLM(model_dir / variant.file, "cpu", threads, in_place, manifest.context_length)
    draft = DraftModel(model, tokenizer, manifest.name, manifest.context_length)
    draft.check_pairs_with(target.tokenizer, target.manifest.name)
    if not target.model.verifies:
        raise UserError(
            translate(
                "Errors", "{model} was prepared before speculative decoding; import it again to use a draft."
            ).format(model=target.manifest.name)
        )
    log.info("Draft model %s proposes tokens for %s", manifest.id, target.manifest.id)
    return draft
