"""The co-writer in the window: its actions (toolbar, menus, palette), running one on the
open draft through session.cowriter and the scheduler, streaming the answer into the
suggestion pane, and putting it in the text only when accepted, as one undo step."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication, QObject, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence, QTextCursor
from PySide6.QtWidgets import QInputDialog, QMenu, QToolBar, QToolButton, QWidget

from desktop_app.core.cowriter import ACTIONS, LANGUAGES, REWRITES, cite_as_footnotes, clean_result
from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.engine import Finished
from desktop_app.session.cowriter import COWRITER_SETTINGS, CowriterRequest, cowriter_request
from desktop_app.session.grounding import ground
from desktop_app.session.retrieval import Retriever
from desktop_app.session.scheduler import EngineInfo, Source
from desktop_app.session.settings import AppSettings
from desktop_app.ui.generation import QtHandle, QtScheduler
from desktop_app.ui.status import StatusReporter
from desktop_app.ui.writing.editor import DraftEditorPane
from desktop_app.ui.writing.suggestion_panel import SuggestionPane

# The suggestion pane is re-rendered at most this often while text arrives (20 per second).
RENDER_INTERVAL_MS = 50
TOOLBAR_ACTIONS = ("grammar", "summarise", "bullets", "translate", "custom", "docs")  # after Continue and Rewrite
ALL_COLLECTIONS = QT_TRANSLATE_NOOP("CowriterController", "All my documents")
# The Rewrite menu's entries, named without the menu's own word (the full labels are their tooltips).
REWRITE_NAMES = {
    "clearer": QT_TRANSLATE_NOOP("CowriterController", "Clearer"),
    "shorter": QT_TRANSLATE_NOOP("CowriterController", "Shorter"),
    "longer": QT_TRANSLATE_NOOP("CowriterController", "Longer"),
    "formal": QT_TRANSLATE_NOOP("CowriterController", "More formal"),
    "friendly": QT_TRANSLATE_NOOP("CowriterController", "Friendlier"),
}
DOCS_CONTEXT_TOKENS = 400  # of the draft, before the cursor, beside the sources


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


class CowriterController(QObject):
    """One suggestion at a time for the editor pane's open draft; the text stays read-only
    while a suggestion is shown, so its positions cannot move under it."""

    suggestion_ready = Signal()  # a suggestion finished streaming

    def __init__(
        self,
        editor_pane: DraftEditorPane,
        suggestion_pane: SuggestionPane,
        scheduler: QtScheduler,
        reporter: StatusReporter,
        engine_info: Callable[[], EngineInfo | None],
        parent: QWidget,
        library: Retriever | None = None,
    ) -> None:
        super().__init__(parent)
        self.editor_pane = editor_pane
        self.library = library or Retriever(editor_pane.store)  # "Ask about my documents" searches it
        self.editor = editor_pane.editor
        self.suggestion_pane = suggestion_pane
        self.scheduler = scheduler
        self.reporter = reporter
        self.engine_info = engine_info
        self.dialog_parent = parent  # where the language and instruction questions appear
        self.suggestion: Suggestion | None = None
        self._writing_label = ""  # what the pane says once a queued request runs
        self._instructions: dict[str, str] = {}  # draft id -> its template's instruction
        self._last_collections: list[str] = []  # what "Ask about my documents" answered from last
        self._stream_timer = QTimer(self)
        self._stream_timer.setSingleShot(True)
        self._stream_timer.setInterval(RENDER_INTERVAL_MS)
        self.actions = {action_id: self._action(action_id) for action_id in ACTIONS}
        self.continue_action = self.actions["continue"]
        self.continue_action.setShortcut(QKeySequence("Ctrl+Shift+Return"))
        self.versions_action = QAction(self.tr("Three versions"), self)
        self.versions_action.setToolTip(self.tr("Rewrite the selection three ways and pick one"))
        self._connect_signals()

    def _action(self, action_id: str) -> QAction:
        label = translate("CoWriter", ACTIONS[action_id].label)
        short = REWRITE_NAMES.get(action_id)
        action = QAction(QCoreApplication.translate("CowriterController", short) if short else label, self)
        action.setToolTip(label)
        action.triggered.connect(lambda _checked=False, a=action_id: self.run_action(a))
        return action

    def _connect_signals(self) -> None:
        self.versions_action.triggered.connect(lambda: self.run_action("clearer", versions=3))
        self._stream_timer.timeout.connect(self._render_suggestion)
        self.suggestion_pane.accept_requested.connect(self.accept_suggestion)
        self.suggestion_pane.reject_requested.connect(self.reject_suggestion)
        self.suggestion_pane.again_requested.connect(self.try_again)

    # ---- where the actions appear ----

    def add_to_toolbar(self, toolbar: QToolBar, before: QAction) -> None:
        """Continue, a Rewrite menu, the other actions and Three versions, then a separator,
        all before `before`."""
        toolbar.insertAction(before, self.continue_action)
        rewrite_button = QToolButton()
        rewrite_button.setText(self.tr("Rewrite"))
        rewrite_button.setAccessibleName(self.tr("Rewrite"))
        rewrite_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        rewrite_menu = QMenu(rewrite_button)
        rewrite_menu.addActions([self.actions[action_id] for action_id in REWRITES])
        rewrite_button.setMenu(rewrite_menu)
        toolbar.insertWidget(before, rewrite_button)
        toolbar.insertActions(before, [self.actions[action_id] for action_id in TOOLBAR_ACTIONS])
        toolbar.insertAction(before, self.versions_action)
        toolbar.insertSeparator(before)

    def menu_actions(self) -> list[QAction]:
        """For the editor's context menu: every action, then Three versions."""
        return [*self.actions.values(), self.versions_action]

    def commands(self) -> list[tuple[str, Callable[[], None]]]:
        """For the command palette: every action by its full name, then Three versions."""
        commands = [(translate("CoWriter", ACTIONS[a].label), self._runner(a)) for a in ACTIONS]
        commands.append((self.tr("Three versions (rewrite: clearer)"), self._runner("clearer", versions=3)))
        return commands

    def _runner(self, action_id: str, versions: int = 1) -> Callable[[], None]:
        return lambda: self.run_action(action_id, versions=versions)

    def remember_instruction(self, draft_id: str, instruction: str) -> None:
        """What "Ask about selection" offers first for this draft (its template's suggestion)."""
        self._instructions[draft_id] = instruction

    # ---- asking ----

    def ask_language(self) -> tuple[str, bool]:
        """The language to translate into, by its English name (what the prompt is built from);
        a name the user typed instead of picking one is returned as typed."""
        english = {translate("CoWriter", name): name for name in LANGUAGES}  # shown name -> English
        choice, ok = QInputDialog.getItem(
            self.dialog_parent, self.tr("Translate"), self.tr("Into which language?"), list(english), 0, True
        )
        return english.get(choice, choice), ok

    def ask_instruction(self, suggested: str) -> tuple[str, bool]:
        return QInputDialog.getText(
            self.dialog_parent,
            self.tr("Ask about the selection"),
            self.tr("What should the co-writer do?"),
            text=suggested,
        )

    def ask_documents(self) -> tuple[str, list[str]]:
        """The question and the collections to answer it from (("", []) when cancelled)."""
        names = [c["name"] for c in self.editor_pane.store.documents.collections()]
        if not names:
            raise UserError(
                self.tr("There are no documents yet."), hint=self.tr("Add some with Chat › Documents… (Ctrl+Shift+D).")
            )
        title = self.tr("Ask about my documents")
        question, ok = QInputDialog.getText(self.dialog_parent, title, self.tr("What do you want to know?"))
        if not ok or not question.strip():
            return "", []
        if len(names) == 1:
            return question, names
        everything = QCoreApplication.translate("CowriterController", ALL_COLLECTIONS)
        choice, ok = QInputDialog.getItem(
            self.dialog_parent, title, self.tr("From which documents?"), [everything, *names], 0, False
        )
        return (question, names if choice == everything else [choice]) if ok else ("", [])

    def run_action(
        self, action_id: str, language: str = "", instruction: str = "", versions: int = 1, sample: bool = False
    ) -> None:
        """Ask the model; the answer streams into the suggestion pane, never into the text.
        The precise actions search for the best text with beams (the setting) unless `sample`."""
        try:
            self._run_action(action_id, language, instruction, versions, sample)
        except UserError as exc:
            self.reporter.problem(translate("CoWriter", ACTIONS[action_id].label), str(exc))

    def _run_action(self, action_id: str, language: str, instruction: str, versions: int, sample: bool) -> None:
        action = ACTIONS[action_id]
        info = self.engine_info()
        draft_id = self.editor_pane.draft_id
        if draft_id is None:
            raise UserError(self.tr("Open or create a draft first."))
        if info is None:
            raise UserError(self.tr("The model is not loaded yet; try again in a moment."))
        if self.suggestion is not None and not self.suggestion.done:
            raise UserError(self.tr("The co-writer is still writing a suggestion; wait for it, or reject it first."))
        if action_id == "translate" and not language:
            language, ok = self.ask_language()
            if not ok:
                return
        if action_id == "custom" and not instruction:
            instruction, ok = self.ask_instruction(self._instructions.get(draft_id, ""))
            if not ok:
                return
        grounding = None
        if action_id == "docs":
            collections: list[str] = []
            if not instruction:
                instruction, collections = self.ask_documents()
                if not instruction:
                    return
            reserve = info.count_tokens(instruction) + COWRITER_SETTINGS.max_new_tokens + DOCS_CONTEXT_TOKENS
            grounding = ground(
                self.library,
                instruction,
                collections or self._last_collections,
                info.context_length,
                info.count_tokens,
                reserve,
            )
            self._last_collections = collections or self._last_collections
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
            info.base_model,
            grounding,
            1 if sample or info.remote else AppSettings.load(self.editor_pane.store).cowriter_beams,
        )
        self.editor_pane.save()
        handle = self.scheduler.submit(request.request, Source.COWRITER)
        self.suggestion = Suggestion(draft_id, request, handle, texts=[""] * versions)
        handle.text.connect(self._on_handle_text)
        handle.finished.connect(self._on_handle_finished)
        handle.failed.connect(self._on_handle_failed)
        handle.started.connect(self._on_handle_started)
        self.editor.setReadOnly(True)  # positions must not move under the suggestion
        heading = translate("CoWriter", action.label)
        if request.clipped:
            heading = self.tr("{action} (with the nearby text as context)").format(action=heading)
        self._writing_label = self.tr("{action}: writing…").format(action=heading)
        waiting_for = self.scheduler.waiting_for(handle)
        message = (
            self.tr("{action}: waiting for {other} to finish…").format(
                action=heading, other=self._describe(waiting_for)
            )
            if waiting_for is not None
            else self._writing_label
        )
        self.suggestion_pane.begin(message, versions)
        self._render_suggestion()

    def _describe(self, source: Source) -> str:
        """Whose request the co-writer waits behind, as the waiting message names it."""
        names = {
            Source.CHAT: self.tr("a chat reply"),
            Source.COWRITER: self.tr("the co-writer"),
            Source.API: self.tr("another program's request"),
        }
        return names.get(source, source.description)

    # ---- the answer as it streams ----

    def _current(self, handle: object) -> Suggestion | None:
        """The suggestion `handle` answers, if it is still the one shown."""
        if self.suggestion is not None and handle is self.suggestion.handle:
            return self.suggestion
        return None

    @Slot()
    def _on_handle_started(self) -> None:
        if self._current(self.sender()) is not None:
            self.suggestion_pane.set_message(self._writing_label)

    @Slot(int, str)
    def _on_handle_text(self, index: int, text: str) -> None:
        suggestion = self._current(self.sender())
        if suggestion is None or index >= len(suggestion.texts):
            return
        suggestion.texts[index] += text
        if not self._stream_timer.isActive():
            self._stream_timer.start()

    def _render_suggestion(self) -> None:
        suggestion = self.suggestion
        if suggestion is not None:
            texts = [clean_result(t) for t in suggestion.texts] if suggestion.done else suggestion.texts
            self.suggestion_pane.show_texts(suggestion.original, ACTIONS[suggestion.action_id].replaces, texts)

    @Slot(object)
    def _on_handle_finished(self, finished: Finished) -> None:
        suggestion = self._current(self.sender())
        if suggestion is None:
            return
        suggestion.done = True
        if suggestion.versions == 1:
            suggestion.texts[0] = finished.text  # the whole text, whatever the stream carried
        self._stream_timer.stop()
        self._render_suggestion()
        self.reporter.show_speed(finished.stats)
        self.suggestion_pane.finish([clean_result(t) for t in suggestion.texts])
        self.suggestion_ready.emit()

    @Slot(str)
    def _on_handle_failed(self, text: str) -> None:
        if self._current(self.sender()) is not None:
            self.reject_suggestion()
            self.reporter.problem(self.tr("The co-writer could not answer"), text)

    # ---- accept, reject, try again ----

    @Slot(int)
    def accept_suggestion(self, index: int = 0) -> None:
        """Put the suggestion in the text as one undoable step."""
        suggestion = self.suggestion
        if suggestion is None or not suggestion.done or suggestion.draft_id != self.editor_pane.draft_id:
            return
        new = clean_result(suggestion.texts[index])
        notes = ""
        grounding = suggestion.request.grounding
        if grounding is not None:  # its [n] citations become the draft's footnotes
            labels = [p.label for p in grounding.passages]
            new, notes = cite_as_footnotes(self.editor.toPlainText(), new, labels)
        if not ACTIONS[suggestion.action_id].replaces:
            before = self.editor.toPlainText()[: suggestion.start]
            new = ("" if not before or before[-1].isspace() else " ") + new
        self.editor.setReadOnly(False)
        cursor = self.editor.textCursor()
        cursor.beginEditBlock()
        if notes:  # first, at the end: the positions before it stay as they are
            cursor.movePosition(QTextCursor.MoveOperation.End)
            cursor.insertText(("\n" if self.editor.toPlainText().endswith("\n") else "\n\n") + notes + "\n")
        cursor.setPosition(suggestion.start)
        cursor.setPosition(suggestion.end, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(new)
        cursor.endEditBlock()
        self.editor.setTextCursor(cursor)
        self._close()
        self.editor_pane.save()
        self.reporter.show(self.tr("Change accepted (Ctrl+Z undoes it)."), 4000)

    @Slot()
    def reject_suggestion(self) -> None:
        """Drop the suggestion (stopping it if it is still being written); the text stays."""
        if self.suggestion is not None and not self.suggestion.done and self.suggestion.handle is not None:
            self.suggestion.handle.cancel()
        self._close()

    @Slot()
    def try_again(self) -> None:
        """The same request on the same passage, once more."""
        suggestion = self.suggestion
        if suggestion is None:
            return
        self._close()
        cursor = self.editor.textCursor()
        cursor.setPosition(suggestion.start)
        cursor.setPosition(suggestion.end, QTextCursor.MoveMode.KeepAnchor)
        self.editor.setTextCursor(cursor)
        request = suggestion.request
        # A beam search would find the same text again: another try samples.
        self.run_action(request.action_id, request.language, request.instruction, request.versions, sample=True)

    def _close(self) -> None:
        self.suggestion = None
        self._stream_timer.stop()
        self.editor.setReadOnly(False)
        self.suggestion_pane.hide()
