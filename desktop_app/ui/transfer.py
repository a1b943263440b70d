"""Export and import for both modes: the Save and Open dialogs, the formats they offer,
and writing the file whole or not at all."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QApplication, QFileDialog, QWidget

from desktop_app.qt_documents import write_rich
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

CHAT_FILTERS = {
    "md": "Markdown (*.md)",
    "txt": "Plain text (*.txt)",
    "html": "Web page (*.html)",
    "pdf": "PDF (*.pdf)",
    "json": "Inkwell transcript, for import (*.json)",
}
DRAFT_FILTERS = {
    "md": "Markdown (*.md)",
    "txt": "Plain text (*.txt)",
    "html": "Web page (*.html)",
    "pdf": "PDF (*.pdf)",
    "odt": "OpenDocument text (*.odt)",
    "docx": "Word document (*.docx)",
}
assert set(CHAT_FILTERS) == set(CONVERSATION_FORMATS)
assert set(DRAFT_FILTERS) == set(DRAFT_FORMATS)


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

    def _save(self, title: str, suggested: str, filters: dict[str, str], make: object) -> Path | None:
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

    @reports_problems("Could not export")
    def export_chats(self, ids: list[str], title: str) -> None:
        suggested = f"{safe_file_stem(title, 'Chat')}.md"
        path = self._save(
            "Export",
            suggested,
            CHAT_FILTERS,
            lambda fmt: conversations_bytes(self.store, ids, fmt, write_rich),
        )
        if path is not None:
            self.reporter.show(f"Exported {len(ids)} chat{'s' if len(ids) != 1 else ''} to {path}.", 6000)

    def export_all_chats(self) -> None:
        conversations = self.store.conversations
        ids = [c.id for c in conversations.all()] + [c.id for c in conversations.all(archived=True)]
        if not ids:
            self.reporter.show("There are no chats to export yet.")
            return
        self.export_chats(ids, "Inkwell chats")

    @reports_problems("Could not export the draft")
    def export_draft(self, draft_id: str, title: str) -> None:
        suggested = f"{safe_file_stem(title, 'Draft')}.docx"
        path = self._save(
            "Export draft",
            suggested,
            DRAFT_FILTERS,
            lambda fmt: draft_bytes(self.store, draft_id, fmt, write_rich),
        )
        if path is not None:
            self.reporter.show(f"Exported to {path}.", 6000)

    @reports_problems("Could not import")
    def import_chats(self) -> None:
        path_text, _ = self.ask_open_path("Import chats", ["Inkwell or ChatGPT export (*.json)", "All files (*)"])
        if not path_text:
            return
        summary = import_file(self.store, Path(path_text))
        self.chats_imported.emit()
        self.reporter.show(summary.message, 8000)
