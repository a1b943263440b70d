"""Shared fixtures: a private data dir per test, and a tiny random Llama model.

The tiny model is built once per test session: a byte-level BPE tokenizer trained on a
few sentences, a 2-layer Llama with random weights, saved as a Hugging Face folder and
prepared through Inkwell's own pipeline (optimum export + quantization), like a user's
import would be.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
TINY_CONTEXT = 128
CORPUS = [
    "The quick brown fox jumps over the lazy dog.",
    "Paris is the capital of France, and Berlin is the capital of Germany.",
    "Hello world! Café, naïve, 日本語, emoji 👋🙂 and more text for the tokenizer.",
    "Customer service replies should be friendly, clear and short.",
    "Writers continue, rewrite, shorten and summarise their drafts.",
] * 20


@pytest.fixture(autouse=True)
def us_english_numbers() -> None:
    """The window shows numbers and dates in the user's locale; the tests read US English.
    Set before every test: one that builds the whole app installs the system's locale."""
    from PySide6.QtCore import QLocale

    QLocale.setDefault(QLocale("en_US"))


@pytest.fixture(autouse=True)
def private_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own data dir and an empty models dir unless it asks for a model."""
    data = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("INKWELL_DATA_DIR", str(data))
    monkeypatch.setenv("INKWELL_MODELS_DIR", str(tmp_path_factory.mktemp("models")))
    return data


def build_tiny_hf_model(folder: Path) -> Path:
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM

    folder.mkdir(parents=True, exist_ok=True)
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=420,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tokenizer.train_from_iterator(CORPUS, trainer)
    tokenizer.save(str(folder / "tokenizer.json"))
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "bos_token": "<|im_start|>",
                "eos_token": "<|im_end|>",
                "chat_template": CHATML,
                "model_max_length": TINY_CONTEXT,
            }
        )
    )
    config = LlamaConfig(
        vocab_size=tokenizer.get_vocab_size(),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=TINY_CONTEXT,
        bos_token_id=1,
        eos_token_id=2,
        tie_word_embeddings=True,
        initializer_range=0.5,  # peaked logits, so greedy choices are not near-ties
    )
    torch.manual_seed(0)
    LlamaForCausalLM(config).save_pretrained(folder)
    return folder


@pytest.fixture
def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    """An open database in a temporary folder."""
    from desktop_app.store import open_store

    opened = open_store(tmp_path / "inkwell.db")
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def tiny_hf_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_hf_model(tmp_path_factory.mktemp("tiny-hf") / "tiny-llama")


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_hf_model: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from desktop_app.models.prepare import prepare_model

    out = tmp_path_factory.mktemp("tiny-onnx")
    # optimum's route: the engine tests want its three variants, and the route itself is tested
    return prepare_model(
        tiny_hf_model, out, model_id="tiny-llama", quantizations=("fp32", "q4", "fp16"), route="export"
    )


@pytest.fixture(scope="session")
def tiny_engine_factory(tiny_model_dir: Path):  # type: ignore[no-untyped-def]
    from desktop_app.engine import load_engine

    def make(quantization: str = "fp32"):  # type: ignore[no-untyped-def]
        return load_engine(tiny_model_dir, provider="cpu", quantization=quantization, threads=1)

    return make


@pytest.fixture
def tiny_engine(tiny_engine_factory):  # type: ignore[no-untyped-def]
    return tiny_engine_factory("fp32")


# --- llama.cpp as the oracle for GGUF imports (issue 16); the helpers live in tests/models/ ---


@pytest.fixture(scope="session")
def llama_cpp():  # type: ignore[no-untyped-def]
    """The llama_cpp module; a loud skip where it is not installed, a failure in CI."""
    from tests.models.oracle import require_llama_cpp

    return require_llama_cpp()


@pytest.fixture(scope="session")
def tiny_gguf(llama_cpp, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """tiny_gguf(arch, qtype) -> Path of a tiny random GGUF; kept in the pytest cache between runs."""
    from tests.models.tiny_gguf import TinyGGUFs, cached_root

    cache = getattr(request.config, "cache", None)
    folder = cache.mkdir("inkwell-tiny-gguf") if cache is not None else tmp_path_factory.mktemp("tiny-gguf")
    return TinyGGUFs(cached_root(folder))


@pytest.fixture(scope="session")
def smollm2_gguf(llama_cpp, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """smollm2_gguf(qtype) -> Path of the default model's GGUF re-quantized (made per session)."""
    import shutil

    from tests.models.oracle import SmolLM2GGUFs

    folder = tmp_path_factory.mktemp("smollm2-gguf")
    yield SmolLM2GGUFs(folder)
    shutil.rmtree(folder, ignore_errors=True)  # about a gigabyte for all ten types


DEFAULT_MODEL_ID = "smollm2-135m-instruct"


@pytest.fixture(scope="session")
def default_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The checkout's prepared default model (make run prepares it), else prepared now."""
    from desktop_app.core.manifest import ModelManifest
    from desktop_app.core.paths import bundled_models_dir
    from desktop_app.models.gguf_import import is_current

    bundled = bundled_models_dir() / DEFAULT_MODEL_ID
    if (bundled / "manifest.json").is_file() and is_current(ModelManifest.read(bundled)):
        return bundled
    models = tmp_path_factory.mktemp("default-model")
    env = dict(os.environ, INKWELL_MODELS_DIR=str(models))
    done = subprocess.run(
        [sys.executable, "-m", "desktop_app", "models", "prepare"],
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return models / DEFAULT_MODEL_ID


@pytest.fixture(scope="session")
def tiny_gguf_engine(tiny_gguf, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """tiny_gguf_engine(qtype="F32") -> a fresh Engine on the tiny Llama GGUF imported by
    prepare_model (a GroupQueryAttention graph with in-place KV, as the default model is)."""
    from desktop_app.engine import load_engine
    from desktop_app.models.prepare import prepare_model

    root = tmp_path_factory.mktemp("tiny-gguf-models")
    made: dict[str, Path] = {}

    def make(qtype: str = "F32"):  # type: ignore[no-untyped-def]
        if qtype not in made:
            made[qtype] = prepare_model(tiny_gguf("llama", qtype), root, model_id=f"tiny-llama-{qtype}", force=True)
        return load_engine(made[qtype], provider="cpu", threads=1)

    return make


# --- a sentence-embedding model for searching documents by meaning (issue 18) ---

# Words the tiny embedding model takes as the same (and BM25, which matches words, does not).
EMBEDDING_SYNONYMS = {"reimbursement": "refund", "refunds": "refund", "purchases": "orders", "cash": "refund"}


@pytest.fixture(scope="session")
def tiny_embedding_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny bag-of-words BERT (tests/embedding_model.py) as a sentence-transformers folder."""
    from tests.documents_corpus import corpus_texts
    from tests.embedding_model import build_tiny_embedding_folder

    folder = tmp_path_factory.mktemp("tiny-st") / "tiny-minilm"
    return build_tiny_embedding_folder(folder, corpus_texts(), EMBEDDING_SYNONYMS)


@pytest.fixture(scope="session")
def tiny_embedding_dir(tiny_embedding_source: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """That model imported through Inkwell's own route (`inkwell models import FOLDER`); the
    models folder that holds it."""
    from desktop_app.models.prepare import prepare_model

    models = tmp_path_factory.mktemp("embedding-models")
    prepare_model(tiny_embedding_source, models)
    return models
