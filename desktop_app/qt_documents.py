"""PDF and OpenDocument output through Qt's document engine (QTextDocument).

An adapter beside the composition root, not part of ui/: the window and the `inkwell
export` command both hand `write_rich` to desktop_app.transcripts.export (a
RichDocumentWriter), so the packages below stay free of Qt.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QSizeF
from PySide6.QtGui import QGuiApplication, QPageLayout, QPageSize, QPdfWriter, QTextDocument, QTextDocumentWriter
from PySide6.QtWidgets import QApplication


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
