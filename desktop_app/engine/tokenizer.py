"""Tokenizer (Hugging Face `tokenizers`, no transformers) and incremental detokenization."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tokenizers import Tokenizer as _HFTokenizer

from desktop_app.core.errors import UserError

REPLACEMENT_CHAR = "\ufffd"


class Tokenizer:
    def __init__(self, path: Path) -> None:
        try:
            self._tok = _HFTokenizer.from_file(str(path))
        except Exception as exc:
            raise UserError(f"The tokenizer {path} cannot be loaded: {exc}.") from None
        # The chat template writes special tokens as text; they must map to their ids.
        self._tok.no_truncation()
        self._tok.no_padding()

    @property
    def vocab_size(self) -> int:
        return int(self._tok.get_vocab_size(with_added_tokens=True))

    def encode(self, text: str) -> list[int]:
        # encode_batch lets go of the GIL while it works and encode does not: a long prompt
        # tokenized on the generation thread would otherwise stall the window for ~100 ms.
        return list(self._tok.encode_batch([text], add_special_tokens=False)[0].ids)

    def decode(self, ids: Sequence[int], skip_special_tokens: bool = True) -> str:
        return str(self._tok.decode(list(ids), skip_special_tokens=skip_special_tokens))

    def token_to_id(self, token: str) -> int | None:
        found = self._tok.token_to_id(token)
        return None if found is None else int(found)

    def id_to_token(self, token_id: int) -> str | None:
        found = self._tok.id_to_token(token_id)
        return None if found is None else str(found)


class IncrementalDecoder:
    """Turns a stream of token ids into a stream of text that never splits a character.

    Decoding token by token breaks multi-byte characters (an emoji spans several byte
    tokens) and drops the leading spaces that SentencePiece tokenizers attach to words.
    So each step decodes a short window that starts a few tokens back and emits only the
    text that grew, holding it back while it ends in an incomplete character.
    """

    def __init__(self, tokenizer: Tokenizer) -> None:
        self._tokenizer = tokenizer
        self._ids: list[int] = []
        self._prefix = 0  # start of the window that gives context to the next decode
        self._read = 0  # tokens whose text has been emitted

    def push(self, token_id: int) -> str:
        self._ids.append(token_id)
        window = self._ids[self._prefix :]
        done = self._tokenizer.decode(self._ids[self._prefix : self._read])
        text = self._tokenizer.decode(window)
        if len(text) > len(done) and not text.endswith(REPLACEMENT_CHAR):
            self._prefix, self._read = self._read, len(self._ids)
            return text[len(done) :]
        return ""

    def flush(self) -> str:
        """Whatever is still held back (an incomplete character shows as U+FFFD)."""
        done = self._tokenizer.decode(self._ids[self._prefix : self._read])
        text = self._tokenizer.decode(self._ids[self._prefix :])
        self._prefix = self._read = len(self._ids)
        return text[len(done) :] if len(text) > len(done) else ""
