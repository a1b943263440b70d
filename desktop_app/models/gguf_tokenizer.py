"""A GGUF file's tokenizer, special tokens and chat template, as the engine reads them.

The engine reads `tokenizer.json` (Hugging Face tokenizers); gguf_vocab.py builds it from
the vocabulary in the file's metadata, splitting text as llama.cpp does, with the
`tokenizers` library alone. The ids of bos, eos and the end-of-turn tokens come from the
metadata itself, and the chat template from `tokenizer.chat_template`.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Any

from desktop_app.core.chat import ChatMessage
from desktop_app.core.errors import UserError
from desktop_app.engine.chat_template import ChatTemplate
from desktop_app.models.chat_templates import instruct_template
from desktop_app.models.gguf_file import GGUFFile
from desktop_app.models.gguf_vocab import CONTROL, UNKNOWN, USER_DEFINED, build_vocab_tokenizer, default_add_bos

log = logging.getLogger(__name__)

# Tokens llama.cpp also stops at: end of turn, end of message
_STOP_KEYS = ("eos_token_id", "eot_token_id", "eom_token_id")


def write_tokenizer(source: GGUFFile, folder: Path) -> tuple[dict[str, Any], str | None]:
    """Write folder/tokenizer.json; return the manifest's special tokens and the chat template."""
    tokenizer = build_vocab_tokenizer(source.fields, source.path.name)
    tokens: list[str] = source.field("tokenizer.ggml.tokens")
    _mark_special(tokenizer, tokens, source.field("tokenizer.ggml.token_type"))
    tokenizer.save(str(folder / "tokenizer.json"))
    template = source.field("tokenizer.chat_template")
    template = template if isinstance(template, str) and template.strip() else None
    if template is None:  # an instruct model converted without its template gets its family's
        chosen = instruct_template(tokens, source.scalar_fields())
        if chosen is not None:
            template = chosen[0]
            log.info("%s carries no chat template; using the %s one", source.path.name, chosen[1])

    def text_of(key: str) -> str | None:
        token_id = source.field(f"tokenizer.ggml.{key}")
        return tokens[token_id] if isinstance(token_id, int) and 0 <= token_id < len(tokens) else None

    stop_ids: list[int] = []
    for key in _STOP_KEYS:
        token_id = source.field(f"tokenizer.ggml.{key}")
        if isinstance(token_id, int) and 0 <= token_id < len(tokens) and token_id not in stop_ids:
            stop_ids.append(token_id)
    for text in end_of_turn_tokens(template):
        token_id = tokenizer.token_to_id(text)
        if token_id is not None and token_id not in stop_ids:
            stop_ids.append(token_id)
    add_bos = source.field("tokenizer.ggml.add_bos_token")
    if add_bos is None:  # older files leave it out; llama.cpp then decides by the vocabulary
        add_bos = default_add_bos(source.fields)
    special = {
        "bos_token": text_of("bos_token_id"),
        "eos_token": text_of("eos_token_id"),
        "stop_token_ids": stop_ids,
        "stop_tokens": [tokens[i] for i in stop_ids],
        "add_bos_token": bool(add_bos),
    }
    return special, template


def _mark_special(tokenizer: Any, tokens: list[str], types: Any) -> None:
    """Make every control, unknown and user-defined token of the file an added token of the tokenizer.

    Chat templates write them as text (<|im_start|>, <start_of_turn>, ...), and the engine
    encodes that text: each must map to its one id, found before the rest of the text is
    split, as llama.cpp finds them (its tokenizer_st_partition)."""
    from tokenizers import AddedToken

    if not isinstance(types, list) or len(types) != len(tokens):
        return
    have = {str(t.content) for t in tokenizer.get_added_tokens_decoder().values()}
    for kinds, add in (((CONTROL, UNKNOWN), tokenizer.add_special_tokens), ((USER_DEFINED,), tokenizer.add_tokens)):
        missing = [t for t, k in zip(tokens, types, strict=True) if k in kinds and t not in have]
        if missing:
            add([AddedToken(t, special=kinds[0] == CONTROL, normalized=False) for t in missing])


def end_of_turn_tokens(chat_template: str | None) -> list[str]:
    """The special token a template writes right after an assistant's message, if any."""
    if not chat_template:
        return []
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
