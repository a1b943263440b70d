"""Markdown to .docx (python-docx): headings, paragraphs, lists, quotes, code, emphasis."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from docx import Document
from docx.shared import Pt
from markdown_it import MarkdownIt


def markdown_to_docx(title: str, markdown: str) -> bytes:
    document = Document()
    document.core_properties.title = title
    document.core_properties.author = ""  # nothing about the user leaks into the file
    tokens = MarkdownIt("commonmark", {"html": False}).enable("strikethrough").parse(markdown)
    lists: list[str] = []  # "bullet" / "ordered" for the open lists
    quote = 0
    for index, token in enumerate(tokens):
        if token.type == "bullet_list_open":
            lists.append("bullet")
        elif token.type == "ordered_list_open":
            lists.append("ordered")
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            lists.pop()
        elif token.type == "blockquote_open":
            quote += 1
        elif token.type == "blockquote_close":
            quote -= 1
        elif token.type == "heading_open":
            level = int(token.tag[1])
            paragraph = document.add_heading(level=min(level, 9))
            _add_inline(paragraph, tokens[index + 1])
        elif token.type == "paragraph_open" and tokens[index - 1].type != "heading_open":
            style = None
            if lists:
                style = "List Bullet" if lists[-1] == "bullet" else "List Number"
            elif quote:
                style = "Quote"
            paragraph = document.add_paragraph(style=style)
            _add_inline(paragraph, tokens[index + 1])
        elif token.type in ("fence", "code_block"):
            paragraph = document.add_paragraph()
            run = paragraph.add_run(token.content.rstrip("\n"))
            run.font.name = "Courier New"
            run.font.size = Pt(9.5)
        elif token.type == "hr":
            document.add_paragraph("―" * 10)
    buffer = BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _add_inline(paragraph: Any, inline: Any) -> None:
    bold = italic = strike = False
    for child in inline.children or []:
        if child.type == "strong_open":
            bold = True
        elif child.type == "strong_close":
            bold = False
        elif child.type == "em_open":
            italic = True
        elif child.type == "em_close":
            italic = False
        elif child.type == "s_open":
            strike = True
        elif child.type == "s_close":
            strike = False
        elif child.type in ("text", "code_inline"):
            run = paragraph.add_run(child.content)
            run.bold, run.italic, run.font.strike = bold, italic, strike
            if child.type == "code_inline":
                run.font.name = "Courier New"
        elif child.type in ("softbreak", "hardbreak"):
            paragraph.add_run().add_break()
