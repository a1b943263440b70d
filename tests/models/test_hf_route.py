"""Issue 16's Hugging Face route: a folder streams into the GGUF route's graph as llama.cpp lays it out.

Each tiny model's Hugging Face folder (tests/models/tiny_gguf.py) is imported straight
from its safetensors (hf_import.py) and compared with the file llama.cpp's converter and
quantizer make of the same folder: its q8 variant with the pure Q8_0 file, its q4
variant with a Q4_0 file whose embedding and output are Q8_0, its fp32 variant with the
F32 file, its fp16 variant (the GPU's) with the F16 file. The bar is llama.cpp's own reading of that file (>= 98% argmax agreement,
perplexity within 1%), and, since the folder is rounded and laid out as llama.cpp's tools
do it, the very same logits as the GGUF route's import of that file (but for fp16, whose
activations are float16 too).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from desktop_app.core.manifest import ModelManifest
from desktop_app.models.prepare import prepare_model
from tests.models import oracle
from tests.models.test_faithful import engine_logits
from tests.models.tiny_gguf import ARCHS, TinyGGUFs

GGML_Q8_0 = 8


def q4_with_q8_tables(tiny_gguf: TinyGGUFs, arch: str) -> Path:
    """llama.cpp's pure Q4_0 file of the tiny model, its token embedding and output in Q8_0."""
    target = tiny_gguf.root / arch / f"{arch}-Q4_0-Q8_0-tables.gguf"
    if target.exists():
        return target
    llama_cpp = oracle.load_llama_cpp()
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype, params.pure, params.nthread = oracle.QTYPES["Q4_0"][0], True, oracle.THREADS
    params.token_embedding_type = params.output_tensor_type = GGML_Q8_0
    handle, scratch = tempfile.mkstemp(dir=target.parent, suffix=".part")
    os.close(handle)
    try:
        with oracle.native_output():
            status = llama_cpp.llama_model_quantize(str(tiny_gguf(arch, "F32")).encode(), scratch.encode(), params)
        assert status == 0, f"llama_model_quantize returned {status}"
        os.replace(scratch, target)
    finally:
        Path(scratch).unlink(missing_ok=True)
    return target


COUNTERPARTS: dict[str, Callable[[TinyGGUFs, str], Path]] = {
    "q8": lambda tiny, arch: tiny(arch, "Q8_0"),
    "q4": q4_with_q8_tables,
    "fp32": lambda tiny, arch: tiny(arch, "F32"),
    "fp16": lambda tiny, arch: tiny(arch, "F16"),  # the GPU's variant, run here on the CPU provider
}
CASES = [(arch, quantization) for arch in ARCHS for quantization in COUNTERPARTS]


@pytest.fixture(scope="session")
def made(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """made(source, quantization) -> the installed model folder, once a session each."""
    root = tmp_path_factory.mktemp("hf-route")
    done: dict[tuple[Path, str], Path] = {}

    def make(source: Path, quantization: str = "q4") -> Path:
        if (source, quantization) not in done:
            model_id = f"{source.parent.name}-{source.stem}-{quantization}"
            done[source, quantization] = prepare_model(
                source, root, model_id=model_id, quantizations=(quantization,), gpu_variant=quantization == "fp16",
                force=True,
            )  # fmt: skip
        return done[source, quantization]

    return make


@pytest.mark.parametrize(("arch", "quantization"), CASES)
def test_a_folder_runs_as_llama_cpp_runs_the_file_made_of_it(arch: str, quantization: str, tiny_gguf, made) -> None:  # type: ignore[no-untyped-def]
    gguf = COUNTERPARTS[quantization](tiny_gguf, arch)
    ids = oracle.held_out_ids(gguf)
    folder = made(tiny_gguf.hf_folder(arch), quantization)
    ours = engine_logits(folder, ids, quantization)
    report = oracle.faithfulness(ours, oracle.llama_logits(gguf, ids), ids)
    print(f"{arch} {quantization}: {report}")
    assert report.holds(0.98, 0.01), f"{arch} {quantization}: {report}"
    if quantization != "fp16":  # the GGUF route keeps an F16 file's weights in float32 on the CPU
        np.testing.assert_array_equal(ours, engine_logits(made(gguf), ids))
    manifest = ModelManifest.read(folder)
    assert manifest.extra["route"] == "hf" and manifest.architecture == ARCHS[arch].model_type.removesuffix("_text")


def test_the_route_loads_neither_torch_nor_transformers(tiny_gguf, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The weights are read by numpy from the mapped files: a folder with its tokenizer.json
    is imported with none of the export extra's packages loaded."""
    folder = tiny_gguf.hf_folder("qwen2")
    assert (folder / "tokenizer.json").is_file()
    script = (
        "import sys; from pathlib import Path; from desktop_app.models.prepare import prepare_model; "
        f"prepare_model(Path({str(folder)!r}), Path({str(tmp_path)!r}), model_id='m', quantizations=('q4',), "
        "gpu_variant=False); print('torch' in sys.modules, 'transformers' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600, check=True)
    assert done.stdout.split()[-2:] == ["False", "False"], done.stdout + done.stderr
    manifest = ModelManifest.read(tmp_path / "m")
    assert [v.quantization for v in manifest.variants] == ["q4"]
    assert manifest.extra["stored_types"] == {"F32": 26}
    assert "Q4_0" in manifest.extra["rounded"]["q4"]
    assert manifest.extra["skipped_variants"].startswith("no fp16 variant")


def test_a_folder_without_tokenizer_json_gets_one_made(tiny_gguf, made) -> None:  # type: ignore[no-untyped-def]
    """A SentencePiece-only folder (as the tiny Llama's): transformers' converter makes its
    tokenizer.json, which encodes as the folder's SentencePiece model does."""
    import sentencepiece as spm
    from tokenizers import Tokenizer

    source = tiny_gguf.hf_folder("llama")
    assert not (source / "tokenizer.json").exists()
    folder = made(source, "q4")
    processor = spm.SentencePieceProcessor(model_file=str(source / "tokenizer.model"))
    text = "Paris is the capital of France."
    made_ids = Tokenizer.from_file(str(folder / "tokenizer.json")).encode(text, add_special_tokens=False).ids
    assert made_ids == processor.encode(text)
