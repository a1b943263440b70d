"""The message box: Enter sends, Shift+Enter adds a line, Esc stops; a text file dropped on
it is quoted into the message."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent, QKeyEvent
from PySide6.QtWidgets import QPlainTextEdit, QWidget

# A dropped file larger than this is refused: quote part of it instead (a model's context holds
# far less; the Documents library is the place for long files).
DROP_MAX_BYTES = 512 * 1024
# Tried in order: Chinese text files are often GB 18030 rather than UTF-8.
ENCODINGS = ("utf-8-sig", "gb18030", "utf-16")


def read_dropped_text(path: Path) -> str:
    """The file's text, or ValueError saying in plain words why it can't be quoted."""
    size = path.stat().st_size
    if size > DROP_MAX_BYTES:
        raise ValueError("too_large")
    data = path.read_bytes()
    if b"\0" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError("binary")
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError("binary")


def quote(name: str, text: str) -> str:
    """The file's text as a Markdown quote under its name."""
    lines = text.strip("\n").splitlines() or [""]
    return f"{name}:\n\n" + "\n".join(f"> {line}" if line else ">" for line in lines) + "\n\n"


class ComposerWidget(QPlainTextEdit):
    send_requested = Signal()
    stop_requested = Signal()
    drop_refused = Signal(str)  # why a dropped file was not quoted

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("composer")
        self.setPlaceholderText(
            self.tr("Message Inkwell (Enter sends, Shift+Enter for a new line; drop a text file to quote it)")
        )
        self.setAccessibleName(self.tr("Message"))
        self.setTabChangesFocus(True)
        self.setAcceptDrops(True)
        self.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        self._fit_height()

    def _fit_height(self) -> None:
        """As tall as its text, from two lines up to eight; then it scrolls. (A plain-text
        document's height is counted in lines, wrapped ones included.)"""
        lines = max(2, min(8, int(self.document().size().height())))
        chrome = 2 * int(self.document().documentMargin()) + 2 * self.frameWidth() + 14  # the style's padding
        self.setFixedHeight(lines * self.fontMetrics().lineSpacing() + chrome)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if (
            event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
            and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier
        ):
            self.send_requested.emit()
            return
        if event.key() == Qt.Key.Key_Escape:
            self.stop_requested.emit()
            return
        super().keyPressEvent(event)

    # ---- dropping files ----

    @staticmethod
    def _dropped_files(event: QDropEvent | QDragEnterEvent) -> list[Path]:
        data = event.mimeData()
        if not data.hasUrls():
            return []
        return [Path(url.toLocalFile()) for url in data.urls() if url.isLocalFile()]

    def _set_dropping(self, dropping: bool) -> None:
        self.setProperty("dropping", dropping)
        self.style().unpolish(self)
        self.style().polish(self)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._dropped_files(event):
            self._set_dropping(True)
            event.acceptProposedAction()
            return
        super().dragEnterEvent(event)

    def dragMoveEvent(self, event: QDragEnterEvent) -> None:  # type: ignore[override]
        if event.mimeData().hasUrls():
            event.acceptProposedAction()
            return
        super().dragMoveEvent(event)

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self._set_dropping(False)
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        files = self._dropped_files(event)
        self._set_dropping(False)
        if not files:
            super().dropEvent(event)
            return
        event.acceptProposedAction()
        self.quote_files(files)

    def quote_files(self, files: list[Path]) -> None:
        """Add each text file's contents to the message as a quote; say why for the others."""
        reasons = {
            "too_large": self.tr("“{name}” is too large to quote (over 512 KB). Add it in Documents instead."),
            "binary": self.tr("“{name}” is not a text file, so it can't be quoted."),
            "unreadable": self.tr("“{name}” could not be read."),
        }
        cursor = self.textCursor()
        for path in files:
            try:
                text = read_dropped_text(path)
            except ValueError as exc:
                self.drop_refused.emit(reasons[str(exc)].format(name=path.name))
                continue
            except OSError:
                self.drop_refused.emit(reasons["unreadable"].format(name=path.name))
                continue
            if cursor.block().text().strip():  # a quote starts on a line of its own
                cursor.insertText("\n\n")
            cursor.insertText(quote(path.name, text))
        self.setTextCursor(cursor)
        self.setFocus()
