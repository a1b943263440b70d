"""Export and import for both modes: the Save and Open dialogs, the formats they offer,
and writing the file whole or not at all."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QLocale, QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QFileDialog, QWidget

from desktop_app.qt_documents import write_rich
from desktop_app.session.settings import AppSettings
from desktop_app.store import Store
from desktop_app.transcripts import CONVERSATION_FORMATS, DRAFT_FORMATS
from desktop_app.transcripts.export import (
    conversations_bytes,
    draft_bytes,
    export_target,
    safe_file_stem,
    write_atomically,
)
from desktop_app.transcripts.importing import import_file
from desktop_app.ui.status import StatusReporter, reports_problems

# Format -> what the Save dialog calls it; shown translated, with "(*.format)" after it.
CHAT_FILTERS = {
    "md": QT_TRANSLATE_NOOP("TransferController", "Markdown"),
    "txt": QT_TRANSLATE_NOOP("TransferController", "Plain text"),
    "html": QT_TRANSLATE_NOOP("TransferController", "Web page"),
    "pdf": QT_TRANSLATE_NOOP("TransferController", "PDF"),
    "json": QT_TRANSLATE_NOOP("TransferController", "Inkwell transcript, for import"),
}
DRAFT_FILTERS = {
    "md": QT_TRANSLATE_NOOP("TransferController", "Markdown"),
    "txt": QT_TRANSLATE_NOOP("TransferController", "Plain text"),
    "html": QT_TRANSLATE_NOOP("TransferController", "Web page"),
    "pdf": QT_TRANSLATE_NOOP("TransferController", "PDF"),
    "odt": QT_TRANSLATE_NOOP("TransferController", "OpenDocument text"),
    "docx": QT_TRANSLATE_NOOP("TransferController", "Word document"),
}
assert set(CHAT_FILTERS) == set(CONVERSATION_FORMATS)
assert set(DRAFT_FILTERS) == set(DRAFT_FORMATS)


def file_filters(names: dict[str, str]) -> dict[str, str]:
    """Format -> the Save dialog's filter for it, "Markdown (*.md)", in the window's language."""
    shown = {fmt: QCoreApplication.translate("TransferController", name) for fmt, name in names.items()}
    return {fmt: f"{name} (*.{fmt})" for fmt, name in shown.items()}


class TransferController(QObject):
    """Exports chats and drafts and imports chats, through the platform's file dialogs."""

    chats_imported = Signal()

    def __init__(self, store: Store, reporter: StatusReporter, parent_widget: QWidget) -> None:
        super().__init__(parent_widget)
        self.store = store
        self.reporter = reporter
        self.parent_widget = parent_widget

    def ask_save_path(self, title: str, suggested: str, filters: list[str]) -> tuple[str, str]:
        """The platform's Save dialog, starting in the home folder: (path, chosen filter), or
        ("", "") when cancelled. It asks before replacing an existing file (tests replace it)."""
        return QFileDialog.getSaveFileName(self.parent_widget, title, str(Path.home() / suggested), ";;".join(filters))

    def ask_open_path(self, title: str, filters: list[str]) -> tuple[str, str]:
        return QFileDialog.getOpenFileName(self.parent_widget, title, str(Path.home()), ";;".join(filters))

    def _save(self, title: str, suggested: str, names: dict[str, str], make: object) -> Path | None:
        filters = file_filters(names)
        path_text, chosen = self.ask_save_path(title, suggested, list(filters.values()))
        if not path_text:
            return None
        path, fmt = export_target(path_text, chosen, filters)
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            data = make(fmt)  # type: ignore[operator]
            # The Save dialog has already asked before replacing a file.
            write_atomically(path, data, overwrite=True)
        finally:
            QApplication.restoreOverrideCursor()
        return path

    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not export"))
    def export_chats(self, ids: list[str], title: str) -> None:
        fallback = self.tr("Chat")  # the file's name when the title has no letters
        suggested = f"{safe_file_stem(title, fallback)}.md"
        path = self._save(
            self.tr("Export"),
            suggested,
            CHAT_FILTERS,
            lambda fmt: conversations_bytes(self.store, ids, fmt, write_rich, self._with_reasoning()),
        )
        if path is not None:
            if len(ids) == 1:
                text = self.tr("Exported {count} chat to {path}.")
            else:
                text = self.tr("Exported {count} chats to {path}.")
            self.reporter.show(text.format(count=QLocale().toString(len(ids)), path=path), 6000)

    def _with_reasoning(self) -> bool:
        """Settings › Exports: whether thinking models' reasoning goes into exports."""
        return AppSettings.load(self.store).export_reasoning

    def export_all_chats(self) -> None:
        conversations = self.store.conversations
        ids = [c.id for c in conversations.all()] + [c.id for c in conversations.all(archived=True)]
        if not ids:
            self.reporter.show(self.tr("There are no chats to export yet."))
            return
        self.export_chats(ids, self.tr("Inkwell chats"))

    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not export the draft"))
    def export_draft(self, draft_id: str, title: str) -> None:
        fallback = self.tr("Draft")  # the file's name when the title has no letters
        suggested = f"{safe_file_stem(title, fallback)}.docx"
        path = self._save(
            self.tr("Export draft"),
            suggested,
            DRAFT_FILTERS,
            lambda fmt: draft_bytes(self.store, draft_id, fmt, write_rich),
        )
        if path is not None:
            self.reporter.show(self.tr("Exported to {path}.").format(path=path), 6000)

    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not import"))
    def import_chats(self) -> None:
        filters = [
            self.tr("Inkwell or ChatGPT export ({patterns})").format(patterns="*.json"),
            self.tr("All files ({patterns})").format(patterns="*"),
        ]
        path_text, _ = self.ask_open_path(self.tr("Import chats"), filters)
        if not path_text:
            return
        summary = import_file(self.store, Path(path_text))
        self.chats_imported.emit()
        self.reporter.show(summary.message, 8000)
