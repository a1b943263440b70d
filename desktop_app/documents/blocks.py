"""What extraction gives: blocks of text with their place, or the reason a file gave none."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Block:
    text: str
    heading: str = ""  # the heading path above it: "Setup › Wi-Fi"
    page: int | None = None  # 1-based, for PDF
    line_start: int | None = None  # 1-based, inclusive, for text files
    line_end: int | None = None
    is_heading: bool = False


class ExtractionFailed(Exception):
    """This file gives no text; `reason` says why, for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
