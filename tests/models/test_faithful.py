"""Issue 16's bar for the GGUF route: each imported model follows llama.cpp on the same file.

Every tiny GGUF (tests/models/tiny_gguf.py) is imported with prepare_model and read token
by token through the engine's KV-cache path, the path decoding takes, over llama.cpp's own
tokens of the held-out text; llama.cpp reads the same ids in one batch. The next-token
argmax must agree at >= 98% of the positions and the perplexity must be within 1%: every
architecture in every type, the file's own grids as shipped (int8 activations).

The default model, re-quantized to each type, is held to llama.cpp's own spread instead:
on a real model the 98% bar measures llama.cpp's rounding more than the route (below).
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from desktop_app.cli import main
from desktop_app.engine import load_engine
from desktop_app.models.check import held_out_texts
from desktop_app.models.prepare import prepare_model
from tests.models import oracle
from tests.models.tiny_gguf import ARCHS, HELD_OUT_TEXT

PURE_TYPES = (
    *("F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"),
    *("IQ4_NL", "IQ4_XS"),
)
MIXES = ("Q4_K_M", "Q5_K_M")
# Every architecture in every type: a tiny file imports and runs in well under a second.
ARCH_TYPES = {arch: (*PURE_TYPES, *MIXES) for arch in ARCHS}
CASES = [(arch, qtype) for arch, types in ARCH_TYPES.items() for qtype in types]


@pytest.fixture(scope="session")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Callable[[Path], Path]:
    """imported(gguf) -> the installed model folder, made once a session per file."""
    root = tmp_path_factory.mktemp("faithful")
    made: dict[Path, Path] = {}

    def make(gguf: Path) -> Path:
        if gguf not in made:
            made[gguf] = prepare_model(gguf, root, model_id=gguf.stem, force=True)
        return made[gguf]

    return make


def engine_logits(model_dir: Path, ids: list[int], quantization: str | None = None) -> np.ndarray:
    """Our logits [T, vocab]: one token at a time from an empty cache, as decoding runs."""
    engine = load_engine(model_dir, "cpu", quantization, threads=oracle.THREADS)
    cache = engine.model.empty_cache()
    engine.model.reserve(cache, len(ids))
    rows = []
    for token in ids:
        logits, cache = engine.model.forward([token], cache)
        rows.append(np.array(logits, dtype=np.float32, copy=True).reshape(-1))
    return np.stack(rows)


def measure(gguf: Path, imported: Callable[[Path], Path], ids: list[int] | None = None) -> oracle.Faithfulness:
    ids = ids or oracle.held_out_ids(gguf)
    return oracle.faithfulness(engine_logits(imported(gguf), ids), oracle.llama_logits(gguf, ids), ids)


@pytest.mark.parametrize(("arch", "qtype"), CASES)
def test_the_import_follows_llama_cpp(arch: str, qtype: str, tiny_gguf, imported) -> None:  # type: ignore[no-untyped-def]
    report = measure(tiny_gguf(arch, qtype), imported)
    print(f"{arch} {qtype}: {report}")  # the matrix, in the log of a passing run (-rP)
    assert report.holds(0.98, 0.01), f"{arch} {qtype}: {report}"


@pytest.mark.parametrize("arch", list(ARCHS))
def test_the_gpu_variant_follows_llama_cpp(arch: str, tiny_gguf, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The fp16 variant (every weight dequantized, float16 activations, for the CUDA
    provider) holds the same bar; run here on the CPU provider, which has the same operators."""
    gguf = tiny_gguf(arch, "Q4_K_M")
    model = prepare_model(gguf, tmp_path, model_id="gpu", gpu_variant=True)
    variants = {v.quantization: v.providers for v in load_engine(model, "cpu", threads=1).manifest.variants}
    assert variants == {"q4": ("cpu",), "fp16": ("cuda",)}
    ids = oracle.held_out_ids(gguf)
    report = oracle.faithfulness(engine_logits(model, ids, "fp16"), oracle.llama_logits(gguf, ids), ids)
    print(f"{arch} fp16 variant: {report}")
    assert report.holds(0.98, 0.01), f"{arch} fp16 variant: {report}"


def with_scaled_tensor(source: Path, target: Path, name: str, factor: float) -> Path:
    """A copy of `source` with the float tensor `name` multiplied by `factor`."""
    import gguf

    reader = gguf.GGUFReader(source)
    writer = gguf.GGUFWriter(target, arch=str(reader.fields["general.architecture"].contents()))
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        sub_type = field.types[-1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), field.types[0], sub_type=sub_type)
    for tensor in reader.tensors:
        if tensor.name == name:
            writer.add_tensor(tensor.name, np.asarray(tensor.data, np.float32) * factor)
        else:
            writer.add_tensor(tensor.name, tensor.data, raw_dtype=tensor.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return target


def test_a_gpu_variant_that_overflows_float16_leaves_the_model_on_the_cpu(  # type: ignore[no-untyped-def]
    tiny_gguf, tmp_path: Path, monkeypatch
) -> None:
    """Activations beyond float16's range make the GPU variant's logits infinite or NaN
    (a random 150M-shaped file did so on an H200): the engine tries a sentence when it
    opens the GPU variant, and runs the CPU variant instead, saying why."""
    from desktop_app.engine import loading
    from desktop_app.engine.onnx_model import OnnxCausalLM
    from desktop_app.engine.providers import ProviderReport

    class OnAPretendGpu(OnnxCausalLM):  # the CPU provider runs the same float16 operators
        def __init__(self, path: Path, provider: str, *args: Any) -> None:
            super().__init__(path, "cpu", *args)
            if provider != "cpu":
                self.provider = ProviderReport("cuda", "NVIDIA GPU found and the CUDA provider loaded")
                self.in_place_kv = False  # its buffers would be asked of the GPU

    monkeypatch.setattr(loading, "cuda_unavailable_reason", lambda: None)
    monkeypatch.setattr(loading, "OnnxCausalLM", OnAPretendGpu)
    gguf = tiny_gguf("llama", "Q8_0")
    sound = prepare_model(gguf, tmp_path, model_id="sound", gpu_variant=True)
    engine = load_engine(sound, "auto", threads=1)
    assert (engine.provider.name, engine.variant.quantization) == ("cuda", "fp16")
    # 6e4 itself fits float16 (its largest is 65,504); the feed-forward products of it do not
    loud = with_scaled_tensor(gguf, tmp_path / "loud.gguf", "blk.0.ffn_norm.weight", 6e4)
    engine = load_engine(prepare_model(loud, tmp_path, model_id="loud", gpu_variant=True), "auto", threads=1)
    assert (engine.provider.name, engine.variant.quantization) == ("cpu", "q4")
    assert engine.provider.reason == loading.FLOAT16_OVERFLOW
    assert np.isfinite(engine.model.forward(engine.tokenizer.encode("A test."), engine.model.empty_cache())[0]).all()


@pytest.mark.parametrize("arch", ["llama", "gemma2", "qwen2"])
def test_a_raw_prompt_is_tokenized_as_llama_cpp_tokenizes_it(arch: str, tiny_gguf, imported) -> None:  # type: ignore[no-untyped-def]
    """BOS first where the file's add_bos_token says so (Gemma and Llama continue nonsense
    without it), never twice; the rest as llama.cpp's own vocabulary reads it."""
    gguf = tiny_gguf(arch, "Q8_0")
    engine = load_engine(imported(gguf), "cpu", threads=oracle.THREADS)
    text = "The river rose after three days of rain."
    assert engine.manifest.special_tokens.get("add_bos_token") is True
    assert engine.encode_prompt(text) == oracle.llama_tokenize(gguf, text, add_bos=True)
    bos = engine.manifest.special_tokens["bos_token"]
    assert engine.encode_prompt(bos + text).count(engine.tokenizer.token_to_id(bos)) == 1


def rewritten(source: Path, target: Path, context: int, keys: dict[str, Any], tensors: dict[str, Any]) -> Path:
    """A copy of `source` whose context length is `context`, with the metadata `keys`
    ({arch} stands for the architecture; values are (value, GGUFValueType) pairs) and the
    `tensors` (functions of the rotary half-width giving them) added."""
    import gguf

    reader = gguf.GGUFReader(source)
    arch = str(reader.fields["general.architecture"].contents())
    writer = gguf.GGUFWriter(target, arch=arch, endianess=reader.endianess)
    for field in reader.fields.values():
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith("GGUF."):
            continue
        sub_type = field.types[-1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
        value = context if field.name == f"{arch}.context_length" else field.contents()
        writer.add_key_value(field.name, value, field.types[0], sub_type=sub_type)
    for key, (value, kind) in keys.items():
        writer.add_key_value(key.format(arch=arch), value, kind)
    for tensor in reader.tensors:
        writer.add_tensor(tensor.name, tensor.data, raw_dtype=tensor.tensor_type)
    for name, made in tensors.items():
        half = int(reader.fields[f"{arch}.rope.dimension_count"].contents()) // 2
        writer.add_tensor(name, made(half))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return target


def with_longrope(source: Path, target: Path, seed: int = 7) -> Path:
    """A copy of a Phi-3 file made a LongRoPE (128k-style) one: short and long rope factors
    and the attention factor its converter writes, trained context 512 scaled to 4,096."""
    import math

    from gguf import GGUFValueType

    factor = math.sqrt(1 + math.log(4096 / 512) / math.log(512))
    keys = {
        "{arch}.rope.scaling.original_context_length": (512, GGUFValueType.UINT32),
        "{arch}.rope.scaling.attn_factor": (factor, GGUFValueType.FLOAT32),
    }
    rng = np.random.default_rng(seed)
    tensors = {
        "rope_factors_short.weight": lambda half: np.asarray(rng.uniform(1.0, 3.0, half), np.float32),
        "rope_factors_long.weight": lambda half: np.asarray(rng.uniform(4.0, 40.0, half), np.float32),
    }
    return rewritten(source, target, 4096, keys, tensors)


def test_a_longrope_file_follows_llama_cpp_within_its_original_context(  # type: ignore[no-untyped-def]
    tiny_gguf, imported, tmp_path: Path
) -> None:
    """Phi-3's 128k files: llama.cpp rotates by the short factors, scaled by the attention
    factor, while its context is within the original one; the import does the same and
    keeps its context there."""
    gguf = with_longrope(tiny_gguf("phi3", "F16"), tmp_path / "phi3-longrope.gguf")
    model_dir = imported(gguf)
    manifest = json.loads((model_dir / "manifest.json").read_text())
    assert manifest["context_length"] == 512
    report = measure(gguf, imported)
    assert report.holds(0.98, 0.01), f"phi3 with LongRoPE: {report}"


def with_yarn(source: Path, target: Path, factor: float = 4.0, original: int = 1024) -> Path:
    """A copy of `source` made a YaRN one (Qwen's long-context files): rope scaling "yarn",
    its factor, and the original context, which the file's context is `factor` times."""
    from gguf import GGUFValueType

    keys = {
        "{arch}.rope.scaling.type": ("yarn", GGUFValueType.STRING),
        "{arch}.rope.scaling.factor": (factor, GGUFValueType.FLOAT32),
        "{arch}.rope.scaling.original_context_length": (original, GGUFValueType.UINT32),
    }
    return rewritten(source, target, int(original * factor), keys, {})


@pytest.mark.parametrize("arch", ["qwen2", "llama"])
def test_a_yarn_file_follows_llama_cpp(arch: str, tiny_gguf, imported, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """YaRN scaling (factor 4 over an original context of 1,024): each frequency blended with
    its interpolation as llama.cpp blends it, and the attention scaled by 1 + 0.1 ln 4."""
    gguf = with_yarn(tiny_gguf(arch, "F16"), tmp_path / f"{arch}-yarn.gguf")
    report = measure(gguf, imported)
    assert report.holds(0.98, 0.01), f"{arch} with YaRN: {report}"


def with_metadata(source: Path, target: Path, changes: dict[str, float]) -> Path:
    """A copy of `source` whose float metadata `changes` are set (added where absent)."""
    import gguf
    from gguf.scripts.gguf_new_metadata import MetadataDetails, copy_with_new_metadata

    reader = gguf.GGUFReader(source)
    writer = gguf.GGUFWriter(target, arch=reader.fields["general.architecture"].contents(), endianess=reader.endianess)
    details = {key: MetadataDetails(gguf.GGUFValueType.FLOAT32, value) for key, value in changes.items()}
    copy_with_new_metadata(reader, writer, details, [])
    return target


# The tiny files carry their architectures' usual metadata; llama.cpp also reads keys
# they leave out, whose defaults the files cannot tell from the right reading.
METADATA_CASES = [
    pytest.param("gemma3", {"gemma3.final_logit_softcapping": 3.0}, id="gemma3-final-softcap"),
    pytest.param("gemma3", {"gemma3.rope.freq_base_swa": 100.0}, id="gemma3-local-rope-base"),
    pytest.param("gemma2", {"gemma2.rope.freq_base_swa": 100.0}, id="gemma2-local-rope-base"),
]


@pytest.mark.parametrize(("arch", "changes"), METADATA_CASES)
def test_the_import_reads_the_metadata_llama_cpp_reads(  # type: ignore[no-untyped-def]
    arch: str, changes: dict[str, float], tiny_gguf, imported, tmp_path: Path
) -> None:
    gguf = with_metadata(tiny_gguf(arch, "F16"), tmp_path / f"{arch}-edited.gguf", changes)
    report = measure(gguf, imported)
    assert report.holds(0.98, 0.01), f"{arch} with {changes}: {report}"


def test_models_check_reports_llama_cpp_on_the_source_file(  # type: ignore[no-untyped-def]
    tiny_gguf, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`inkwell models check` finds the GGUF through the manifest and reads the same tokens
    with llama.cpp: its perplexity is llama.cpp's own, and the two meet issue 16's bar."""
    gguf = tiny_gguf("qwen2", "Q4_K_M")
    prepare_model(gguf, Path(os.environ["INKWELL_MODELS_DIR"]), model_id="tiny-qwen2", force=True)
    text = tmp_path / "held-out.txt"
    text.write_text(HELD_OUT_TEXT, encoding="utf-8")
    assert main(["models", "check", "tiny-qwen2", "--text", str(text), "--threads", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert str(gguf.resolve()) in report["note"]
    ids = load_engine(Path(os.environ["INKWELL_MODELS_DIR"]) / "tiny-qwen2", "cpu").encode_prompt(HELD_OUT_TEXT)
    assert report["tokens"] == len(ids) - 1 > 150
    their_ppl = oracle.perplexity(oracle.llama_logits(gguf, ids), np.asarray(ids))
    assert report["llama_cpp_perplexity"] == pytest.approx(their_ppl, rel=1e-4)
    assert report["agreement"] >= 0.98, report
    assert abs(report["perplexity"] / report["llama_cpp_perplexity"] - 1) <= 0.01, report


# --- the default model (SmolLM2-135M), re-quantized by llama.cpp as a user would ---------
#
# On a real model the argmax bar measures llama.cpp's own rounding more than the
# route: llama.cpp rounds activations to 8 bits (by blocks of 256 for K-quants) and keeps
# an F16 KV cache, and SmolLM2's activations have outliers that make both count. Reading
# the same file with an F32 cache instead, llama.cpp agrees with itself at only 94-96% of
# the 1,175 positions of Inkwell's held-out texts, and its rounding differs by CPU (an
# AVX2-only EPYC and an AVX-512 one give different figures). On 109 tokens one flipped
# near-tie moves the argmax by a point and the perplexity by up to 4%; over all 1,175 every
# type's perplexity was within 0.9% of llama.cpp's (2026-12-03). So each type is held to
# issue 16's 1% on the perplexity, against the nearer of llama.cpp's two readings of the
# file (F16 and F32 cache), and to llama.cpp's own argmax agreement with a two-point margin,
# both measured on the machine the test runs on.


def llama_logits_f32_cache(gguf: Path, ids: list[int]) -> np.ndarray:
    """llama.cpp's logits with an F32 KV cache: the same file read as legitimately."""
    llama_cpp = oracle.load_llama_cpp()
    n_ctx = max(256, -(-len(ids) // 256) * 256)
    with oracle.native_output():
        llm = llama_cpp.Llama(
            str(gguf), n_ctx=n_ctx, n_batch=n_ctx, n_ubatch=n_ctx, n_threads=oracle.THREADS,
            n_threads_batch=oracle.THREADS, logits_all=True, verbose=False, type_k=0, type_v=0,
        )  # fmt: skip
    try:
        llm.eval(ids)
        return np.array(llm.scores[: len(ids)], dtype=np.float32, copy=True)
    finally:
        llm.close()


def engine_logits_of(gguf: Path, folder: Path, ids: list[int]) -> np.ndarray:
    """The default model's GGUF imported as a user would, read token by token."""
    model = prepare_model(gguf, folder, model_id="smollm2", force=True)
    try:
        return engine_logits(model, ids)
    finally:
        shutil.rmtree(model)  # ~100 MB a type


@pytest.mark.slow
@pytest.mark.parametrize("qtype", oracle.SMOLLM2_QTYPES)
def test_the_default_model_in_each_type_follows_llama_cpp_over_the_held_out_texts(  # type: ignore[no-untyped-def]
    qtype: str, smollm2_gguf, tmp_path: Path
) -> None:
    """Each type, fallbacks and recipes included, over all of Inkwell's held-out texts
    (1,175 tokens): the perplexity within 1% of the nearer of llama.cpp's F16- and F32-cache
    readings, and the argmax agreeing with llama.cpp (F16 cache) within two points of how
    often its F32-cache reading does. (On the short held-out text, reading another type's
    file instead missed the perplexity by 5-12%, except between Q6_K and Q8_0.)"""
    gguf = smollm2_gguf(qtype)
    ids = oracle.held_out_ids(gguf, "\n\n".join(held_out_texts()))
    ours = engine_logits_of(gguf, tmp_path, ids)
    theirs, f32 = oracle.llama_logits(gguf, ids), llama_logits_f32_cache(gguf, ids)
    report = oracle.faithfulness(ours, theirs, ids)
    itself = oracle.faithfulness(f32, theirs, ids)
    nearer = min(abs(report.ppl_ratio - 1), abs(report.our_ppl / itself.our_ppl - 1))
    line = f"SmolLM2 {qtype} over {len(ids)} tokens: {report}; llama.cpp, F32 cache: {itself}"
    print(line)
    assert nearer <= 0.01 and report.argmax_agreement >= itself.argmax_agreement - 0.02, line
