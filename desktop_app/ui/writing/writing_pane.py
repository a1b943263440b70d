"""The writing mode as the window sees it: the drafts list, the editor and the co-writer's
suggestion put together, and what the window asks of them (save, a chat reply added to a
draft, a passage to discuss in chat, closing)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QSplitter, QVBoxLayout, QWidget

from desktop_app.core.presets import DraftTemplate
from desktop_app.session.retrieval import Retriever
from desktop_app.session.scheduler import EngineInfo
from desktop_app.store import Store
from desktop_app.ui.generation import QtScheduler
from desktop_app.ui.status import StatusReporter
from desktop_app.ui.transfer import TransferController
from desktop_app.ui.writing.cowriter import CowriterController
from desktop_app.ui.writing.dialogs import CommandPaletteDialog
from desktop_app.ui.writing.draft_list import DraftListPane
from desktop_app.ui.writing.editor import DraftEditorPane
from desktop_app.ui.writing.suggestion_panel import SuggestionPane


class WritingPane(QWidget):
    """Drafts on the left, the editor in the middle, the co-writer's suggestion below."""

    discuss_requested = Signal(str)  # the selection, to talk about in a new chat
    suggestion_ready = Signal()  # a suggestion finished streaming (tests and the status bar)

    def __init__(
        self,
        store: Store,
        scheduler: QtScheduler,
        templates: tuple[DraftTemplate, ...],
        reporter: StatusReporter,
        transfer: TransferController,
        engine_info: Callable[[], EngineInfo | None],
        parent: QWidget | None = None,
        library: Retriever | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.editor_pane = DraftEditorPane(store, reporter, transfer, engine_info)
        self.editor = self.editor_pane.editor
        self.drafts = DraftListPane(store, templates, reporter, self.editor_pane)
        self.suggestion_pane = SuggestionPane()
        self.cowriter = CowriterController(
            self.editor_pane, self.suggestion_pane, scheduler, reporter, engine_info, self, library
        )
        self.palette_action = QAction(self.tr("Commands…"), self)
        self.palette_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
        self._build()
        self._connect_signals()
        self.drafts.refresh()
        self.editor_pane.show_draft(None)

    def _build(self) -> None:
        self.cowriter.add_to_toolbar(self.editor_pane.toolbar, before=self.editor_pane.preview_action)
        self.editor_pane.add_below_text(self.suggestion_pane)
        self.editor.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        # These work wherever the focus is in the writing mode, the drafts list included.
        for action in (
            self.editor_pane.preview_action,
            self.editor_pane.find_action,
            self.editor_pane.print_action,
            self.palette_action,
            self.cowriter.continue_action,
        ):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.drafts)
        self.splitter.addWidget(self.editor_pane)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 840])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

    def _connect_signals(self) -> None:
        self.drafts.open_requested.connect(self.open_draft)
        self.drafts.created.connect(self._on_drafts_created)
        self.drafts.removed.connect(self._on_drafts_removed)
        self.drafts.rename_requested.connect(self.editor_pane.edit_title)
        self.drafts.export_requested.connect(self.editor_pane.export_draft)
        self.editor_pane.listing_changed.connect(self.drafts.refresh)
        self.editor.customContextMenuRequested.connect(self._on_editor_context_menu)
        self.palette_action.triggered.connect(self.open_palette)
        self.cowriter.suggestion_ready.connect(self.suggestion_ready)

    # ---- the drafts ----

    @Slot()
    def refresh_list(self) -> None:
        self.drafts.refresh()

    @Slot(str)
    def open_draft(self, draft_id: str) -> None:
        """Show `draft_id` in the editor; a suggestion for the draft left is dropped."""
        if draft_id == self.editor_pane.draft_id:
            return
        self.cowriter.reject_suggestion()
        self.editor_pane.save()
        self.editor_pane.show_draft(draft_id)

    @Slot(str, str)
    def _on_drafts_created(self, draft_id: str, instruction: str) -> None:
        self.cowriter.reject_suggestion()  # it belonged to the draft that was open
        if instruction:
            self.cowriter.remember_instruction(draft_id, instruction)
        self.editor_pane.show_draft(draft_id)
        self.editor.setFocus()

    @Slot(str)
    def _on_drafts_removed(self, draft_id: str) -> None:
        if draft_id == self.editor_pane.draft_id:
            self.cowriter.reject_suggestion()
            self.editor_pane.show_draft(None)

    @Slot()
    def save(self) -> None:
        """Write the open draft's text and title (a no-op when nothing changed)."""
        self.editor_pane.save()

    @Slot(object)
    def on_engine_changed(self, _info: EngineInfo | None) -> None:
        self.editor_pane.update_counts()  # the token count needs the model

    # ---- the editor's menu and the command palette ----

    @Slot(QPoint)
    def _on_editor_context_menu(self, position: QPoint) -> None:
        menu = self.editor.createStandardContextMenu()
        menu.addSeparator()
        menu.addMenu(self.tr("Co-writer")).addActions(self.cowriter.menu_actions())
        discuss = menu.addAction(self.tr("Discuss in chat"))
        discuss.setEnabled(self.editor.textCursor().hasSelection())
        discuss.triggered.connect(self.discuss_selection)
        menu.exec(self.editor.viewport().mapToGlobal(position))

    @Slot()
    def discuss_selection(self) -> None:
        text = self.editor.textCursor().selectedText().replace("\u2029", "\n")
        if text.strip():
            self.discuss_requested.emit(text)

    @Slot()
    def open_palette(self) -> None:
        commands = self.cowriter.commands()
        commands += [
            (self.tr("Find and replace"), self.editor_pane.show_find_bar),
            (self.tr("History"), self.editor_pane.show_history),
        ]
        dialog = CommandPaletteDialog(commands, self)
        if dialog.exec():
            chosen = dialog.chosen()
            if chosen is not None:
                chosen()

    # ---- from the chat, and closing ----

    def append_to_draft(self, draft_id: str | None, text: str) -> str:
        """Add text at the end of a draft (a new one when draft_id is None); its id."""
        self.editor_pane.save()
        if draft_id is None:
            draft_id = self.store.drafts.create(self.tr("From chat"), text).id
        else:
            body = self.store.drafts.get(draft_id).body
            self.store.drafts.save(draft_id, body=(body.rstrip() + "\n\n" if body.strip() else "") + text)
        if draft_id == self.editor_pane.draft_id:
            self.editor_pane.show_draft(draft_id)
        self.drafts.refresh()
        return draft_id

    def shutdown(self) -> None:
        self.cowriter.reject_suggestion()
        self.editor_pane.save()
