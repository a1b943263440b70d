"""A word-level diff for showing a suggestion as tracked changes."""

from __future__ import annotations

import difflib
import html
import re
from dataclasses import dataclass
from typing import Literal

_TOKENS = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class Change:
    kind: Literal["equal", "insert", "delete"]
    text: str


def word_diff(old: str, new: str) -> list[Change]:
    """Changes that turn `old` into `new`, by words, spaces and punctuation."""
    a, b = _TOKENS.findall(old), _TOKENS.findall(new)
    changes: list[Change] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            changes.append(Change("equal", "".join(a[i1:i2])))
            continue
        if tag in ("delete", "replace"):
            changes.append(Change("delete", "".join(a[i1:i2])))
        if tag in ("insert", "replace"):
            changes.append(Change("insert", "".join(b[j1:j2])))
    return changes


def diff_html(changes: list[Change]) -> str:
    """Insertions green and underlined, deletions red and struck through."""
    parts = []
    for change in changes:
        text = html.escape(change.text).replace("\n", "<br>")
        if change.kind == "insert":
            parts.append(f"<span style='background:#dafbe1; color:#116329; text-decoration:underline'>{text}</span>")
        elif change.kind == "delete":
            parts.append(f"<span style='background:#ffebe9; color:#a40e26; text-decoration:line-through'>{text}</span>")
        else:
            parts.append(text)
    return "".join(parts)
