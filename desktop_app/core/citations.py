"""A reply's citations of its sources: [1], [2][3], [1, 3]. Only prose cites: `arr[1]` in
inline code or a fenced code block is left as it is."""

from __future__ import annotations

import re
from collections.abc import Callable

CITATION = re.compile(r"\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]")
# Fenced code blocks (``` or ~~~, to the closing fence or the end) and inline code spans.
_CODE = re.compile(r"(^[ \t]*(```|~~~).*?(?:^[ \t]*\2[^\n]*$|\Z)|`[^`\n]+`)", re.MULTILINE | re.DOTALL)


def _prose(text: str) -> list[tuple[str, bool]]:
    """The text in pieces, each marked True where it is prose (not code)."""
    pieces, last = [], 0
    for match in _CODE.finditer(text):
        pieces += [(text[last : match.start()], True), (match.group(0), False)]
        last = match.end()
    return [*pieces, (text[last:], True)]


def cited_numbers(text: str, count: int) -> list[int]:
    """The source numbers (1..count) the text cites, in the order first cited."""
    numbers: dict[int, None] = {}
    for piece, prose in _prose(text):
        if prose:
            for match in CITATION.finditer(piece):
                for part in re.split(r"[,;]", match.group(1)):
                    if 1 <= int(part) <= count:
                        numbers[int(part)] = None
    return list(numbers)


def replace_citations(text: str, known: set[int], mark: Callable[[int], str]) -> str:
    """Each citation whose numbers are all in `known`, written number by number by `mark`."""

    def one(match: re.Match[str]) -> str:
        numbers = [int(n) for n in re.split(r"[,;]", match.group(1))]
        return "".join(mark(n) for n in numbers) if all(n in known for n in numbers) else match.group(0)

    return "".join(CITATION.sub(one, piece) if prose else piece for piece, prose in _prose(text))
