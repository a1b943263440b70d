"""Writing mode: drafts, an editor, and a co-writer whose suggestions arrive as tracked changes."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence, QTextCursor
from PySide6.QtWidgets import (
    QInputDialog,
    QMenu,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.cowriter import ACTIONS, LANGUAGES, REWRITES, clean_result
from desktop_app.core.errors import UserError
from desktop_app.core.presets import DraftTemplate
from desktop_app.engine import Finished
from desktop_app.session.cowriter import CowriterRequest, cowriter_request
from desktop_app.session.scheduler import EngineInfo, Source
from desktop_app.store import Store
from desktop_app.ui.generation import QtHandle, QtScheduler
from desktop_app.ui.status import StatusReporter
from desktop_app.ui.transfer import TransferController
from desktop_app.ui.writing.dialogs import CommandPaletteDialog
from desktop_app.ui.writing.draft_list import DraftListPane
from desktop_app.ui.writing.editor import DraftEditorPane
from desktop_app.ui.writing.suggestion_panel import SuggestionPane

log = logging.getLogger(__name__)


@dataclass
class Suggestion:
    """A co-writer request in flight or waiting for Accept/Reject."""

    draft_id: str
    request: CowriterRequest
    handle: QtHandle | None = None
    texts: list[str] = field(default_factory=list)
    done: bool = False

    @property
    def start(self) -> int:
        return self.request.start

    @property
    def end(self) -> int:
        return self.request.end

    @property
    def original(self) -> str:
        return self.request.original

    @property
    def action_id(self) -> str:
        return self.request.action_id

    @property
    def versions(self) -> int:
        return self.request.versions


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
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.scheduler = scheduler
        self.templates = templates
        self.reporter = reporter
        self.transfer = transfer
        self.show_problem = reporter.problem
        self.show_status = reporter.show
        self.offer_undo = reporter.offer_undo
        self.engine_info = engine_info
        self.suggestion: Suggestion | None = None
        self._writing_label = ""  # what the panel says once a queued request runs
        self._instructions: dict[str, str] = {}  # draft id -> its template's instruction
        self._stream_timer = QTimer(self)
        self._stream_timer.setSingleShot(True)
        self._stream_timer.setInterval(50)
        self._build()
        self._connect_signals()
        self.refresh_list()
        self.editor_pane.show_draft(None)

    # ---- construction ----

    def _build(self) -> None:
        self.editor_pane = DraftEditorPane(self.store, self.reporter, self.transfer, self.engine_info)
        self.drafts = DraftListPane(self.store, self.templates, self.reporter, self.editor_pane)
        self.editor = self.editor_pane.editor
        self.editor.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        toolbar, before = self.editor_pane.toolbar, self.editor_pane.preview_action
        self.cowriter_actions: dict[str, QAction] = {}
        self.continue_action = self._cowriter_action("continue", "Ctrl+Shift+Return")
        toolbar.insertAction(before, self.continue_action)
        rewrite_button = QToolButton()
        rewrite_button.setText("Rewrite")
        rewrite_button.setAccessibleName("Rewrite")
        rewrite_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        rewrite_menu = QMenu(rewrite_button)
        for action_id in REWRITES:
            rewrite_menu.addAction(self._cowriter_action(action_id))
        rewrite_button.setMenu(rewrite_menu)
        toolbar.insertWidget(before, rewrite_button)
        for action_id in ("grammar", "summarise", "bullets", "translate", "custom"):
            toolbar.insertAction(before, self._cowriter_action(action_id))
        self.versions_action = QAction("Three versions", self)
        self.versions_action.setToolTip("Rewrite the selection three ways and pick one")
        toolbar.insertAction(before, self.versions_action)
        toolbar.insertSeparator(before)
        self.palette_action = QAction("Commands…", self)
        self.palette_action.setShortcut(QKeySequence("Ctrl+Shift+P"))
        for action in (
            self.editor_pane.preview_action,
            self.editor_pane.find_action,
            self.editor_pane.print_action,
            self.palette_action,
            self.continue_action,
        ):
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            self.addAction(action)
        self.suggestion_pane = SuggestionPane()

        self.editor_pane.add_below_text(self.suggestion_pane)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.drafts)
        self.splitter.addWidget(self.editor_pane)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 840])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)

    def _cowriter_action(self, action_id: str, shortcut: str | None = None) -> QAction:
        spec = ACTIONS[action_id]
        label = spec.label.removeprefix("Rewrite: ").capitalize() if action_id in REWRITES else spec.label
        action = QAction(label, self)
        action.setToolTip(spec.label)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False, a=action_id: self.run_action(a))
        self.cowriter_actions[action_id] = action
        return action

    def _connect_signals(self) -> None:
        self.drafts.open_requested.connect(self.open_draft)
        self.drafts.created.connect(self._on_drafts_created)
        self.drafts.removed.connect(self._on_drafts_removed)
        self.drafts.rename_requested.connect(self.editor_pane.edit_title)
        self.drafts.export_requested.connect(self.editor_pane.export_draft)
        self.editor.customContextMenuRequested.connect(self._on_editor_context_menu)
        self._stream_timer.timeout.connect(self._render_suggestion)
        self.editor_pane.listing_changed.connect(self.drafts.refresh)
        self.palette_action.triggered.connect(self.open_palette)
        self.versions_action.triggered.connect(lambda: self.run_action("clearer", versions=3))
        self.suggestion_pane.accept_requested.connect(self.accept_suggestion)
        self.suggestion_pane.reject_requested.connect(self.reject_suggestion)
        self.suggestion_pane.again_requested.connect(self.try_again)

    # ---- the drafts list ----

    def refresh_list(self) -> None:
        self.drafts.refresh()

    @Slot(str, str)
    def _on_drafts_created(self, draft_id: str, instruction: str) -> None:
        if instruction:
            self._instructions[draft_id] = instruction
        self.editor_pane.show_draft(draft_id)
        self.editor.setFocus()

    @Slot(str)
    def _on_drafts_removed(self, draft_id: str) -> None:
        if draft_id == self.editor_pane.draft_id:
            self.editor_pane.show_draft(None)

    def open_draft(self, draft_id: str) -> None:
        if draft_id == self.editor_pane.draft_id:
            return
        self.reject_suggestion()
        self.save()
        self.editor_pane.show_draft(draft_id)

    @Slot()
    def save(self) -> None:
        """Write the open draft's text and title (a no-op when nothing changed)."""
        self.editor_pane.save()

    @Slot(object)
    def on_engine_changed(self, _info: EngineInfo | None) -> None:
        self.editor_pane.update_counts()

    # ---- the co-writer ----

    def _on_editor_context_menu(self, position: Any) -> None:
        menu = self.editor.createStandardContextMenu()
        menu.addSeparator()
        cowriter = menu.addMenu("Co-writer")
        for action_id in ACTIONS:
            cowriter.addAction(self.cowriter_actions[action_id])
        cowriter.addAction(self.versions_action)
        discuss = menu.addAction("Discuss in chat")
        discuss.setEnabled(self.editor.textCursor().hasSelection())
        discuss.triggered.connect(self.discuss_selection)
        menu.exec(self.editor.viewport().mapToGlobal(position))

    def discuss_selection(self) -> None:
        text = self.editor.textCursor().selectedText().replace("\u2029", "\n")
        if text.strip():
            self.discuss_requested.emit(text)

    def ask_language(self) -> tuple[str, bool]:
        return QInputDialog.getItem(self, "Translate", "Into which language?", list(LANGUAGES), 0, True)

    def ask_instruction(self, suggested: str) -> tuple[str, bool]:
        return QInputDialog.getText(self, "Ask about the selection", "What should the co-writer do?", text=suggested)

    def open_palette(self) -> None:
        commands = [(ACTIONS[a].label, lambda a=a: self.run_action(a)) for a in ACTIONS]
        commands.append(("Three versions (rewrite: clearer)", lambda: self.run_action("clearer", versions=3)))
        commands += [("Find and replace", self.editor_pane.show_find_bar), ("History", self.editor_pane.show_history)]
        dialog = CommandPaletteDialog(commands, self)
        if dialog.exec():
            chosen = dialog.chosen()
            if chosen is not None:
                chosen()

    def run_action(self, action_id: str, language: str = "", instruction: str = "", versions: int = 1) -> None:
        """Ask the model; the answer streams into the suggestion panel, never into the text."""
        try:
            self._run_action(action_id, language, instruction, versions)
        except UserError as exc:
            self.show_problem(ACTIONS[action_id].label, str(exc))

    def _run_action(self, action_id: str, language: str, instruction: str, versions: int) -> None:
        action = ACTIONS[action_id]
        info = self.engine_info()
        draft_id = self.editor_pane.draft_id
        if draft_id is None:
            raise UserError("Open or create a draft first.")
        if info is None:
            raise UserError("The model is not loaded yet; try again in a moment.")
        if self.suggestion is not None and not self.suggestion.done:
            raise UserError("The co-writer is still writing a suggestion; wait for it, or reject it first.")
        if action_id == "translate" and not language:
            language, ok = self.ask_language()
            if not ok:
                return
        if action_id == "custom" and not instruction:
            instruction, ok = self.ask_instruction(self._instructions.get(draft_id, ""))
            if not ok:
                return
        cursor = self.editor.textCursor()
        request = cowriter_request(
            action_id,
            self.editor.toPlainText(),
            cursor.selectionStart(),
            cursor.selectionEnd(),
            info.count_tokens,
            info.context_length,
            language,
            instruction,
            versions,
        )
        self.save()
        suggestion = Suggestion(draft_id, request, texts=[""] * versions)
        handle = self.scheduler.submit(request.request, Source.COWRITER)
        suggestion.handle = handle
        self.suggestion = suggestion
        handle.text.connect(self._on_handle_text)
        handle.finished.connect(self._on_handle_finished)
        handle.failed.connect(self._on_handle_failed)
        handle.started.connect(self._on_handle_started)
        self.editor.setReadOnly(True)  # positions must not move under the suggestion
        clipped = " (with the nearby text as context)" if request.clipped else ""
        waiting_for = self.scheduler.waiting_for(handle)
        waiting = f"waiting for {waiting_for.description} to finish…" if waiting_for is not None else "writing…"
        self._writing_label = f"{action.label}{clipped}: writing…"
        self.suggestion_pane.begin(f"{action.label}{clipped}: {waiting}", versions)
        self._render_suggestion()

    def _is_current(self, handle: object) -> bool:
        return self.suggestion is not None and handle is self.suggestion.handle

    @Slot()
    def _on_handle_started(self) -> None:
        if self._is_current(self.sender()):
            self.suggestion_pane.set_message(self._writing_label)

    @Slot(int, str)
    def _on_handle_text(self, index: int, text: str) -> None:
        if not self._is_current(self.sender()) or index >= len(self.suggestion.texts):  # type: ignore[union-attr]
            return
        assert self.suggestion is not None
        self.suggestion.texts[index] += text
        if not self._stream_timer.isActive():
            self._stream_timer.start()

    def _render_suggestion(self) -> None:
        suggestion = self.suggestion
        if suggestion is not None:
            texts = [clean_result(t) for t in suggestion.texts] if suggestion.done else suggestion.texts
            self.suggestion_pane.show_texts(suggestion.original, ACTIONS[suggestion.action_id].replaces, texts)

    @Slot(object)
    def _on_handle_finished(self, finished: Finished) -> None:
        suggestion = self.suggestion
        if suggestion is None or not self._is_current(self.sender()):
            return
        suggestion.done = True
        if suggestion.versions == 1:
            suggestion.texts[0] = finished.text  # the whole text, whatever the stream carried
        self._stream_timer.stop()
        self._render_suggestion()
        self.suggestion_pane.finish([clean_result(t) for t in suggestion.texts])
        self.suggestion_ready.emit()

    @Slot(str)
    def _on_handle_failed(self, text: str) -> None:
        if self._is_current(self.sender()):
            self.reject_suggestion()
            self.show_problem("The co-writer could not answer", text)

    def accept_suggestion(self, index: int = 0) -> None:
        """Put the suggestion in the text as one undoable step."""
        suggestion = self.suggestion
        if suggestion is None or not suggestion.done or suggestion.draft_id != self.editor_pane.draft_id:
            return
        new = clean_result(suggestion.texts[index])
        if not ACTIONS[suggestion.action_id].replaces:
            before = self.editor.toPlainText()[: suggestion.start]
            new = ("" if not before or before[-1].isspace() else " ") + new
        self.editor.setReadOnly(False)
        cursor = self.editor.textCursor()
        cursor.beginEditBlock()
        cursor.setPosition(suggestion.start)
        cursor.setPosition(suggestion.end, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(new)
        cursor.endEditBlock()
        self.editor.setTextCursor(cursor)
        self._close_panel()
        self.save()
        self.show_status("Change accepted (Ctrl+Z undoes it).", 4000)

    def reject_suggestion(self) -> None:
        if self.suggestion is not None and not self.suggestion.done and self.suggestion.handle is not None:
            self.suggestion.handle.cancel()
        self._close_panel()

    def try_again(self) -> None:
        suggestion = self.suggestion
        if suggestion is None:
            return
        self._close_panel()
        cursor = self.editor.textCursor()
        cursor.setPosition(suggestion.start)
        cursor.setPosition(suggestion.end, QTextCursor.MoveMode.KeepAnchor)
        self.editor.setTextCursor(cursor)
        request = suggestion.request
        self.run_action(request.action_id, request.language, request.instruction, request.versions)

    def _close_panel(self) -> None:
        self.suggestion = None
        self._stream_timer.stop()
        self.editor.setReadOnly(False)
        self.suggestion_pane.hide()

    # ---- from the chat ----

    def append_to_draft(self, draft_id: str | None, text: str) -> str:
        """Add text at the end of a draft (a new one when draft_id is None); its id."""
        self.save()
        if draft_id is None:
            draft_id = self.store.drafts.create("From chat", text).id
        else:
            body = self.store.drafts.get(draft_id).body
            self.store.drafts.save(draft_id, body=(body.rstrip() + "\n\n" if body.strip() else "") + text)
        if draft_id == self.editor_pane.draft_id:
            self.editor_pane.show_draft(draft_id)
        self.refresh_list()
        return draft_id

    def shutdown(self) -> None:
        self.reject_suggestion()
        self.save()
