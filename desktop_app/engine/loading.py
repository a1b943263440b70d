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
    try_cuda = request == "cuda" or (request == "auto" and cuda_unavailable_reason() is None)
    variant = choose_variant(manifest, "cuda" if try_cuda else "cpu", quantization)
    in_place = manifest.extra.get("attention") == "GroupQueryAttention"  # only GQA reads the past

    def open_model(file: str, provider: ProviderRequest) -> OnnxCausalLM:
        return OnnxCausalLM(model_dir / file, provider, threads, in_place, manifest.context_length)

    model = open_model(variant.file, request)
    if model.provider.name == "cpu" and quantization is None and "cpu" not in variant.providers:
        # CUDA did not load after all: run the variant made for the CPU, keep the reason.
        variant = choose_variant(manifest, "cpu")
        reason = model.provider.reason
        model = open_model(variant.file, "cpu")
        model.provider = replace(model.provider, reason=reason)
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
