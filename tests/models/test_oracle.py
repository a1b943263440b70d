"""The llama.cpp oracle is itself right: its build flags, its measure, its files, its logits.

No test here uses Inkwell's GGUF import; they show that the harness the import is judged by
(issue 16) agrees with transformers where both read the same GGUF, and that its tiny files
hold what their names say.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from tests.models import oracle
from tests.models.tiny_gguf import ARCHS, HELD_OUT_TEXT

ROOT = Path(__file__).resolve().parents[2]
ALL_TYPES = ("F16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "Q4_K_M", "Q5_K_M")


def load_build_script():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("llama_cpp_build", ROOT / "packaging" / "llama_cpp.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def cpuinfo(*flags: str) -> str:
    return f"processor\t: 0\nvendor_id\t: X\nflags\t\t: fpu sse sse2 {' '.join(flags)}\n\nprocessor\t: 1\n"


def test_build_flags_name_only_what_the_cpu_lists() -> None:
    build = load_build_script()
    epyc = build.cmake_args(cpuinfo("sse4_2", "avx", "avx2", "fma", "f16c", "bmi2"), "x86_64")
    assert "-DGGML_NATIVE=OFF" in epyc and "-DGGML_AVX2=ON" in epyc and "-DGGML_FMA=ON" in epyc
    assert "-DGGML_AVX512=OFF" in epyc and "-DGGML_AVX512_VNNI=OFF" in epyc  # the Illegal instruction
    xeon = build.cmake_args(
        cpuinfo("avx", "avx2", "fma", "f16c", "avx512f", "avx512cd", "avx512vl", "avx512dq", "avx512bw",
                "avx512_vnni", "amx_tile", "amx_int8", "amx_bf16"),
        "x86_64",
    )  # fmt: skip
    assert "-DGGML_AVX512=ON" in xeon and "-DGGML_AVX512_VNNI=ON" in xeon and "-DGGML_AVX512_BF16=OFF" in xeon
    assert {"-DGGML_AMX_TILE=OFF", "-DGGML_AMX_INT8=OFF", "-DGGML_AMX_BF16=OFF"} <= set(xeon)  # the segfault
    # AVX-512 sub-features are never named without the AVX-512 base ggml compiles for.
    partial = build.cmake_args(cpuinfo("avx2", "avx512f", "avx512_vnni"), "x86_64")
    assert "-DGGML_AVX512=OFF" in partial and "-DGGML_AVX512_VNNI=OFF" in partial
    arm = build.cmake_args("", "aarch64")
    assert "-DGGML_NATIVE=OFF" in arm and not [a for a in arm if "AVX" in a]


def test_faithfulness_counts_argmax_and_perplexity() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(50, 32)).astype(np.float32)
    ids = rng.integers(0, 32, size=50)
    same = oracle.faithfulness(logits, logits.copy(), ids)
    assert same.argmax_agreement == 1.0 and same.our_ppl == same.their_ppl and same.holds()
    # Uniform logits: the perplexity is the vocabulary size.
    assert oracle.perplexity(np.zeros((10, 32)), ids[:10]) == pytest.approx(32.0)
    # Half the positions led elsewhere: 50% agreement, and the perplexity moves.
    moved = logits.copy()
    rows = np.arange(0, 50, 2)
    moved[rows, (logits[rows].argmax(axis=1) + 1) % 32] += 100.0
    report = oracle.faithfulness(moved, logits, ids)
    assert report.argmax_agreement == pytest.approx(0.5)
    assert not report.holds() and "argmax agreement 50.00%" in str(report)
    # A 2% perplexity gap fails the 1% bar on its own.
    shifted = logits.copy()
    shifted[np.arange(49), ids[1:]] -= 0.02
    assert oracle.faithfulness(shifted, logits, ids).argmax_agreement >= 0.98
    assert not oracle.faithfulness(shifted, logits, ids).holds()
    with pytest.raises(ValueError):
        oracle.faithfulness(logits[:, :16], logits, ids)


def hf_logits(folder: Path, ids: list[int], gguf_file: Path | None = None, zero_layers: bool = False) -> np.ndarray:
    """transformers' logits from the source model, or from a GGUF it dequantizes to fp32."""
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    if gguf_file is None:
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=torch.float32)
    else:
        config = AutoConfig.from_pretrained(folder)
        model = AutoModelForCausalLM.from_pretrained(
            gguf_file.parent, gguf_file=gguf_file.name, config=config, dtype=torch.float32
        )
    with torch.no_grad():
        if zero_layers:
            for name, parameter in model.named_parameters():
                if name.endswith(("o_proj.weight", "down_proj.weight")):
                    parameter.zero_()
        return model(torch.tensor([ids])).logits[0].numpy()


@pytest.mark.parametrize("arch", sorted(ARCHS))
def test_llama_cpp_computes_the_source_model(arch: str, tiny_gguf) -> None:  # type: ignore[no-untyped-def]
    """convert_hf_to_gguf.py and llama.cpp reproduce each tiny model, in F32 and F16, far
    inside issue 16's bar; the held-out text runs past the gemma models' sliding window."""
    f32 = tiny_gguf(arch, "F32")
    ids = oracle.held_out_ids(f32)
    assert 150 < len(ids) <= 512 and ids[0] == 1  # BOS, then the text
    reference = hf_logits(tiny_gguf.hf_folder(arch), ids)
    for qtype in ("F32", "F16"):
        report = oracle.faithfulness(reference, oracle.llama_logits(tiny_gguf(arch, qtype), ids), ids)
        assert report.holds(agreement=0.99, ppl_tolerance=0.002), f"{arch} {qtype}: {report}"


# transformers reads these GGUF architectures (mistral's files say "llama").
DEQUANTIZED_ARCHS = ("llama", "smollm", "qwen2", "qwen3", "gemma2", "gemma3", "phi3")


@pytest.mark.parametrize(
    ("arch", "qtype"),
    [("llama", qtype) for qtype in ALL_TYPES]
    + [(arch, qtype) for arch in DEQUANTIZED_ARCHS if arch != "llama" for qtype in ("Q4_0", "Q2_K", "Q4_K_M", "Q6_K")],
)
def test_an_exact_dequantization_meets_the_bar(arch: str, qtype: str, tiny_gguf) -> None:  # type: ignore[no-untyped-def]
    """What the import route must do is possible: computing in fp32 with the GGUF's weights
    as llama.cpp dequantizes them (transformers here) agrees with llama.cpp itself, whose
    activations are rounded to 8 bits, within issue 16's bar on the tiny models."""
    path = tiny_gguf(arch, qtype)
    ids = oracle.held_out_ids(path)
    report = oracle.faithfulness(
        hf_logits(tiny_gguf.hf_folder(arch), ids, gguf_file=path), oracle.llama_logits(path, ids), ids
    )
    assert report.holds(), f"{arch} {qtype}: {report}"


def test_the_layers_matter_to_the_measure(tiny_gguf) -> None:  # type: ignore[no-untyped-def]
    """A route that got the embeddings and output right but the layers wrong fails the bar:
    the tiny models' logits are peaked by their embeddings, the layers set the perplexity."""
    folder, ids = tiny_gguf.hf_folder("llama"), oracle.held_out_ids(tiny_gguf("llama", "F32"))
    report = oracle.faithfulness(hf_logits(folder, ids, zero_layers=True), hf_logits(folder, ids), ids)
    assert report.argmax_agreement < 1.0 and report.ppl_ratio > 2.0, report


def test_pure_and_recipe_quantizations_hold_their_types(tiny_gguf) -> None:  # type: ignore[no-untyped-def]
    matrices = oracle.matrix_types(tiny_gguf("llama", "Q4_K"))
    assert set(matrices.values()) == {"Q4_K"} and "output.weight" in matrices and "token_embd.weight" in matrices
    assert set(oracle.matrix_types(tiny_gguf("qwen3", "Q2_K")).values()) == {"Q2_K"}
    assert set(oracle.matrix_types(tiny_gguf("gemma3", "Q5_1")).values()) == {"Q5_1"}
    mix = oracle.matrix_types(tiny_gguf("llama", "Q4_K_M"))
    assert set(mix.values()) == {"Q4_K", "Q6_K"} and mix["output.weight"] == "Q6_K"
    assert oracle.tensor_types(tiny_gguf("llama", "F16"))["F16"] == len(matrices)


def test_the_default_model_requantizes_to_each_type(smollm2_gguf) -> None:  # type: ignore[no-untyped-def]
    """Its 576-wide rows take llama.cpp's fallback types; ffn_down (1536 wide) keeps the K-quant."""
    source = oracle.matrix_types(smollm2_gguf.source)
    expected = {
        "Q4_K_M": ("Q4_K", "Q6_K"),
        "Q5_K_M": ("Q5_K", "Q6_K"),
        "Q6_K": ("Q6_K",),
        "Q2_K": ("Q2_K", "Q3_K", "Q4_K"),
        "IQ4_XS": ("IQ4_XS", "Q5_K"),  # 576-wide rows fall back to IQ4_NL; 27 ffn_down stay IQ4_XS
    }
    for qtype in oracle.SMOLLM2_QTYPES:
        matrices = oracle.matrix_types(smollm2_gguf(qtype))
        assert matrices.keys() == source.keys()
        if qtype in expected:
            assert matrices["blk.0.ffn_down.weight"] in expected[qtype], (qtype, matrices["blk.0.ffn_down.weight"])
            assert matrices["blk.0.attn_q.weight"] not in expected[qtype]  # a fallback: 576 % 256 != 0
        elif qtype != "Q3_K":
            assert matrices["blk.0.attn_q.weight"] == qtype
    ids = oracle.held_out_ids(smollm2_gguf.source, HELD_OUT_TEXT)
    logits = oracle.llama_logits(smollm2_gguf("Q4_K_M"), ids)
    assert logits.shape == (len(ids), 49152) and np.isfinite(logits).all()
