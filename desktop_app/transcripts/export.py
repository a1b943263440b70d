"""Exports: the bytes of each format, the file written whole or not at all, and the
file name and format a Save dialog's answer means."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from desktop_app.core.errors import UserError
from desktop_app.core.files import write_atomically as write_file_atomically
from desktop_app.core.i18n import translate
from desktop_app.store.db import Store
from desktop_app.transcripts import CONVERSATION_FORMATS, DRAFT_FORMATS
from desktop_app.transcripts.docx_writer import markdown_to_docx
from desktop_app.transcripts.json_format import export_json
from desktop_app.transcripts.render import (
    Transcript,
    draft_html,
    draft_markdown,
    draft_text,
    transcript_html,
    transcript_markdown,
    transcript_text,
)


class RichDocumentWriter(Protocol):
    """Turns HTML into PDF or ODT bytes (Qt's document engine: desktop_app.qt_documents)."""

    def __call__(self, html: str, fmt: str) -> bytes: ...


def write_atomically(path: Path, data: bytes, overwrite: bool = False) -> None:
    """Write the file whole or not at all (core.files), refusing to replace one unless asked."""
    path = path.expanduser()
    if path.exists() and not overwrite:
        raise UserError(
            translate("Errors", "{path} already exists.").format(path=path),
            hint=translate("Errors", "Choose another name, or allow replacing it (--force)."),
        )
    write_file_atomically(path, data)


def _needs_writer(writer: RichDocumentWriter | None, fmt: str) -> RichDocumentWriter:
    if writer is None:
        raise UserError(
            translate(
                "Errors", "Exporting to {format} needs Qt's document engine, which is not available here."
            ).format(format=fmt.upper())
        )
    return writer


def conversations_bytes(
    store: Store,
    conversation_ids: Sequence[str],
    fmt: str,
    writer: RichDocumentWriter | None = None,
    reasoning: bool = False,
) -> bytes:
    """The export's bytes; a thinking model's reasoning is left out unless `reasoning`."""
    if fmt not in CONVERSATION_FORMATS:
        raise UserError(
            translate("Errors", "Conversations cannot be exported as {fmt}.").format(fmt=repr(fmt)),
            hint=translate("Errors", "Choose one of: {choices}.").format(choices=", ".join(CONVERSATION_FORMATS)),
        )
    if not conversation_ids:
        raise UserError(translate("Errors", "No conversations to export."))
    if fmt == "json":
        return export_json(store, conversation_ids, reasoning).encode("utf-8")
    transcripts = []
    for cid in conversation_ids:
        path = store.conversations.path(cid)
        sources = {m.id: store.documents.sources(m.id) for m in path if m.role == "assistant"}
        given = {k: v for k, v in sources.items() if v}
        transcripts.append(Transcript(store.conversations.get(cid), path, given, reasoning))
    renderers: dict[str, Callable[[], bytes]] = {
        "md": lambda: transcript_markdown(transcripts).encode("utf-8"),
        "txt": lambda: transcript_text(transcripts).encode("utf-8"),
        "html": lambda: transcript_html(transcripts).encode("utf-8"),
        "pdf": lambda: _needs_writer(writer, fmt)(transcript_html(transcripts), "pdf"),
    }
    return renderers[fmt]()


def draft_bytes(store: Store, draft_id: str, fmt: str, writer: RichDocumentWriter | None = None) -> bytes:
    if fmt not in DRAFT_FORMATS:
        raise UserError(
            translate("Errors", "Drafts cannot be exported as {fmt}.").format(fmt=repr(fmt)),
            hint=translate("Errors", "Choose one of: {choices}.").format(choices=", ".join(DRAFT_FORMATS)),
        )
    draft = store.drafts.get(draft_id)
    renderers: dict[str, Callable[[], bytes]] = {
        "md": lambda: draft_markdown(draft).encode("utf-8"),
        "txt": lambda: draft_text(draft).encode("utf-8"),
        "html": lambda: draft_html(draft).encode("utf-8"),
        "pdf": lambda: _needs_writer(writer, fmt)(draft_html(draft), "pdf"),
        "odt": lambda: _needs_writer(writer, fmt)(draft_html(draft), "odt"),
        "docx": lambda: markdown_to_docx(draft.title, draft_markdown(draft)),
    }
    return renderers[fmt]()


def format_from_path(path: Path, allowed: Sequence[str]) -> str:
    suffix = path.suffix.lower().lstrip(".")
    suffix = {"markdown": "md", "htm": "html", "text": "txt"}.get(suffix, suffix)
    if suffix not in allowed:
        raise UserError(
            translate("Errors", "Cannot tell the format from {file}.").format(file=repr(path.name)),
            hint=translate("Errors", "Use --format with one of: {choices}.").format(choices=", ".join(allowed)),
        )
    return suffix


def safe_file_stem(title: str, fallback: str) -> str:
    """A file name from a title: letters, digits, spaces, dashes and underscores only."""
    return "".join(c if c.isalnum() or c in " -_" else "_" for c in title).strip()[:60] or fallback


def export_target(path_text: str, chosen_filter: str, filters: dict[str, str]) -> tuple[Path, str]:
    """The path and format a Save dialog's answer means: a known suffix decides; otherwise
    the chosen filter does, and its suffix is added."""
    path = Path(path_text)
    suffix = path.suffix.lower().lstrip(".")
    if suffix in filters:
        return path, suffix
    fmt = next((f for f, label in filters.items() if label == chosen_filter), None)
    if fmt is None:
        raise UserError(
            translate("Errors", "Inkwell cannot tell which format to write for {file}.").format(file=path.name),
            hint=translate("Errors", "End the name with one of: {suffixes}.").format(
                suffixes=", ".join("." + f for f in filters)
            ),
        )
    return path.with_name(f"{path.name}.{fmt}"), fmt
