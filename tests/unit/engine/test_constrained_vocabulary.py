"""Token bytes for a grammar constraint, on small tokenizers of both kinds built here."""

from __future__ import annotations

from pathlib import Path

import llguidance
import pytest
from tokenizers import Tokenizer as HFTokenizer
from tokenizers import decoders, models

from desktop_app.core.errors import UserError
from desktop_app.engine.tokenizer import Tokenizer
from desktop_app.engine.vocabulary import byte_level_alphabet, token_bytes
from tests.unit.engine.small_tokenizers import SPECIALS, TEXTS, byte_level_bpe, sentencepiece_bpe


def valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def spelled(tokenizer: Tokenizer, text: str) -> bytes:
    tokens = token_bytes(tokenizer).tokens
    return b"".join(tokens[token] for token in tokenizer.encode(text))


def test_the_byte_level_alphabet_covers_every_byte_once() -> None:
    alphabet = byte_level_alphabet()
    assert sorted(alphabet.values()) == list(range(256))
    assert alphabet["Ġ"] == ord(" ") and alphabet["Ċ"] == ord("\n") and alphabet["A"] == ord("A")


@pytest.mark.parametrize("text", TEXTS)
def test_byte_level_tokens_spell_the_text_byte_for_byte(tmp_path: Path, text: str) -> None:
    tokenizer = byte_level_bpe(tmp_path)
    assert spelled(tokenizer, text) == text.encode("utf-8")


def test_a_token_may_hold_part_of_a_character(tmp_path: Path) -> None:
    tokenizer = byte_level_bpe(tmp_path)
    tokens = token_bytes(tokenizer).tokens
    parts = [tokens[i] for i in tokenizer.encode("👋🙂")]
    assert b"".join(parts) == "👋🙂".encode()
    assert any(not valid_utf8(part) for part in parts)  # what decoding one token at a time would lose


@pytest.mark.parametrize("text", TEXTS)
def test_sentencepiece_tokens_spell_the_text_with_byte_pieces(tmp_path: Path, text: str) -> None:
    tokenizer = sentencepiece_bpe(tmp_path)
    assert any(tokenizer.id_to_token(i) == "<0xF0>" for i in tokenizer.encode("👋"))  # bytes, not <unk>
    assert spelled(tokenizer, text) == b" " + text.encode("utf-8")  # the prefix space it writes at the start
    assert spelled(tokenizer.without_prefix_space(), text) == text.encode("utf-8")


def test_a_gguf_conversions_mixed_decoder_is_read_as_byte_level(tmp_path: Path) -> None:
    # What transformers' GGUF conversion writes for SmolLM2 (models prepared before Inkwell
    # built GGUF tokenizers itself): SentencePiece steps before ByteLevel. Read as
    # SentencePiece, as llguidance's own reader does, " {" would be the bytes of "Ġ{".
    mixed = decoders.Sequence(
        [decoders.ByteFallback(), decoders.Fuse(), decoders.Replace("▁", " "), decoders.ByteLevel()]
    )
    tokenizer = byte_level_bpe(tmp_path, mixed)
    for text in TEXTS:
        assert spelled(tokenizer, text) == text.encode("utf-8")


@pytest.mark.parametrize("build", [byte_level_bpe, sentencepiece_bpe])
def test_every_token_reads_as_llguidance_reads_a_standard_tokenizer(tmp_path: Path, build) -> None:  # type: ignore[no-untyped-def]
    tokenizer = build(tmp_path)
    ours = token_bytes(tokenizer)
    path = tmp_path / ("bpe.json" if build is byte_level_bpe else "spm.json")
    theirs = llguidance.LLTokenizer(path.read_text(encoding="utf-8"))
    special = set(ours.special_ids)
    # The byte 0xFF is llguidance's marker of a special token (no UTF-8 text holds it), so
    # it reads the token for that byte as a special one and spells it b"".
    compared = [i for i in range(len(ours)) if i not in special and ours.tokens[i] != b"\xff"]
    assert len(compared) > 250
    assert [ours.tokens[i] for i in compared] == [theirs.decode_bytes([i]) for i in compared]


def test_special_tokens_are_listed_and_spelled(tmp_path: Path) -> None:
    tokenizer = byte_level_bpe(tmp_path)
    vocabulary = token_bytes(tokenizer)
    ids = [tokenizer.token_to_id(token) for token in SPECIALS]
    assert vocabulary.special_ids == sorted(ids)  # type: ignore[type-var]
    assert [vocabulary.tokens[i] for i in ids] == [token.encode() for token in SPECIALS]  # type: ignore[index]


def test_a_decoder_without_bytes_is_a_clear_error(tmp_path: Path) -> None:
    hf = HFTokenizer(models.WordPiece({"[UNK]": 0, "a": 1, "##b": 2}, unk_token="[UNK]"))
    hf.decoder = decoders.WordPiece()
    hf.save(str(tmp_path / "wordpiece.json"))
    with pytest.raises(UserError, match=r"decoder \(WordPiece\)"):
        token_bytes(Tokenizer(tmp_path / "wordpiece.json"))


def test_without_prefix_space_leaves_a_byte_level_tokenizer_as_it_was(tmp_path: Path) -> None:
    tokenizer = byte_level_bpe(tmp_path)
    for text in TEXTS:
        assert tokenizer.without_prefix_space().encode(text) == tokenizer.encode(text)
