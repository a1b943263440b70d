"""Tokenizer (Hugging Face `tokenizers`, no transformers) and incremental detokenization."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer as _HFTokenizer

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate

REPLACEMENT_CHAR = "\ufffd"


class Tokenizer:
    def __init__(self, path: Path) -> None:
        try:
            self._tok = _HFTokenizer.from_file(str(path))
        except Exception as exc:
            raise UserError(
                translate("Errors", "The tokenizer {path} cannot be loaded: {error}.").format(path=path, error=exc)
            ) from None
        # The chat template writes special tokens as text; they must map to their ids.
        self._tok.no_truncation()
        self._tok.no_padding()

    @classmethod
    def _wrap(cls, hf: _HFTokenizer) -> Tokenizer:
        made = cls.__new__(cls)
        made._tok = hf
        return made

    def without_prefix_space(self) -> Tokenizer:
        """A copy that tokenizes text as if it came in the middle of a text.

        SentencePiece tokenizers put a space before the start of what they encode ("{" is
        "▁{"): right for a prompt, wrong where one asks how a continuation tokenizes, which
        is what a grammar constraint asks.
        """
        spec = json.loads(self._tok.to_str())
        spec["normalizer"] = _without_prepend(spec.get("normalizer"))
        spec["pre_tokenizer"] = _never_prepend(spec.get("pre_tokenizer"))
        return Tokenizer._wrap(_HFTokenizer.from_str(json.dumps(spec)))

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

    def vocabulary(self) -> dict[str, int]:
        """Every token as the vocabulary spells it (added tokens too), with its id."""
        return {str(token): int(token_id) for token, token_id in self._tok.get_vocab(with_added_tokens=True).items()}

    def added_tokens(self) -> dict[int, tuple[str, bool]]:
        """Added tokens by id: their text, and whether they are special (never plain text)."""
        return {int(i): (str(t.content), bool(t.special)) for i, t in self._tok.get_added_tokens_decoder().items()}

    def decoder_config(self) -> dict[str, Any] | None:
        """The decoder section of tokenizer.json: how token strings become text."""
        decoder = self._tok.decoder
        if decoder is None:
            return None
        config = json.loads(decoder.__getstate__())
        return config if isinstance(config, dict) else None


def _without_prepend(normalizer: Any) -> Any:
    if not isinstance(normalizer, dict) or normalizer.get("type") == "Prepend":
        return None
    if normalizer.get("type") == "Sequence":
        kept = [n for n in (_without_prepend(inner) for inner in normalizer.get("normalizers", [])) if n is not None]
        return {**normalizer, "normalizers": kept}
    return normalizer


def _never_prepend(pre_tokenizer: Any) -> Any:
    if not isinstance(pre_tokenizer, dict):
        return pre_tokenizer
    kind = pre_tokenizer.get("type")
    if kind == "Sequence":
        return {**pre_tokenizer, "pretokenizers": [_never_prepend(p) for p in pre_tokenizer.get("pretokenizers", [])]}
    if kind == "Metaspace":
        legacy = {"add_prefix_space": False} if "add_prefix_space" in pre_tokenizer else {}
        return {**pre_tokenizer, "prepend_scheme": "never", **legacy}
    if kind == "ByteLevel":
        return {**pre_tokenizer, "add_prefix_space": False}
    return pre_tokenizer


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
