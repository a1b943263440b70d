"""Every export format, written whole or not at all."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from desktop_app.core.errors import UserError
from desktop_app.qt_documents import write_rich
from desktop_app.store import Store
from desktop_app.transcripts.export import (
    conversations_bytes,
    draft_bytes,
    export_target,
    format_from_path,
    safe_file_stem,
    write_atomically,
)


def pinned_id(store: Store) -> str:
    return next(c.id for c in store.conversations.all() if c.pinned)


def test_markdown_and_text_follow_the_current_branch(filled: Store) -> None:
    md = conversations_bytes(filled, [pinned_id(filled)], "md").decode()
    assert md.startswith("# How do I say sorry")
    assert "**You** ·" in md and "**Assistant** ·" in md  # the current reply has no model recorded
    assert "Another version 🙂" in md and "## A reply" not in md  # the current branch only
    assert "System prompt:** You are a friendly support agent." in md
    txt = conversations_bytes(filled, [c.id for c in filled.conversations.all()], "txt").decode()
    assert "Another version 🙂" in txt and "日本語のテキスト" in txt


def test_html_is_self_contained_escaped_and_highlights_code(filled: Store) -> None:
    cid = pinned_id(filled)
    first_reply = filled.conversations.siblings(filled.conversations.path(cid)[-1].id)[0]
    filled.conversations.switch_branch(first_reply.id)
    page = conversations_bytes(filled, [cid], "html").decode()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "<table>" in page and "<strong>thanks</strong>" in page
    assert "Assistant (smollm2)" in page
    assert '<span style="' in page  # Pygments, inline styles
    assert "<link" not in page and "src=" not in page  # nothing to fetch


def test_pdf_and_odt_and_docx(filled: Store) -> None:
    pdf = conversations_bytes(filled, [pinned_id(filled)], "pdf", write_rich)
    assert pdf.startswith(b"%PDF") and b"/Type /Page" in pdf
    draft = filled.drafts.all()[0]
    odt = draft_bytes(filled, draft.id, "odt", write_rich)
    with zipfile.ZipFile(io.BytesIO(odt)) as archive:
        content = archive.read("content.xml").decode()
    assert "Thank you for" in content and "Dear Anna" in content
    from docx import Document

    document = Document(io.BytesIO(draft_bytes(filled, draft.id, "docx")))
    paragraphs = [(p.style.name, p.text) for p in document.paragraphs]
    assert ("Heading 1", "Dear Anna") in paragraphs
    assert ("List Bullet", "one") in paragraphs
    assert any(run.bold and run.text == "your" for p in document.paragraphs for run in p.runs)
    assert draft_bytes(filled, draft.id, "pdf", write_rich).startswith(b"%PDF")


def test_draft_text_formats(filled: Store) -> None:
    draft = filled.drafts.all()[0]
    assert draft_bytes(filled, draft.id, "md").decode().startswith("# Dear Anna")
    assert draft_bytes(filled, draft.id, "txt").decode().startswith("Letter to Anna\n==============")
    assert "<strong>your</strong>" in draft_bytes(filled, draft.id, "html").decode()


def test_unknown_formats_and_missing_writer_are_user_errors(filled: Store) -> None:
    with pytest.raises(UserError, match="cannot be exported as 'docx'"):
        conversations_bytes(filled, [pinned_id(filled)], "docx")
    with pytest.raises(UserError, match="document engine"):
        conversations_bytes(filled, [pinned_id(filled)], "pdf", None)
    assert format_from_path(Path("x.Markdown"), ("md",)) == "md"
    with pytest.raises(UserError, match="--format"):
        format_from_path(Path("x.zip"), ("md",))


def test_writes_are_whole_and_never_replace_without_asking(tmp_path: Path) -> None:
    target = tmp_path / "out.md"
    target.write_text("the user's own file")
    with pytest.raises(UserError, match="already exists"):
        write_atomically(target, b"new")
    assert target.read_text() == "the user's own file"
    write_atomically(target, b"new", overwrite=True)
    assert target.read_bytes() == b"new"
    with pytest.raises(UserError, match="does not exist"):
        write_atomically(tmp_path / "missing" / "x.md", b"data")
    assert [p.name for p in tmp_path.iterdir()] == ["out.md"]  # no temporary files left


def test_save_dialog_answers_become_a_path_and_a_format() -> None:
    filters = {"md": "Markdown (*.md)", "pdf": "PDF (*.pdf)"}
    assert safe_file_stem('Re: "Q3" plan/draft?', "Chat") == "Re_ _Q3_ plan_draft_"
    assert safe_file_stem("???", "Chat") == "___" and safe_file_stem("  ", "Chat") == "Chat"
    assert export_target("/tmp/notes.PDF", "Markdown (*.md)", filters) == (Path("/tmp/notes.PDF"), "pdf")
    assert export_target("/tmp/notes", "PDF (*.pdf)", filters) == (Path("/tmp/notes.pdf"), "pdf")
    with pytest.raises(UserError, match=r"End the name with one of: \.md, \.pdf"):
        export_target("/tmp/notes.zip", "All files (*)", filters)
