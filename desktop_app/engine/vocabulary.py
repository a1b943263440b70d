"""Each token's bytes, read from a Hugging Face tokenizer: what a grammar constraint matches.

Vocabularies spell tokens in their own alphabets. Byte-level BPE (GPT-2, SmolLM2, Qwen,
Llama 3) maps every byte to a printable character (a space is "Ġ"); SentencePiece (Llama 2,
Mistral, Gemma) writes a space as "▁" and a byte it has no piece for as "<0xNN>". The
tokenizer's decoder lists the steps that turn token strings into text; they are replayed
here one token at a time, so a token holding part of a multi-byte character keeps its
bytes (decoding a lone token with the tokenizer would give U+FFFD instead). Replaying the
decoder, rather than guessing the kind from the vocabulary, also reads right the mixed
decoders that transformers' GGUF conversion writes (SmolLM2's: ByteFallback, Replace and
ByteLevel), which llguidance's own tokenizer.json reader takes for SentencePiece.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.engine.tokenizer import Tokenizer

_BYTE_PIECE = re.compile(r"<0x([0-9A-Fa-f]{2})>")

Step = Callable[[str | bytes], str | bytes]


@dataclass(frozen=True)
class TokenBytes:
    """`tokens[id]` is the token's text as bytes (b"" for an id the vocabulary lacks)."""

    tokens: list[bytes]
    special_ids: list[int]  # added special tokens (<|im_end|>, <s>): never text a grammar may match

    def __len__(self) -> int:
        return len(self.tokens)


def byte_level_alphabet() -> dict[str, int]:
    """GPT-2's byte-to-character table, inverted: printable bytes stand for themselves, the
    rest (space, control bytes, ...) are given the characters from U+0100 on, in order."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    table = {chr(byte): byte for byte in printable}
    for shifted, byte in enumerate(sorted(set(range(256)) - set(printable))):
        table[chr(0x100 + shifted)] = byte
    return table


def _byte_fallback(value: str | bytes) -> str | bytes:
    if isinstance(value, str) and (found := _BYTE_PIECE.fullmatch(value)):
        return bytes([int(found.group(1), 16)])
    return value


def _replace(pattern: str, content: str) -> Step:
    def step(value: str | bytes) -> str | bytes:
        return value.replace(pattern, content) if isinstance(value, str) else value

    return step


def _byte_level(alphabet: dict[str, int]) -> Step:
    def step(value: str | bytes) -> str | bytes:
        if isinstance(value, bytes):
            return value
        try:
            return bytes(alphabet[char] for char in value)
        except KeyError:  # as the tokenizers library does: a token outside the alphabet stays as written
            return value

    return step


def _identity(value: str | bytes) -> str | bytes:
    return value


def decoder_steps(config: dict[str, Any] | None) -> list[Step]:
    """The per-token part of a tokenizer.json decoder; UserError for one that has no bytes."""
    if config is None:
        raise UserError(
            translate("Errors", "This model's tokenizer has no decoder, so its tokens cannot be matched to JSON text.")
        )
    kind = config.get("type")
    if kind == "Sequence":
        return [step for inner in config.get("decoders", []) for step in decoder_steps(inner)]
    if kind == "ByteFallback":
        return [_byte_fallback]
    if kind == "ByteLevel":
        return [_byte_level(byte_level_alphabet())]
    if kind == "Replace" and isinstance(config.get("pattern"), dict) and "String" in config["pattern"]:
        return [_replace(str(config["pattern"]["String"]), str(config.get("content", "")))]
    if kind == "Metaspace":
        return [_replace(str(config.get("replacement", "▁")), " ")]
    if kind in ("Fuse", "Strip"):
        # Fuse joins tokens and Strip trims the start of the whole text (SentencePiece's first
        # space): neither changes what one token stands for in the middle of a reply.
        return [_identity]
    raise UserError(
        translate(
            "Errors",
            "JSON output is not available for this model: its tokenizer's decoder ({kind}) does not map "
            "tokens to bytes. Byte-level BPE and SentencePiece vocabularies are supported.",
        ).format(kind=kind)
    )


def token_bytes(tokenizer: Tokenizer) -> TokenBytes:
    """The bytes of every token of `tokenizer`, in id order."""
    steps = decoder_steps(tokenizer.decoder_config())
    vocabulary = tokenizer.vocabulary()
    added = tokenizer.added_tokens()
    size = max([*vocabulary.values(), *added, -1]) + 1
    tokens = [b""] * size
    for text, token_id in vocabulary.items():
        value: str | bytes = text
        for step in steps:
            value = step(value)
        tokens[token_id] = value if isinstance(value, bytes) else value.encode("utf-8")
    for token_id, (content, _special) in added.items():
        tokens[token_id] = content.encode("utf-8")  # added tokens are written as their text
    special = sorted(token_id for token_id, (_content, is_special) in added.items() if is_special)
    return TokenBytes(tokens, special)
