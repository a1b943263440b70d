from __future__ import annotations

from dataclasses import replace

import pytest

from desktop_app.core.errors import UserError
from desktop_app.engine import load_engine
from desktop_app.engine.providers import cuda_unavailable_reason, validate_request


def test_auto_reports_the_provider_and_why(tiny_model_dir) -> None:  # type: ignore[no-untyped-def]
    engine = load_engine(tiny_model_dir, provider="auto", threads=1)
    if engine.provider.name == "cpu":
        reason = cuda_unavailable_reason()
        assert reason is not None and reason in engine.provider.reason
        assert engine.variant.quantization == "q4"  # the variant made for the CPU
    else:
        assert engine.variant.quantization == "fp16"


def test_cpu_request_uses_the_cpu(tiny_model_dir) -> None:  # type: ignore[no-untyped-def]
    engine = load_engine(tiny_model_dir, provider="cpu", threads=1)
    assert engine.provider.name == "cpu"
    assert engine.model.session.get_providers() == ["CPUExecutionProvider"]


@pytest.mark.skipif(cuda_unavailable_reason() is None, reason="this machine may really have CUDA")
def test_cuda_request_without_cuda_is_refused_with_the_reason(tiny_model_dir) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UserError, match="CUDA cannot be used"):
        load_engine(tiny_model_dir, provider="cuda")


def test_unknown_provider_is_refused() -> None:
    with pytest.raises(UserError, match="auto, cpu or cuda"):
        validate_request("tpu")


def test_missing_quantization_is_a_user_error(tiny_model_dir) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UserError, match="no q8 variant"):
        load_engine(tiny_model_dir, provider="cpu", quantization="q8")


def test_the_cpu_only_build_says_so_to_a_gpu_owner(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.engine import providers

    monkeypatch.setattr(
        providers.ort, "get_available_providers", lambda: ["CUDAExecutionProvider", "CPUExecutionProvider"]
    )
    monkeypatch.setattr(providers, "nvidia_gpu_present", lambda: True)
    monkeypatch.setattr(providers, "cuda_provider_library_present", lambda: False)
    assert "CPU-only build" in (providers.cuda_unavailable_reason() or "")
    monkeypatch.setattr(providers, "cuda_provider_library_present", lambda: True)
    assert providers.cuda_unavailable_reason() is None
    monkeypatch.setattr(providers, "nvidia_gpu_present", lambda: False)
    assert providers.cuda_unavailable_reason() == "no NVIDIA GPU or driver was found"


def test_the_cuda_libraries_named_are_the_ones_this_build_wants(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.engine import providers

    monkeypatch.setattr(providers.ort, "cuda_version", "13.0", raising=False)
    assert providers.cuda_libraries_wanted() == "CUDA 13 and cuDNN 9"


def test_a_model_prepared_for_the_cpu_only_stays_on_the_cpu_beside_a_gpu(  # type: ignore[no-untyped-def]
    tiny_model_dir, tmp_path, monkeypatch
) -> None:
    """A GGUF import has only a CPU variant: under CUDA its quantized matrices would still run
    on the CPU, with the activations copied to the GPU and back around each of them."""
    import json
    import shutil

    from desktop_app.engine import loading

    copy = tmp_path / "cpu-only"
    shutil.copytree(tiny_model_dir, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["variants"] = [v for v in manifest["variants"] if v["quantization"] == "q4"]
    (copy / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setattr(loading, "cuda_unavailable_reason", lambda: None)  # as if CUDA would load
    engine = load_engine(copy, provider="auto", threads=1)
    assert engine.provider.name == "cpu" and engine.provider.reason == loading.CPU_VARIANT_ONLY
    assert engine.model.session.get_providers() == ["CPUExecutionProvider"]
    assert engine.model.in_place_kv == (manifest["extra"].get("attention") == "GroupQueryAttention")
    with pytest.raises(UserError, match="CUDA cannot be used: this model was prepared for the CPU only"):
        load_engine(copy, provider="cuda", threads=1)  # asked for outright: the reason, not a fallback
    # A variant made for no provider in particular (fp32) may still try the GPU.
    assert loading.runs_on_cuda(replace(engine.variant, providers=()))
    assert not loading.runs_on_cuda(engine.variant)


def test_a_gpu_variant_that_cannot_be_loaded_leaves_the_model_on_the_cpu(  # type: ignore[no-untyped-def]
    tiny_model_dir, monkeypatch
) -> None:
    """Under "auto", a GPU variant that fails to open (out of GPU memory, say) gives way to
    the CPU variant, with the reason; asked for CUDA outright, the failure is the answer."""
    from desktop_app.engine import loading

    real = loading.OnnxCausalLM

    def opened(path, provider, *args):  # type: ignore[no-untyped-def]
        if provider != "cpu":
            raise UserError("The model file cannot be loaded by ONNX Runtime: out of GPU memory")
        return real(path, provider, *args)

    monkeypatch.setattr(loading, "cuda_unavailable_reason", lambda: None)
    monkeypatch.setattr(loading, "OnnxCausalLM", opened)
    engine = load_engine(tiny_model_dir, provider="auto", threads=1)
    assert (engine.provider.name, engine.variant.quantization) == ("cpu", "q4")
    assert "its GPU variant could not be loaded" in engine.provider.reason
    assert "out of GPU memory" in engine.provider.reason
    with pytest.raises(UserError, match="out of GPU memory"):
        load_engine(tiny_model_dir, provider="cuda", threads=1)
