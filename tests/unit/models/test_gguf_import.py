"""The GGUF route: tiny GGUF files of each architecture and type, imported and run by the
engine, against a numpy forward pass over the file's dequantized tensors."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from gguf import GGMLQuantizationType as T

from desktop_app.core.chat import ChatMessage
from desktop_app.core.errors import UserError
from desktop_app.core.generation import GenerationSettings
from desktop_app.core.manifest import ModelManifest
from desktop_app.engine import ggml_ops, load_engine
from desktop_app.engine.events import Finished
from desktop_app.engine.generate import GenerationRequest
from desktop_app.engine.onnx_model import KVCache, OnnxCausalLM
from desktop_app.models.gguf_import import import_gguf
from desktop_app.models.gguf_weights import REGRIDDED, _in_eights
from desktop_app.models.prepare import prepare_model
from desktop_app.models.registry import ModelRegistry
from desktop_app.models.workspace import PARTIAL_PREFIX, PreparationCancelled, inspect_source
from tests.unit.models.gguf_fixtures import reference_logits, write_gguf

GEMMA2 = {"gemma2.attn_logit_softcapping": 50.0, "gemma2.final_logit_softcapping": 30.0}
CASES: list[tuple[str, Any, dict[str, Any]]] = [
    ("llama", T.Q8_0, {}),
    ("llama", T.Q4_0, {}),
    ("llama", T.Q4_1, {}),
    ("llama", T.F16, {}),
    ("llama", T.F32, {"tied": False}),
    ("llama", T.Q4_1, {"types": {"attn_v": T.Q8_0, "ffn_down": T.Q4_0}, "tied": False}),  # mixed grids
    ("mistral", T.Q4_0, {}),
    ("qwen2", T.Q8_0, {}),  # q/k/v biases
    ("qwen3", T.Q4_1, {}),  # q/k norms
    ("gemma2", T.Q8_0, {"extra_metadata": {**GEMMA2, "gemma2.attention.sliding_window": 4}}),
    ("gemma3", T.Q4_0, {"layers": 6, "extra_metadata": {"gemma3.attention.sliding_window": 4}}),
    ("phi3", T.Q8_0, {}),  # fused qkv and gate/up
]
K_SIZES = {"hidden": 256, "ffn": 512, "head_dim": 64}  # K-quant blocks span 256 columns
Q4_K_M = {"attn_v": T.Q6_K, "ffn_down": T.Q6_K, "output": T.Q6_K}  # llama.cpp's usual mix
CASES += [("llama", qtype, {**K_SIZES}) for qtype in (T.Q5_0, T.Q5_1, T.Q2_K, T.Q3_K, T.Q4_K, T.Q5_K, T.Q6_K)] + [
    ("llama", T.Q4_K, {**K_SIZES, "types": Q4_K_M, "tied": False}),  # Q4_K embedding table: offsets in the Gather
    ("qwen2", T.Q4_K, {**K_SIZES, "types": {"attn_v": T.Q6_K}}),  # tied Q4_K output projection
    ("qwen3", T.Q5_K, {**K_SIZES}),
]
PROMPT = [5, 17, 42, 99, 150, 7, 3, 260, 31, 12, 88, 201]
OFFSET_TYPES = (T.Q4_1, T.Q5_1, T.Q2_K, T.Q4_K, T.Q5_K)


def imported(
    folder: Path, source: Path, accuracy_level: int, refine_output: bool = False, keep_blocks: bool = True
) -> ModelManifest:
    folder.mkdir()
    return import_gguf(
        inspect_source(source),
        folder,
        "m",
        "m",
        lambda *_: None,
        accuracy_level=accuracy_level,
        refine_output=refine_output,
        keep_blocks=keep_blocks,
    )


def run_onnx(folder: Path, ids: list[int], prefill: int) -> np.ndarray:
    """Logits of positions prefill-1 .. end: a prefill, then one token at a time."""
    model = OnnxCausalLM(folder / "model.q4.onnx", "cpu", threads=1)
    logits, cache = model.forward(ids[:prefill], KVCache.empty(model.kv))
    rows = [logits]
    for token in ids[prefill:]:
        logits, cache = model.forward([token], cache)
        rows.append(logits)
    return np.array(rows)


@pytest.mark.parametrize(("arch", "qtype", "options"), CASES, ids=[f"{a}-{q.name}" for a, q, _ in CASES])
def test_logits_match_the_reference(tmp_path: Path, arch: str, qtype: Any, options: dict[str, Any]) -> None:
    source = write_gguf(tmp_path / "m.gguf", arch, qtype, **options)
    # fp32 activations through ONNX Runtime's own products: only the grids are compared
    # (Inkwell's operators, which round the input as llama.cpp does, are tested below).
    manifest = imported(tmp_path / "out", source, accuracy_level=0, keep_blocks=False)
    # MatMulNBits computes a lone row by another kernel than several: checked proposals could
    # part from decoding, and the engine's speculation stays off (float matrices do not)
    assert manifest.extra["checked_rows_exact"] is (qtype in (T.F32, T.F16))
    got = run_onnx(tmp_path / "out", PROMPT, prefill=7)
    want = reference_logits(source, PROMPT)[6:]
    difference = np.abs(got - want).max() / np.abs(want).max()
    assert (got.argmax(-1) == want.argmax(-1)).all()
    # Offsets are carried as 8-bit rows (a scale per 32 offsets): close, not exact.
    has_offsets = qtype in OFFSET_TYPES
    assert difference < (1e-2 if has_offsets else 1e-5), difference


KEPT_CASES = [case for case in CASES if case[1].name in ggml_ops.HELD_TYPES and case[1].name not in REGRIDDED]


@pytest.mark.parametrize(("arch", "qtype", "options"), KEPT_CASES, ids=[f"{a}-{q.name}" for a, q, _ in KEPT_CASES])
def test_k_quant_files_keep_their_blocks_for_inkwells_operators(
    tmp_path: Path, arch: str, qtype: Any, options: dict[str, Any]
) -> None:
    """Q4_0, Q4_1, Q5_0, Q5_1, Q8_0 and the K types are copied as they are and read by
    GgmlMatMul/GgmlGather: the model holds the file's bytes for them, and follows the float
    reference up to the 8-bit rounding of the input that llama.cpp also applies (tests/models
    checks llama.cpp itself)."""
    source = write_gguf(tmp_path / "m.gguf", arch, qtype, **options)
    manifest = imported(tmp_path / "out", source, accuracy_level=4)
    assert manifest.extra["operators"] == "inkwell.ggml"
    assert manifest.extra["checked_rows_exact"] is True
    graph = onnx.load(str(tmp_path / "out" / "model.q4.onnx"), load_external_data=False)
    ops = {node.op_type for node in graph.graph.node}
    assert "GgmlMatMul" in ops and "MatMulNBits" not in ops
    # gate and up of one type go, packed, straight into the down projection, which applies
    # the activation (silu; Gemma's gelu keeps its nodes)
    fused = [n for n in graph.graph.node if any(a.name == "swiglu" and a.i == 1 for a in n.attribute)]
    if arch in ("gemma2", "gemma3"):
        assert not fused and "FastGelu" in ops
    else:
        assert fused and "Sigmoid" not in ops
    # the 32-weight types' products have their rows interleaved by eights (the same bytes,
    # read faster) where the rows come in eights (not the 300-token vocabulary's); the K
    # types keep the file's order
    held = {number: name for name, number in ggml_ops.HELD_TYPES.items()}
    rows = {tensor.name: tensor.dims[0] for tensor in graph.graph.initializer}
    for node in graph.graph.node:
        if node.op_type == "GgmlMatMul":
            attributes = {a.name: a.i for a in node.attribute}
            interleaved = held[attributes["ggml_type"]] in ggml_ops.INTERLEAVED_TYPES and rows[node.input[1]] % 8 == 0
            assert attributes.get("interleave", 0) == (8 if interleaved else 0), node.name
    homes = manifest.extra["homes"]
    for type_name in ggml_ops.HELD_TYPES:
        if type_name in homes and type_name not in REGRIDDED:  # the bytes read a weight are the file's own
            assert homes[type_name]["home_bits_per_weight"] == homes[type_name]["file_bits_per_weight"]
    got = run_onnx(tmp_path / "out", PROMPT, prefill=7)
    want = reference_logits(source, PROMPT)[6:]
    assert (got.argmax(-1) == want.argmax(-1)).mean() >= 0.8
    # (offsets: the input's block sums rounded too; the mixed Q4_1 file came to 0.102)
    assert np.abs(got - want).max() / np.abs(want).max() < (0.12 if qtype in OFFSET_TYPES else 0.1)


def test_the_engine_runs_it_with_int8_activations(tmp_path: Path) -> None:
    source = write_gguf(tmp_path / "m.gguf", "llama", T.Q4_1, tied=False)
    imported(tmp_path / "out", source, accuracy_level=4)
    engine = load_engine(tmp_path / "out", "cpu")
    assert engine.model.in_place_kv  # GroupQueryAttention appends to the shared buffers
    logits, cache = engine.model.forward(PROMPT[:7], engine.model.empty_cache())
    rows = [logits]
    for token in PROMPT[7:]:
        logits, cache = engine.model.forward([token], cache)
        rows.append(logits)
    want = reference_logits(source, PROMPT)[6:]
    agreement = (np.array(rows).argmax(-1) == want.argmax(-1)).mean()
    # int8 activations move these random, peaked logits by up to ~15% of their range
    assert agreement >= 0.8, agreement


def test_prepare_model_installs_a_gguf_with_its_manifest(tmp_path: Path) -> None:
    source = write_gguf(tmp_path / "tiny.gguf", "llama", T.Q4_1, types={"ffn_down": T.Q8_0})
    steps: list[tuple[int, int, str]] = []
    folder = prepare_model(source, tmp_path / "models", progress=lambda *step: steps.append(step), gpu_variant=False)
    assert folder == tmp_path / "models" / "tiny"
    manifest = ModelManifest.read(folder)
    assert manifest.architecture == "llama" and manifest.context_length == 256
    assert manifest.source["path"] == str(source.resolve())  # what `models check` compares with
    assert manifest.extra["attention"] == "GroupQueryAttention"
    assert manifest.extra["quant_mix"] == {"F32": 5, "Q4_1": 13, "Q8_0": 2}
    assert manifest.extra["homes"]["Q4_1"]["home"] == "the file's own blocks (Inkwell's operators)"
    assert manifest.extra["homes"]["Q8_0"]["home_bits_per_weight"] == 8.5  # the file's own blocks
    assert manifest.extra["operators"] == "inkwell.ggml"
    assert [(v.quantization, v.providers) for v in manifest.variants] == [("q4", ("cpu",))]
    assert manifest.special_tokens["eos_token"] == "<|im_end|>"  # id 2 in the fixture's vocabulary
    assert "<|im_end|>" in manifest.special_tokens["stop_tokens"]
    assert manifest.chat_template and "im_start" in manifest.chat_template
    assert [s[0] for s in steps] == sorted(s[0] for s in steps) and steps[-1][0] == steps[-1][1]
    assert any("MB/s" in s[2] for s in steps)
    assert not list((tmp_path / "models").glob(PARTIAL_PREFIX + "*"))

    engine = load_engine(folder, "cpu")
    request = GenerationRequest(
        messages=(ChatMessage("user", "Paris is the capital"),),
        settings=GenerationSettings(temperature=0.0, max_new_tokens=8),
    )
    finished = [e for e in engine.generate(request) if isinstance(e, Finished)]
    assert finished and finished[0].stats.generated_tokens >= 1
    prompt = engine.build_prompt(request).token_ids
    assert prompt[0] == engine.tokenizer.token_to_id("<|im_start|>")  # special tokens are single ids


def test_the_gpu_variant_is_made_where_the_gpu_can_run_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from desktop_app.models import prepare

    source = write_gguf(tmp_path / "tiny.gguf", "llama", T.Q4_1, types={"ffn_down": T.Q8_0})
    weights = sum(t.rows * t.columns for t in prepare.GGUFFile(source).tensors.values())
    assert prepare.estimate_gguf_output(source, True) == prepare.estimate_gguf_output(source) + 2 * weights

    def variants(folder: Path) -> tuple[list[tuple[str, tuple[str, ...]]], str]:
        manifest = ModelManifest.read(folder)
        return [(v.quantization, v.providers) for v in manifest.variants], manifest.extra.get("skipped_variants", "")

    monkeypatch.setattr(prepare, "cuda_unavailable_reason", lambda: None)
    monkeypatch.setattr(prepare, "cuda_loads", lambda: True)
    monkeypatch.setattr(prepare, "gpu_memory_bytes", lambda: 8 << 30)
    steps: list[tuple[int, int, str]] = []
    both = prepare_model(source, tmp_path / "gpu", progress=lambda *step: steps.append(step))
    assert [s[0] for s in steps] == sorted(s[0] for s in steps) and steps[-1][0] == steps[-1][1]
    assert variants(both) == ([("q4", ("cpu",)), ("fp16", ("cuda",))], "")
    assert dict(ModelRegistry([tmp_path / "gpu"]).list()[0].details())["Runs as"] == "q4 (CPU), fp16 (GPU)"
    assert onnx.load(both / "model.fp16.onnx", load_external_data=False).graph.input[3].type.tensor_type.elem_type == (
        onnx.TensorProto.FLOAT16  # the KV cache
    )
    ids = [1, 5, 9, 12]
    q4, fp16 = (load_engine(both, "cpu", q, threads=1).model for q in ("q4", "fp16"))
    assert q4.forward(ids, q4.empty_cache())[0].argmax() == fp16.forward(ids, fp16.empty_cache())[0].argmax()
    assert variants(prepare_model(source, tmp_path / "cpu-asked", quantizations=("q4",)))[1].endswith(
        "fp16 was not asked for"
    )
    monkeypatch.setattr(prepare, "cuda_loads", lambda: False)  # CUDA's libraries missing
    assert "the CUDA provider did not load" in variants(prepare_model(source, tmp_path / "no-libraries"))[1]
    monkeypatch.setattr(prepare, "cuda_loads", lambda: True)
    monkeypatch.setattr(prepare, "gpu_memory_bytes", lambda: 1 << 30)  # less than the weights and a gigabyte
    listed, why = variants(prepare_model(source, tmp_path / "small-gpu"))
    assert listed == [("q4", ("cpu",))] and "the GPU's memory (1.1 GB) is less than" in why
    monkeypatch.setattr(prepare, "cuda_unavailable_reason", lambda: "no NVIDIA GPU or driver was found")
    assert variants(prepare_model(source, tmp_path / "no-gpu"))[1].endswith("no NVIDIA GPU or driver was found")
    assert len(variants(prepare_model(source, tmp_path / "asked", gpu_variant=True))[0]) == 2


def test_cancel_leaves_nothing(tmp_path: Path) -> None:
    source = write_gguf(tmp_path / "c.gguf", "llama", T.Q8_0)
    cancel = threading.Event()

    def progress(step: int, total: int, message: str) -> None:
        cancel.set()  # after the tokenizer: the next tensor sees it

    with pytest.raises(PreparationCancelled):
        prepare_model(source, tmp_path / "models", progress=progress, cancel=cancel)
    assert not list((tmp_path / "models").iterdir())


def _patch(path: Path, old: bytes, new: bytes, after: bytes = b"") -> None:
    data = bytearray(path.read_bytes())
    start = data.index(after) + len(after) if after else 0
    at = data.index(old, start)
    data[at : at + len(old)] = new
    path.write_bytes(bytes(data))


def _tensor_info(name: str) -> bytes:
    return len(name).to_bytes(8, "little") + name.encode()


def _broken(kind: str, path: Path) -> Path:
    if kind == "unknown architecture":
        write_gguf(path, "llama", T.Q8_0)
        _patch(path, b"llama", b"lamma", after=b"general.architecture")
        return path
    write_gguf(path, "llama", T.Q4_0, types={"ffn_down": T.Q8_0})
    if kind == "truncated":
        path.write_bytes(path.read_bytes()[:-4096])
    elif kind == "wrong magic":
        _patch(path, b"GGUF", b"GGUG")
    elif kind == "sizes disagree with shapes":  # blk.0.attn_q said to be twice as wide: it overlaps attn_k
        info = _tensor_info("blk.0.attn_q.weight") + (2).to_bytes(4, "little") + (64).to_bytes(8, "little")
        _patch(path, info, info[:-8] + (128).to_bytes(8, "little"))
    elif kind == "unknown type":
        info = _tensor_info("blk.0.ffn_gate.weight") + (2).to_bytes(4, "little")
        _patch(
            path,
            info + (64).to_bytes(8, "little") + (128).to_bytes(8, "little") + (2).to_bytes(4, "little"),
            info + (64).to_bytes(8, "little") + (128).to_bytes(8, "little") + (250).to_bytes(4, "little"),
        )
    elif kind == "unsupported type":  # MXFP4 (gpt-oss): blocks of 32 in 17 bytes, within Q4_0's 18
        info = _tensor_info("blk.0.ffn_gate.weight") + (2).to_bytes(4, "little")
        _patch(
            path,
            info + (64).to_bytes(8, "little") + (128).to_bytes(8, "little") + (2).to_bytes(4, "little"),
            info + (64).to_bytes(8, "little") + (128).to_bytes(8, "little") + (int(T.MXFP4)).to_bytes(4, "little"),
        )
    return path


BROKEN = {
    "truncated": "truncated",
    "wrong magic": "not a GGUF file",
    "sizes disagree with shapes": "overlaps",
    "unknown type": "unknown GGUF type",
    "unsupported type": "blk.0.ffn_gate.weight",
    "unknown architecture": "'lamma' architecture",
}


@pytest.mark.parametrize("kind", list(BROKEN))
def test_bad_files_are_refused_clearly_and_leave_nothing(tmp_path: Path, kind: str) -> None:
    source = _broken(kind, tmp_path / "bad.gguf")
    out = tmp_path / "models"
    with pytest.raises(UserError, match=BROKEN[kind]) as raised:
        prepare_model(source, out)
    if kind == "unsupported type":
        assert "MXFP4" in str(raised.value)
    assert not out.exists() or not list(out.iterdir())


@pytest.mark.slow
def test_the_default_model_through_the_gguf_route(tmp_path: Path) -> None:
    """SmolLM2-135M-Instruct (Q4_1, its output projection Q8_0): faithful to the file, and it answers."""
    from desktop_app.models.prepare import prepare_default
    from desktop_app.models.workspace import locate_default_gguf

    folder = prepare_default(tmp_path / "models")
    manifest = ModelManifest.read(folder)
    assert manifest.architecture == "llama" and manifest.context_length == 8192
    assert manifest.extra["quant_mix"] == {"F32": 61, "Q4_1": 210, "Q8_0": 1}
    assert "<|im_end|>" in manifest.special_tokens["stop_tokens"]
    engine = load_engine(folder, "cpu")
    text = "The capital of France is Paris. It is known for the Eiffel Tower, its museums and its cafés."
    ids = engine.tokenizer.encode(text)
    logits, cache = engine.model.forward(ids[:1], engine.model.empty_cache())
    rows = [logits]
    for token in ids[1:-1]:
        logits, cache = engine.model.forward([token], cache)
        rows.append(logits)
    want = reference_logits(locate_default_gguf(), ids[:-1])
    agreement = (np.array(rows).argmax(-1) == want.argmax(-1)).mean()
    assert agreement >= 0.9, agreement
    request = GenerationRequest(
        messages=(ChatMessage("user", "What is the capital of France?"),),
        settings=GenerationSettings(temperature=0.0, max_new_tokens=24),
    )
    finished = [e for e in engine.generate(request) if isinstance(e, Finished)]
    assert "Paris" in finished[0].text


@pytest.mark.slow
def test_importing_the_default_model_stays_in_bounded_memory(tmp_path: Path) -> None:
    import subprocess
    import sys

    from desktop_app.models.workspace import locate_default_gguf

    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from desktop_app.models.prepare import prepare_default\n"
        "started = time.perf_counter()\n"
        "prepare_default(Path(sys.argv[1]))\n"
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss across fork and exec from this test's process
        "peak = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
        "print(time.perf_counter() - started, peak * 1024)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "models")], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr
    seconds, peak = (float(v) for v in done.stdout.split()[-2:])
    assert peak < locate_default_gguf().stat().st_size + (1 << 30), peak
    assert seconds < 120, seconds


def test_a_file_without_a_template_is_a_base_model_unless_it_says_instruct(tmp_path: Path) -> None:
    base = imported(tmp_path / "base", write_gguf(tmp_path / "b.gguf", template=None), accuracy_level=4)
    assert base.chat_template is None and base.is_base_model
    instruct = write_gguf(tmp_path / "i.gguf", template=None, extra_metadata={"general.name": "Tiny 1B Instruct"})
    chosen = imported(tmp_path / "instruct", instruct, accuracy_level=4)
    assert chosen.chat_template is not None and "<|im_start|>" in chosen.chat_template and not chosen.is_base_model


def test_chunks_are_regrouped_into_whole_groups_of_eight_rows() -> None:
    rows = np.arange(48 * 3, dtype=np.uint8).reshape(48, 3)
    for step in (1, 5, 8, 13, 48):
        chunks = [(first, rows[first : first + step]) for first in range(0, 48, step)]
        regrouped = list(_in_eights(iter(chunks)))
        assert all(len(part) % 8 == 0 and first % 8 == 0 for first, part in regrouped)
        assert np.array_equal(np.concatenate([part for _, part in regrouped]), rows)
        assert [first for first, _ in regrouped] == list(np.cumsum([0] + [len(p) for _, p in regrouped])[:-1])
    with pytest.raises(RuntimeError, match="groups of eight"):
        list(_in_eights(iter([(0, rows[:12])])))
