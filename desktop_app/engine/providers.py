"""Choosing the ONNX Runtime execution provider explicitly, and saying why.

CUDA is used only when it really loads: onnxruntime quietly falls back to the CPU when the
CUDA or cuDNN libraries are missing, so after creating a session we check which provider
it actually got. The reason the other provider is not used is always reported.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import onnxruntime as ort

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate

log = logging.getLogger(__name__)

ProviderName = Literal["cpu", "cuda"]
ProviderRequest = Literal["auto", "cpu", "cuda"]
PROVIDER_CHOICES: tuple[str, ...] = ("auto", "cpu", "cuda")

ORT_NAMES: dict[str, str] = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}


@dataclass(frozen=True)
class ProviderReport:
    """Which provider runs the model, and in plain words why (and why not the other)."""

    name: ProviderName
    reason: str

    @property
    def label(self) -> str:
        return "CUDA" if self.name == "cuda" else "CPU"


def validate_request(request: str) -> ProviderRequest:
    if request not in PROVIDER_CHOICES:
        raise UserError(
            translate("Errors", "Unknown provider {request}.").format(request=repr(request)),
            hint=translate("Errors", "Choose auto, cpu or cuda."),
        )
    return request  # type: ignore[return-value]


def nvidia_gpu_present() -> bool:
    """A cheap look for an NVIDIA driver, without loading any CUDA library."""
    if sys.platform.startswith("linux") and os.path.exists("/dev/nvidiactl"):
        return True
    return shutil.which("nvidia-smi") is not None


def cuda_provider_library_present() -> bool:
    """Whether ONNX Runtime's CUDA provider library is on disk (Inkwell's CPU-only build
    leaves it out although the onnxruntime-gpu it bundles lists the provider)."""
    import onnxruntime.capi

    folder = Path(onnxruntime.capi.__file__).parent
    return any(folder.glob("*onnxruntime_providers_cuda*"))


def cuda_libraries_wanted() -> str:
    """The CUDA toolkit this ONNX Runtime build links against, for messages."""
    version = getattr(ort, "cuda_version", "") or ""
    major = version.split(".")[0] if version else ""
    return f"CUDA {major} and cuDNN 9" if major else "CUDA and cuDNN"


def gpu_memory_bytes() -> int | None:
    """The NVIDIA GPU's memory as its driver's nvidia-smi reports it (the first GPU), or None."""
    import subprocess

    command = ["nvidia-smi", "--query-gpu=memory.total", "--format=csv,noheader,nounits"]
    try:
        out = subprocess.run(command, capture_output=True, text=True, timeout=20, check=True).stdout
        return int(float(out.split()[0]) * (1 << 20))  # MiB
    except (OSError, subprocess.SubprocessError, ValueError, IndexError):
        return None


def cuda_unavailable_reason() -> str | None:
    """Why CUDA cannot even be tried here, or None when it is worth trying."""
    if ORT_NAMES["cuda"] not in ort.get_available_providers():
        return "this ONNX Runtime build has no CUDA provider (the onnxruntime-gpu package has one)"
    if not nvidia_gpu_present():
        return "no NVIDIA GPU or driver was found"
    if not cuda_provider_library_present():
        return "this is Inkwell's CPU-only build; install the CUDA build to use the GPU"
    return None


def preload_cuda_libraries() -> None:
    """Let onnxruntime find CUDA/cuDNN from pip's nvidia-* packages if they are installed."""
    preload = getattr(ort, "preload_dlls", None)
    if preload is None:
        return
    try:
        preload()
    except Exception as exc:
        log.debug("onnxruntime.preload_dlls() failed: %s", exc)
