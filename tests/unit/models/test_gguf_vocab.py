"""A GGUF vocabulary becomes a tokenizer without transformers; what it cannot read is named.

(That the tokenizers split text as llama.cpp does is tests/models/test_gguf_tokenizer.py's
part: it needs llama.cpp.)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from desktop_app.core.errors import UserError
from desktop_app.models import export
from desktop_app.models.gguf_vocab import PRE_TOKENIZERS, build_vocab_tokenizer, default_add_bos
from tests.unit.models.gguf_fixtures import tiny_spm_vocabulary, tiny_vocabulary, write_gguf

ROOT = Path(__file__).resolve().parents[3]


def bpe_fields(**changes: Any) -> dict[str, Any]:
    tokens, merges = tiny_vocabulary()
    fields = {
        "tokenizer.ggml.model": "gpt2",
        "tokenizer.ggml.pre": "llama-bpe",
        "tokenizer.ggml.tokens": tokens,
        "tokenizer.ggml.token_type": [1] * len(tokens),
        "tokenizer.ggml.merges": merges,
    }
    return {**fields, **changes}


def spm_fields(**changes: Any) -> dict[str, Any]:
    tokens, scores, types = tiny_spm_vocabulary()
    fields = {
        "tokenizer.ggml.model": "llama",
        "tokenizer.ggml.tokens": tokens,
        "tokenizer.ggml.scores": scores,
        "tokenizer.ggml.token_type": types,
    }
    return {**fields, **changes}


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        (bpe_fields(**{"tokenizer.ggml.model": "t5"}), "'t5'"),
        (bpe_fields(**{"tokenizer.ggml.model": None}), "None"),
        (bpe_fields(**{"tokenizer.ggml.pre": "deepseek-llm"}), "'deepseek-llm'"),
        (bpe_fields(**{"tokenizer.ggml.merges": None}), "tokenizer.ggml.merges"),
        (bpe_fields(**{"tokenizer.ggml.tokens": []}), "tokenizer.ggml.tokens"),
    ],
    ids=["t5", "no-model", "unknown-pre", "no-merges", "no-tokens"],
)
def test_what_cannot_be_read_is_named(fields: dict[str, Any], named: str) -> None:
    with pytest.raises(UserError) as raised:
        build_vocab_tokenizer(fields, "model.gguf")
    assert named in str(raised.value) and "model.gguf" in str(raised.value)


def test_byte_level_text_round_trips_and_a_missing_pre_type_reads_as_default() -> None:
    text = "Paris is the capital of France, 12345 naïve 日本 👋\n\t  end"
    for fields in (bpe_fields(), bpe_fields(**{"tokenizer.ggml.pre": None})):
        tokenizer = build_vocab_tokenizer(fields, "model.gguf")
        ids = tokenizer.encode(text, add_special_tokens=False).ids
        assert tokenizer.decode(ids) == text
    # Merges llama.cpp would never use (a piece not in the vocabulary) are left out, not refused.
    extra = bpe_fields(**{"tokenizer.ggml.merges": [*bpe_fields()["tokenizer.ggml.merges"], "zz qq", "nospace"]})
    assert build_vocab_tokenizer(extra, "model.gguf").encode("Paris").ids


def test_sentencepiece_prefixes_a_space_falls_back_to_bytes_and_round_trips() -> None:
    tokenizer = build_vocab_tokenizer(spm_fields(), "model.gguf")
    encoded = tokenizer.encode("The fox 👋", add_special_tokens=False)
    assert encoded.tokens[:2] == ["▁", "T"]  # the space in front, as llama.cpp puts it
    assert encoded.tokens[-4:] == ["<0xF0>", "<0x9F>", "<0x91>", "<0x8B>"]  # no token for 👋: its bytes
    assert tokenizer.decode(encoded.ids) == "The fox 👋"
    plain = build_vocab_tokenizer(spm_fields(**{"tokenizer.ggml.add_space_prefix": False}), "model.gguf")
    assert plain.encode("The", add_special_tokens=False).tokens[0] == "T"  # Gemma's files say so


def test_bos_is_added_by_default_where_llama_cpp_adds_it() -> None:
    assert default_add_bos(spm_fields()) is True
    assert default_add_bos(bpe_fields()) is True  # Llama 3
    assert default_add_bos(bpe_fields(**{"tokenizer.ggml.pre": "qwen2"})) is False
    assert default_add_bos(bpe_fields(**{"tokenizer.ggml.pre": None})) is False
    assert PRE_TOKENIZERS["tekken"].add_bos and not PRE_TOKENIZERS["smollm"].add_bos


def test_a_gguf_import_needs_only_onnx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(export, "_find", lambda module: None if module == "transformers" else object())
    export.require_export_extra("gguf")  # no transformers: fine
    with pytest.raises(UserError, match="transformers"):
        export.require_export_extra("hf")
    monkeypatch.setattr(export, "_find", lambda module: None)
    with pytest.raises(UserError, match="onnx package"):
        export.require_export_extra("gguf")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    with pytest.raises(UserError) as raised:
        export.require_export_extra("hf")
    assert "imports GGUF files" in str(raised.value.hint)


def test_importing_a_gguf_file_loads_no_transformers_or_torch(tmp_path: Path) -> None:
    gguf = write_gguf(tmp_path / "tiny.gguf", "qwen2")
    script = (
        "import sys; from pathlib import Path; from desktop_app.models.prepare import prepare_model; "
        f"prepare_model(Path({str(gguf)!r}), Path({str(tmp_path / 'out')!r}), model_id='tiny'); "
        "print(sorted(m for m in ('transformers', 'torch', 'optimum', 'gguf') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "out" / "tiny" / "tokenizer.json").is_file()
