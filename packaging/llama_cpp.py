"""Install llama-cpp-python, built from source for exactly this CPU: the tests' oracle.

llama.cpp is a test oracle, a test-data factory (convert_hf_to_gguf.py, quantize) and a
benchmark peer for Inkwell, never its engine. Its default `-march=native` build segfaulted
on an AMX-capable Xeon, and a build naming AVX-512 died with "Illegal instruction" on an
AVX2-only EPYC, so the instruction sets are named one by one from /proc/cpuinfo.

    python packaging/llama_cpp.py args      print the CMAKE_ARGS this machine gets
    python packaging/llama_cpp.py install   build (once per CPU feature set) and install it,
                                            and unpack the sdist's conversion scripts

The built wheel is kept in a cache folder keyed by the version and the flags: pip's own
wheel cache ignores CMAKE_ARGS, so a cache carried to another CPU would hand it a wheel
with instructions it lacks.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

VERSION = "0.3.36"
SDIST = f"llama_cpp_python-{VERSION}.tar.gz"
# What tests/models/oracle.py reads: convert_hf_to_gguf.py with its conversion/ package and
# the gguf-py it was written against (the released gguf package can lag behind it).
SOURCES = ("convert_hf_to_gguf.py", "conversion", "gguf-py")

# ggml option -> the /proc/cpuinfo flags it needs (all of them).
X86_FEATURES: dict[str, tuple[str, ...]] = {
    "GGML_SSE42": ("sse4_2",),
    "GGML_AVX": ("avx",),
    "GGML_AVX2": ("avx2",),
    "GGML_BMI2": ("bmi2",),
    "GGML_FMA": ("fma",),
    "GGML_F16C": ("f16c",),
    "GGML_AVX_VNNI": ("avx_vnni",),
    # ggml's AVX512 switch compiles with -mavx512f -mavx512cd -mavx512vl -mavx512dq -mavx512bw.
    "GGML_AVX512": ("avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw"),
}
AVX512_EXTRAS: dict[str, tuple[str, ...]] = {
    "GGML_AVX512_VBMI": ("avx512vbmi",),
    "GGML_AVX512_VNNI": ("avx512_vnni",),
    "GGML_AVX512_BF16": ("avx512_bf16",),
}
# Never AMX, and nothing but the CPU backend; no tests, tools, examples or multimodal library.
FIXED = (
    "-DGGML_NATIVE=OFF",
    "-DGGML_AMX_TILE=OFF",
    "-DGGML_AMX_INT8=OFF",
    "-DGGML_AMX_BF16=OFF",
    "-DGGML_BACKEND_DL=OFF",
    "-DGGML_CPU_ALL_VARIANTS=OFF",
    "-DGGML_CUDA=OFF",
    "-DGGML_VULKAN=OFF",
    "-DGGML_METAL=OFF",
    "-DGGML_BLAS=OFF",
    "-DGGML_CCACHE=OFF",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_TOOLS=OFF",
    "-DLLAMA_BUILD_SERVER=OFF",
    "-DLLAMA_BUILD_APP=OFF",
    "-DLLAMA_OPENSSL=OFF",
    "-DLLAVA_BUILD=OFF",
)


def cpu_flags(cpuinfo: str) -> set[str]:
    """The feature flags of the first processor in a /proc/cpuinfo text."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "flags":
            return set(value.split())
    return set()


def cmake_args(cpuinfo: str, machine: str) -> list[str]:
    args = list(FIXED)
    if machine.lower() not in ("x86_64", "amd64"):
        return args
    flags = cpu_flags(cpuinfo)
    for option, needs in X86_FEATURES.items():
        args.append(f"-D{option}={'ON' if flags.issuperset(needs) else 'OFF'}")
    avx512 = flags.issuperset(X86_FEATURES["GGML_AVX512"])
    for option, needs in AVX512_EXTRAS.items():
        args.append(f"-D{option}={'ON' if avx512 and flags.issuperset(needs) else 'OFF'}")
    return args


def this_machine_args() -> list[str]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    return cmake_args(cpuinfo, platform.machine())


def cache_root() -> Path:
    explicit = os.environ.get("INKWELL_LLAMA_CPP_CACHE")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "inkwell" / "llama-cpp-python"


def pip(*args: str, env: dict[str, str] | None = None) -> None:
    subprocess.run([sys.executable, "-m", "pip", *args], check=True, env=env)


def download_sdist(cache: Path) -> Path:
    sdist = cache / SDIST
    if not sdist.exists():
        cache.mkdir(parents=True, exist_ok=True)
        pip(
            "download", "--quiet", "--no-deps", "--no-binary", ":all:",
            f"llama-cpp-python=={VERSION}", "-d", str(cache),
        )  # fmt: skip
    return sdist


def build_wheel(cache: Path, sdist: Path, args: list[str]) -> Path:
    key = hashlib.sha256(" ".join(args).encode()).hexdigest()[:12]
    folder = cache / f"{VERSION}-{platform.machine()}-py{sys.version_info[0]}{sys.version_info[1]}-{key}"
    wheels = sorted(folder.glob("llama_cpp_python-*.whl"))
    if wheels:
        return wheels[0]
    env = dict(os.environ, CMAKE_ARGS=" ".join(args), FORCE_CMAKE="1")
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
    print(f"Building llama-cpp-python {VERSION} with CMAKE_ARGS={env['CMAKE_ARGS']}", flush=True)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(dir=cache) as scratch:
        pip("wheel", "--quiet", "--no-deps", "--no-cache-dir", "-w", scratch, str(sdist), env=env)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "CMAKE_ARGS").write_text(env["CMAKE_ARGS"] + "\n")
        for built in Path(scratch).glob("*.whl"):
            shutil.move(str(built), folder / built.name)
    print(f"Built in {time.monotonic() - started:.0f} s; cached in {folder}", flush=True)
    return sorted(folder.glob("llama_cpp_python-*.whl"))[0]


def sources_dir(prefix: Path | None = None) -> Path:
    """Where `install` unpacks the conversion scripts: inside the environment it installs to."""
    return Path(prefix or sys.prefix) / "share" / "llama-cpp-python"


def unpack_sources(sdist: Path, target: Path) -> None:
    stamp = target / "VERSION"
    if stamp.exists() and stamp.read_text().strip() == VERSION:
        return
    shutil.rmtree(target, ignore_errors=True)
    inner = f"llama_cpp_python-{VERSION}/vendor/llama.cpp/"
    with tarfile.open(sdist) as archive:
        members = [
            m
            for m in archive.getmembers()
            if m.name.startswith(inner) and m.name[len(inner) :].split("/")[0] in SOURCES
        ]
        for member in members:
            member.name = member.name[len(inner) :]
        # The "data" filter where this Python has it (3.10.12+, 3.11.4+).
        archive.extractall(target, members=members, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
    stamp.write_text(VERSION + "\n")


def install() -> None:
    cache = cache_root()
    sdist = download_sdist(cache)
    wheel = build_wheel(cache, sdist, this_machine_args())
    pip("install", "--quiet", str(wheel))  # with its dependencies
    # Ours even where a llama-cpp-python of the same version (a native build) is installed.
    pip("install", "--quiet", "--no-deps", "--force-reinstall", str(wheel))
    unpack_sources(sdist, sources_dir())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("args", "install"))
    command = parser.parse_args(argv).command
    if command == "args":
        print(" ".join(this_machine_args()))
    else:
        install()
    return 0


if __name__ == "__main__":
    sys.exit(main())
