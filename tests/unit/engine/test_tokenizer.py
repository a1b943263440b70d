"""Incremental detokenization never breaks multi-byte characters."""

from __future__ import annotations

from pathlib import Path

import pytest

from desktop_app.core.errors import UserError
from desktop_app.engine.tokenizer import REPLACEMENT_CHAR, IncrementalDecoder, Tokenizer

TEXT = "Hello 👋 café, naïve 日本語 🙂🎉 done."


@pytest.fixture
def tokenizer(tiny_model_dir: Path) -> Tokenizer:
    return Tokenizer(tiny_model_dir / "tokenizer.json")


def test_streamed_pieces_join_to_the_full_text_without_broken_characters(tokenizer: Tokenizer) -> None:
    ids = tokenizer.encode(TEXT)
    assert len(ids) > len(TEXT.split())  # emoji and CJK really span several byte tokens
    decoder = IncrementalDecoder(tokenizer)
    pieces = [decoder.push(i) for i in ids] + [decoder.flush()]
    assert "".join(pieces) == TEXT
    assert not any(REPLACEMENT_CHAR in p for p in pieces)


def test_an_incomplete_character_is_held_back_until_complete(tokenizer: Tokenizer) -> None:
    ids = tokenizer.encode("👋")
    assert len(ids) > 1
    decoder = IncrementalDecoder(tokenizer)
    assert [decoder.push(i) for i in ids[:-1]] == [""] * (len(ids) - 1)
    assert decoder.push(ids[-1]) == "👋"


def test_special_tokens_in_text_map_to_their_ids(tokenizer: Tokenizer) -> None:
    ids = tokenizer.encode("<|im_start|>user\nHi<|im_end|>")
    assert ids[0] == tokenizer.token_to_id("<|im_start|>")
    assert ids[-1] == tokenizer.token_to_id("<|im_end|>")
    assert tokenizer.decode(ids) == "user\nHi"


def test_a_broken_tokenizer_file_is_a_user_error(tmp_path: Path) -> None:
    bad = tmp_path / "tokenizer.json"
    bad.write_text("{not json")
    with pytest.raises(UserError, match="tokenizer"):
        Tokenizer(bad)
