"""Blocks into passages for retrieval, by structure: a heading starts a new passage, blocks
pack up to a size, and each passage repeats the end of the one before it (overlap), so an
answer that straddles two passages is whole in one of them."""

from __future__ import annotations

from dataclasses import dataclass

from desktop_app.documents.blocks import Block

TARGET_WORDS = 180  # about 250 tokens: several fit a small model's context with the question
OVERLAP_WORDS = 30


@dataclass(frozen=True)
class Chunk:
    text: str
    heading: str
    page: int | None
    page_end: int | None
    line_start: int | None
    line_end: int | None


def _words(block: Block) -> int:
    return len(block.text.split())


def _split(block: Block, target: int) -> list[Block]:
    """A block longer than a passage, cut at word boundaries (its position kept)."""
    words = block.text.split()
    if len(words) <= target:
        return [block]
    return [
        Block(" ".join(words[i : i + target]), block.heading, block.page, block.line_start, block.line_end)
        for i in range(0, len(words), target)
    ]


def _chunk(blocks: list[Block], heading: str) -> Chunk:
    pages = [b.page for b in blocks if b.page is not None]
    starts = [b.line_start for b in blocks if b.line_start is not None]
    ends = [b.line_end for b in blocks if b.line_end is not None]
    return Chunk(
        "\n\n".join(b.text for b in blocks),
        heading,
        min(pages) if pages else None,
        max(pages) if pages else None,
        min(starts) if starts else None,
        max(ends) if ends else None,
    )


def chunk_blocks(blocks: list[Block], target: int = TARGET_WORDS, overlap: int = OVERLAP_WORDS) -> list[Chunk]:
    chunks: list[Chunk] = []
    current: list[Block] = []
    heading = ""
    size = 0

    def close(keep_overlap: bool) -> None:
        nonlocal current, size
        if any(not b.is_heading for b in current):
            chunks.append(_chunk(current, heading))
        tail: list[Block] = []
        if keep_overlap:  # the last blocks, up to `overlap` words, begin the next passage
            for block in reversed(current):
                if block.is_heading or sum(map(_words, tail)) + _words(block) > overlap:
                    break
                tail.insert(0, block)
        current, size = tail, sum(map(_words, tail))

    for whole in blocks:
        if whole.is_heading:
            close(keep_overlap=False)
            heading = whole.heading
            current, size = [whole], _words(whole)
            continue
        for block in _split(whole, target):
            if size + _words(block) > target and any(not b.is_heading for b in current):
                close(keep_overlap=True)
            if not current:
                heading = block.heading
            current.append(block)
            size += _words(block)
    close(keep_overlap=False)
    return chunks
