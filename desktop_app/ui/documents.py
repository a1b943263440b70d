"""PDF and OpenDocument output through Qt's document engine (QTextDocument), and the
Save dialog's answer turned into a path and a format."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QSizeF
from PySide6.QtGui import QGuiApplication, QPageLayout, QPageSize, QPdfWriter, QTextDocument, QTextDocumentWriter
from PySide6.QtWidgets import QApplication

from desktop_app.core.errors import UserError


def ensure_gui_application() -> None:
    """Qt's text layout needs a QGuiApplication; headless tools get an offscreen one.

    A QApplication rather than a bare QGuiApplication: widgets created later in the same
    process (the window after an export, or the tests) abort without one.
    """
    if QGuiApplication.instance() is None:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") and os.name == "posix":
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        QApplication([])


def _document(html: str) -> QTextDocument:
    ensure_gui_application()
    document = QTextDocument()
    document.setHtml(html)
    return document


def html_to_pdf(html: str) -> bytes:
    document = _document(html)
    with tempfile.TemporaryDirectory(prefix="inkwell-pdf-") as folder:
        target = Path(folder) / "out.pdf"
        writer = QPdfWriter(str(target))
        writer.setTitle(document.metaInformation(QTextDocument.MetaInformation.DocumentTitle))
        writer.setCreator("Inkwell")
        writer.setPageLayout(
            QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait, QMarginsF(18, 18, 18, 18))
        )
        writer.setResolution(300)
        document.setPageSize(QSizeF(writer.width(), writer.height()))
        document.print_(writer)
        del writer  # finishes the file
        return target.read_bytes()


def html_to_odt(html: str) -> bytes:
    document = _document(html)
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QTextDocumentWriter(buffer, QByteArray(b"ODF"))
    if not writer.write(document):
        raise OSError("Qt could not write the OpenDocument file")
    buffer.close()
    return bytes(buffer.data().data())


def write_rich(html: str, fmt: str) -> bytes:
    """A RichDocumentWriter for desktop_app.transcripts.export."""
    if fmt == "pdf":
        return html_to_pdf(html)
    if fmt == "odt":
        return html_to_odt(html)
    raise ValueError(fmt)


def safe_file_stem(title: str, fallback: str) -> str:
    """A file name from a title: letters, digits, spaces, dashes and underscores only."""
    return "".join(c if c.isalnum() or c in " -_" else "_" for c in title).strip()[:60] or fallback


def ask_save_path(parent: Any, title: str, suggested: str, filters: list[str]) -> tuple[str, str]:
    """The platform's Save dialog, starting in the home folder: (path, chosen filter), or
    ("", "") when cancelled. It asks before replacing an existing file."""
    from PySide6.QtWidgets import QFileDialog

    return QFileDialog.getSaveFileName(parent, title, str(Path.home() / suggested), ";;".join(filters))


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
            f"Inkwell cannot tell which format to write for {path.name}.",
            hint=f"End the name with one of: {', '.join('.' + f for f in filters)}.",
        )
    return path.with_name(f"{path.name}.{fmt}"), fmt
