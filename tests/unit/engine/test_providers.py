from __future__ import annotations

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
