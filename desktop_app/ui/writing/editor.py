"""The open draft: its title, the text with a Markdown preview, find and replace, the
counts, autosave, its history, export and print."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QLocale, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence, QTextCursor, QTextDocument
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTextBrowser,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.errors import UserError
from desktop_app.session.scheduler import EngineInfo
from desktop_app.store import Store
from desktop_app.transcripts.render import markdown_to_html
from desktop_app.ui.status import StatusReporter
from desktop_app.ui.transfer import TransferController
from desktop_app.ui.writing.dialogs import RevisionDialog

# Every change is on disk within this long (the issue allows 2 s); the timer is not
# restarted by further typing, so steady typing still saves this often.
AUTOSAVE_MS = 1000
COUNT_DELAY_MS = 300
READING_WORDS_PER_MINUTE = 230


class DraftEditorPane(QWidget):
    """Edits one draft (or none) and keeps it saved; the toolbar also carries the co-writer's
    actions, which the writing pane puts before this pane's own."""

    listing_changed = Signal()  # the title or text the drafts list shows changed

    def __init__(
        self,
        store: Store,
        reporter: StatusReporter,
        transfer: TransferController,
        engine_info: Callable[[], EngineInfo | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.reporter = reporter
        self.transfer = transfer
        self.engine_info = engine_info
        self.draft_id: str | None = None
        self._autosave = QTimer(self)
        self._autosave.setSingleShot(True)
        self._autosave.setInterval(AUTOSAVE_MS)
        self._count_timer = QTimer(self)
        self._count_timer.setSingleShot(True)
        self._count_timer.setInterval(COUNT_DELAY_MS)
        self._build()
        self._connect_signals()

    def _build(self) -> None:
        self.title_edit = QLineEdit()
        self.title_edit.setAccessibleName(self.tr("Draft title"))
        self.title_edit.setPlaceholderText(self.tr("Title"))
        self.editor = QPlainTextEdit()
        self.editor.setAccessibleName(self.tr("Draft text"))
        self.editor.setPlaceholderText(self.tr("Write here. Markdown works: # headings, **bold**, - lists."))
        self.preview = QTextBrowser()
        self.preview.setAccessibleName(self.tr("Preview"))
        self.preview.setOpenExternalLinks(False)
        self.editor_stack = QStackedWidget()
        self.editor_stack.addWidget(self.editor)
        self.editor_stack.addWidget(self.preview)
        self.counts_label = QLabel("")
        self.counts_label.setAccessibleName(self.tr("Word count"))

        self.find_box = QLineEdit()
        self.find_box.setPlaceholderText(self.tr("Find"))
        self.find_box.setAccessibleName(self.tr("Find"))
        self.replace_box = QLineEdit()
        self.replace_box.setPlaceholderText(self.tr("Replace with"))
        self.replace_box.setAccessibleName(self.tr("Replace with"))
        self.find_next_button = QPushButton(self.tr("Next"))
        self.replace_button = QPushButton(self.tr("Replace"))
        self.replace_all_button = QPushButton(self.tr("Replace all"))
        self.find_bar = QWidget()
        find_layout = QHBoxLayout(self.find_bar)
        find_layout.setContentsMargins(0, 0, 0, 0)
        for widget in (
            self.find_box,
            self.replace_box,
            self.find_next_button,
            self.replace_button,
            self.replace_all_button,
        ):
            find_layout.addWidget(widget)
        self.find_bar.hide()

        self.toolbar = QToolBar(self.tr("Co-writer"))
        self.preview_action = QAction(self.tr("Preview"), self)
        self.preview_action.setCheckable(True)
        self.preview_action.setShortcut(QKeySequence("Ctrl+Shift+M"))
        self.find_action = QAction(self.tr("Find"), self)
        self.find_action.setShortcuts([QKeySequence("Ctrl+F"), QKeySequence("Ctrl+H")])
        self.history_action = QAction(self.tr("History"), self)
        self.export_action = QAction(self.tr("Export…"), self)
        self.print_action = QAction(self.tr("Print…"), self)
        self.print_action.setShortcut(QKeySequence.StandardKey.Print)
        self.toolbar.addActions(
            [self.preview_action, self.find_action, self.history_action, self.export_action, self.print_action]
        )

        layout = QVBoxLayout(self)
        layout.addWidget(self.title_edit)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.find_bar)
        self.editor_split = QSplitter(Qt.Orientation.Vertical)
        self.editor_split.addWidget(self.editor_stack)
        layout.addWidget(self.editor_split, 1)
        layout.addWidget(self.counts_label)

    def _connect_signals(self) -> None:
        self.editor.textChanged.connect(self._on_editor_text_changed)
        self.title_edit.editingFinished.connect(self.save)
        self._autosave.timeout.connect(self.save)
        self._count_timer.timeout.connect(self.update_counts)
        self.preview_action.toggled.connect(self._on_preview_action_toggled)
        self.find_action.triggered.connect(self.show_find_bar)
        self.find_box.returnPressed.connect(self.find_next)
        self.find_next_button.clicked.connect(self.find_next)
        self.replace_button.clicked.connect(self.replace_one)
        self.replace_all_button.clicked.connect(self.replace_all)
        self.history_action.triggered.connect(self.show_history)
        self.export_action.triggered.connect(self.export_draft)
        self.print_action.triggered.connect(self.print_draft)

    def add_below_text(self, widget: QWidget) -> None:
        """A pane under the text (the co-writer's suggestion), in the same splitter."""
        self.editor_split.addWidget(widget)
        self.editor_split.setSizes([500, 260])

    # ---- the open draft ----

    def show_draft(self, draft_id: str | None) -> None:
        """Open `draft_id` as stored (None: no draft, nothing to edit)."""
        self.draft_id = draft_id
        has_draft = draft_id is not None
        for widget in (self.editor, self.title_edit, self.toolbar):
            widget.setEnabled(has_draft)
        self.editor.blockSignals(True)
        if draft_id is None:
            self.title_edit.clear()
            self.editor.clear()
        else:
            draft = self.store.drafts.get(draft_id)
            self.title_edit.setText(draft.title)
            self.editor.setPlainText(draft.body)
        self.editor.blockSignals(False)
        self._autosave.stop()
        self.update_counts()
        if self.preview_action.isChecked():
            self._render_preview()

    def current_draft_title(self) -> str:
        return self.title_edit.text().strip() or self.tr("Untitled draft")

    @Slot()
    def edit_title(self) -> None:
        self.title_edit.setFocus()
        self.title_edit.selectAll()

    # ---- editing, autosave, counts ----

    @Slot()
    def _on_editor_text_changed(self) -> None:
        if not self._autosave.isActive():  # not restarted: saved within AUTOSAVE_MS of the first change
            self._autosave.start()
        self._count_timer.start()

    @Slot()
    def save(self) -> None:
        """Write the editor's text and title to the draft (a no-op when nothing changed)."""
        self._autosave.stop()
        if self.draft_id is None:
            return
        try:
            before = self.store.drafts.get(self.draft_id)
            saved = self.store.drafts.save(self.draft_id, body=self.editor.toPlainText(), title=self.title_edit.text())
        except UserError as exc:
            self.reporter.problem(self.tr("Could not save the draft"), str(exc))
            self._autosave.start()  # try again shortly; the text is still in the editor
            return
        if saved.title != before.title:
            self.listing_changed.emit()

    def update_counts(self) -> None:
        text = self.editor.toPlainText()
        words = len(text.split())
        info = self.engine_info()
        minutes = math.ceil(words / READING_WORDS_PER_MINUTE) if words else 0
        tokens = info.count_tokens(text) if info is not None and text else None
        if tokens is not None:
            line = self.tr("{words} words · {characters} characters · {tokens} tokens · {minutes} min read")
        else:
            line = self.tr("{words} words · {characters} characters · {minutes} min read")
        locale = QLocale()
        self.counts_label.setText(
            line.format(
                words=locale.toString(words),
                characters=locale.toString(len(text)),
                tokens=locale.toString(tokens or 0),
                minutes=locale.toString(minutes),
            )
        )

    @Slot(bool)
    def _on_preview_action_toggled(self, on: bool) -> None:
        if on:
            self._render_preview()
        self.editor_stack.setCurrentIndex(1 if on else 0)

    def _render_preview(self) -> None:
        self.preview.setHtml(markdown_to_html(self.editor.toPlainText()))

    # ---- find and replace ----

    @Slot()
    def show_find_bar(self) -> None:
        self.find_bar.show()
        selected = self.editor.textCursor().selectedText()
        if selected and "\u2029" not in selected:
            self.find_box.setText(selected)
        self.find_box.setFocus()
        self.find_box.selectAll()

    @Slot()
    def find_next(self) -> bool:
        needle = self.find_box.text()
        if not needle:
            return False
        if self.editor.find(needle):
            return True
        self.editor.moveCursor(QTextCursor.MoveOperation.Start)  # wrap around
        found = self.editor.find(needle)
        if not found:
            self.reporter.show(self.tr("“{text}” is not in this draft.").format(text=needle), 3000)
        return found

    @Slot()
    def replace_one(self) -> None:
        cursor = self.editor.textCursor()
        if cursor.hasSelection() and cursor.selectedText() == self.find_box.text():
            cursor.insertText(self.replace_box.text())
        self.find_next()

    @Slot()
    def replace_all(self) -> int:
        needle, replacement = self.find_box.text(), self.replace_box.text()
        if not needle:
            return 0
        cursor = self.editor.textCursor()
        cursor.beginEditBlock()  # one undo step for the lot
        count = 0
        finder = self.editor.document().find(needle, 0, QTextDocument.FindFlag.FindCaseSensitively)
        while not finder.isNull():
            finder.insertText(replacement)
            count += 1
            finder = self.editor.document().find(needle, finder, QTextDocument.FindFlag.FindCaseSensitively)
        cursor.endEditBlock()
        replaced = self.tr("Replaced {count} time.") if count == 1 else self.tr("Replaced {count} times.")
        self.reporter.show(replaced.format(count=QLocale().toString(count)), 3000)
        return count

    # ---- history, export, print ----

    @Slot()
    def show_history(self) -> None:
        if self.draft_id is None:
            return
        self.save()
        dialog = RevisionDialog(self.store, self.draft_id, self.editor.toPlainText(), self)
        if self.run_dialog(dialog):
            revision_id = dialog.chosen_revision_id()
            if revision_id is not None:
                self.restore_revision(revision_id)

    def run_dialog(self, dialog: QDialog) -> bool:
        """Show a modal dialog; True if accepted (tests replace it)."""
        return bool(dialog.exec())

    def restore_revision(self, revision_id: str) -> None:
        """Bring back an old version; the current text becomes a revision, and Ctrl+Z works too."""
        restored = self.store.drafts.restore_revision(revision_id)
        cursor = self.editor.textCursor()
        cursor.beginEditBlock()
        cursor.select(QTextCursor.SelectionType.Document)
        cursor.insertText(restored.body)
        cursor.endEditBlock()
        self.title_edit.setText(restored.title)
        self.save()
        self.listing_changed.emit()
        self.reporter.show(self.tr("The earlier version is back; the text it replaced is kept in the history."), 5000)

    @Slot()
    def export_draft(self) -> None:
        if self.draft_id is None:
            return
        self.save()
        self.transfer.export_draft(self.draft_id, self.current_draft_title())

    @Slot()
    def print_draft(self) -> None:
        if self.draft_id is None:
            return
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        if self.run_dialog(dialog):
            self.print_to(printer)

    def print_to(self, printer: Any) -> None:
        document = QTextDocument()
        document.setHtml(f"<h1>{self.current_draft_title()}</h1>{markdown_to_html(self.editor.toPlainText())}")
        document.print_(printer)
