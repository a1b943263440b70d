"""The open conversation: the welcome page or the transcript, the message box, the reply as
it streams, the actions on each message, and the chat's own settings panel."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QT_TRANSLATE_NOOP, QSize, QTimer, Signal, Slot
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QHBoxLayout, QInputDialog, QLabel, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.core.presets import Preset
from desktop_app.core.records import ToolUse
from desktop_app.engine import Finished, PromptPrepared, ReasoningChunk, TextChunk
from desktop_app.session.chat import BASE_MODEL_NOTE, ChatSession, ModelRef, Turn
from desktop_app.session.scheduler import EngineInfo, Source
from desktop_app.transcripts.render import code_blocks
from desktop_app.ui.chat.chat_view import ChatView
from desktop_app.ui.chat.composer import ComposerWidget
from desktop_app.ui.chat.length_meter import LengthMeter
from desktop_app.ui.chat.message_actions import MessageAction, MessageRequest
from desktop_app.ui.chat.settings_keeper import SettingsKeeper
from desktop_app.ui.chat.settings_pane import ConversationSettingsPane
from desktop_app.ui.chat.sources import SourcesButton, show_passage
from desktop_app.ui.chat.welcome import WelcomeWidget
from desktop_app.ui.generation import QtHandle, QtScheduler
from desktop_app.ui.icons import icon
from desktop_app.ui.status import StatusReporter, reports_problems
from desktop_app.ui.tool_catalog import ToolCatalog

log = logging.getLogger(__name__)

# The view is re-rendered at most this often while tokens arrive (20 per second).
RENDER_INTERVAL_MS = 50


class ChatPane(QWidget):
    """Sends messages through the ChatSession and shows the reply of its own request."""

    reply_finished = Signal(str)  # message id: the reply is complete and saved
    conversation_changed = Signal(object)  # the open conversation's id, or None for a new chat
    conversations_changed = Signal()  # a title or an order may have changed: refresh the list
    to_draft_requested = Signal(str)  # a reply's text, to add to a draft
    compare_requested = Signal(str)  # a message's id: its question goes to Compare mode

    def __init__(
        self,
        session: ChatSession,
        scheduler: QtScheduler,
        reporter: StatusReporter,
        presets: tuple[Preset, ...],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.session = session
        self.store = session.store
        self.scheduler = scheduler
        self.reporter = reporter
        self.engine_info: EngineInfo | None = None
        self.tools: ToolCatalog | None = None  # runs the calls of replies that call tools
        self.conversation_id: str | None = None
        self.turn: Turn | None = None  # the reply shown as it streams
        self.handle: QtHandle | None = None  # its request
        # Every reply not yet over, shown or not: one stopped by opening another chat is
        # still recorded when its last event arrives.
        self._turns: dict[QtHandle, Turn] = {}
        self._context_used = 0
        self._render_timer = self._timer(RENDER_INTERVAL_MS)
        self._count_timer = self._timer(250)
        self._build(presets)
        self._handlers: dict[MessageAction, Callable[[MessageRequest], None]] = {
            MessageAction.COPY: self._copy,
            MessageAction.COPY_CODE: self._copy,
            MessageAction.TO_DRAFT: self._to_draft,
            MessageAction.BRANCH: self._show_version,
            MessageAction.DELETE: self._delete_message,
            MessageAction.REGENERATE: self._regenerate,
            MessageAction.EDIT: self._edit,
            MessageAction.SOURCE: self._show_source,
            MessageAction.COMPARE: lambda request: self.compare_requested.emit(request.message_id),
        }
        self._connect_signals()
        self.keeper.load()
        self._set_generating(False)

    def _timer(self, interval_ms: int) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(interval_ms)
        return timer

    def _build(self, presets: tuple[Preset, ...]) -> None:
        self.chat_view = ChatView()
        self.chat_view.sources_of = self.store.documents.sources
        self.welcome = WelcomeWidget()
        self.pages = QStackedWidget()  # the welcome page for a new chat, else the transcript
        self.pages.setObjectName("chat-area")
        self.pages.addWidget(self.welcome)
        self.pages.addWidget(self.chat_view)
        self.composer = ComposerWidget()
        self.sources_button = SourcesButton(self.store)
        # Shown by the window: the chat's settings in a dock, speed and context in the status bar.
        self.settings_pane = ConversationSettingsPane(presets)
        self.keeper = SettingsKeeper(
            self.settings_pane, self.session, self.reporter, lambda: self.conversation_id, self
        )
        self.length_meter = LengthMeter(lambda: self.settings_pane.generation_settings().max_new_tokens, self)
        self.token_label = self.length_meter.token_label
        self.context_meter = self.length_meter.context_meter
        self.send_button = QPushButton(icon("send", "#ffffff"), self.tr("Send"))
        self.stop_button = QPushButton(icon("stop"), self.tr("Stop"))
        self.send_button.setObjectName("send-button")
        self.stop_button.setObjectName("stop-button")
        for button in (self.send_button, self.stop_button):
            button.setIconSize(QSize(16, 16))
        self.send_button.setAccessibleName(self.tr("Send"))
        self.stop_button.setAccessibleName(self.tr("Stop"))
        self.send_button.setToolTip(self.tr("Send (Enter)"))
        self.stop_button.setToolTip(self.tr("Stop the reply (Esc)"))
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.composer, 1)
        bottom.addLayout(buttons)
        self.notice_label = QLabel(translate("ChatSession", BASE_MODEL_NOTE))
        self.notice_label.setWordWrap(True)
        self.notice_label.setAccessibleName(self.tr("About this model"))
        self.notice_label.hide()
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.notice_label)
        layout.addLayout(bottom)
        self.remote_label = QLabel("")  # privacy made visible: where the chat's text goes
        self.remote_label.setAccessibleName(self.tr("Where your text goes"))
        self.remote_label.hide()
        under = QHBoxLayout()
        under.addWidget(self.sources_button)
        under.addWidget(self.token_label, 1)
        under.addWidget(self.remote_label)
        layout.addLayout(under)
        self.speed_label = self.reporter.speed_label

    def _connect_signals(self) -> None:
        self.send_button.clicked.connect(self.send)
        self.stop_button.clicked.connect(self.stop)
        self.composer.send_requested.connect(self.send)
        self.composer.stop_requested.connect(self.stop)
        self.composer.textChanged.connect(self._count_timer.start)
        self.conversation_changed.connect(self.sources_button.set_conversation)
        self._count_timer.timeout.connect(self.update_token_count)
        self._render_timer.timeout.connect(self._render_stream)
        self.chat_view.action_requested.connect(self._on_chat_view_action_requested)
        self.welcome.suggestion_chosen.connect(self._on_welcome_suggestion_chosen)
        self.composer.drop_refused.connect(lambda text: self.reporter.show(text, 6000))
        self.settings_pane.changed.connect(self.update_token_count)

    # ---- the model ----

    def set_engine_info(self, info: EngineInfo | None) -> None:
        self.engine_info = info
        self.notice_label.setVisible(info is not None and info.base_model)
        remote = info is not None and info.provider_name.startswith("remote:")
        self.remote_label.setVisible(remote)
        sent_to = self.tr("🌐 Your messages in this chat are sent to {server}")
        self.remote_label.setText(sent_to.format(server=info.provider) if info is not None and remote else "")
        for part in (self.length_meter, self.welcome, self.settings_pane):
            part.set_engine_info(info)
        self.update_token_count()

    def _model(self) -> ModelRef:
        if self.engine_info is None:
            raise UserError(self.tr("The model is not loaded yet; try again in a moment."))
        self.sources_button.check_remote(self.engine_info)  # passages to a remote server: asked first
        return ModelRef.of(self.engine_info)

    @property
    def generating(self) -> bool:
        return self.turn is not None

    # ---- opening conversations ----

    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not open the chat"))
    def open_conversation(self, conversation_id: str, switch_to: str | None = None) -> None:
        if conversation_id == self.conversation_id and switch_to is None:
            return
        self._stop_and_detach()
        self.keeper.save()
        self.conversation_id = conversation_id
        if switch_to is not None:
            self.store.conversations.switch_branch(switch_to)
        self.show_branch(include=switch_to)
        if switch_to is not None:
            self.chat_view.scroll_to_message(switch_to)
        self.keeper.load()
        self.conversation_changed.emit(conversation_id)

    def new_chat(self) -> None:
        self._stop_and_detach()
        self.keeper.save()
        self.conversation_id = None
        self.show_branch()
        self.keeper.load()
        self.conversation_changed.emit(None)
        self.composer.setFocus()

    def leave(self, conversation_id: str) -> None:
        """The conversation went to the trash or the archive: stop its reply, clear the view."""
        if self.conversation_id == conversation_id:
            self._stop_and_detach()
            self.conversation_id = None
            self.chat_view.show_messages([])
            self.pages.setCurrentWidget(self.welcome)
            self.keeper.load()
            self.conversation_changed.emit(None)

    def show_branch(self, leaf_id: str | None = None, include: str | None = None) -> None:
        """Show the current branch (or the one ending at `leaf_id`) with its branch switchers."""
        if self.conversation_id is None:
            self.chat_view.show_messages([])
            self._context_used = 0
        else:
            view = self.session.branch_view(self.conversation_id, leaf_id)
            self.chat_view.show_messages(view.messages, view.branches, include)
            self._context_used = view.context_used
        self.pages.setCurrentWidget(self.chat_view if self.chat_view.shown_count else self.welcome)
        self._show_context_used()

    # ---- sending and streaming ----

    @Slot()
    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not send the message"))
    def send(self) -> None:
        text = self.composer.toPlainText().strip()
        if not text or self.generating:
            return
        model = self._model()
        settings = self.settings_pane.generation_settings()
        if self.conversation_id is None:
            conversation = self.session.new_conversation(
                self.settings_pane.system_prompt_text(), settings, model.model_id
            )
            self.conversation_id = conversation.id
            self.sources_button.attach_pending(conversation.id)
            self.conversation_changed.emit(conversation.id)
        else:
            self.keeper.save()
        user, turn = self.session.send(self.conversation_id, text, model)
        self.composer.clear()
        self.pages.setCurrentWidget(self.chat_view)
        self.chat_view.append_message(user)  # not a full re-render: long chats stay quick
        self._start(turn)

    def _start(self, turn: Turn, going_on: bool = False) -> None:
        """Submit the turn's request (`going_on`: its next round, after its tool calls)."""
        try:
            handle = self.scheduler.submit(turn.request, Source.CHAT)
        except UserError:
            turn.fail()  # the reply's row is there already: say it never came
            raise
        if not going_on:
            self.chat_view.begin_stream()
            self.chat_view.update_stream("")
        self.turn, self.handle = turn, handle
        self._turns[handle] = turn
        handle.started.connect(self._on_handle_started)
        handle.prepared.connect(self._on_handle_prepared)
        handle.chunk.connect(self._on_handle_chunk)
        handle.finished.connect(self._on_handle_finished)
        handle.failed.connect(self._on_handle_failed)
        waiting_for = self.scheduler.waiting_for(handle)
        if waiting_for is not None:
            waiting = self.tr("Waiting for {what} to finish; your reply starts right after.")
            self.reporter.show(waiting.format(what=waiting_for.description), 0)
        self._set_generating(True)
        self.conversations_changed.emit()

    @Slot()
    def stop(self) -> None:
        if self.turn is not None and self.turn.calls:  # stopped while its tools run: it ends here
            self._end_calling(self.turn)
        elif self.handle is not None:
            self.handle.cancel()

    def _stop_and_detach(self) -> None:
        """Stop the shown reply and stop showing it; it is recorded when it ends."""
        self.stop()
        self.turn = self.handle = None
        self._render_timer.stop()
        self._set_generating(False)

    def _sender_turn(self) -> tuple[Turn | None, bool]:
        """The turn whose handle sent the signal, and whether it is the one shown."""
        handle = self.sender()
        turn = self._turns.get(handle) if isinstance(handle, QtHandle) else None
        return turn, turn is not None and handle is self.handle

    @Slot()
    def _on_handle_started(self) -> None:
        if self._sender_turn()[1]:
            self.reporter.status_bar.clearMessage()

    @Slot(object)
    def _on_handle_prepared(self, prepared: PromptPrepared) -> None:
        turn, shown = self._sender_turn()
        if turn is not None:
            turn.record(prepared)
            if shown and prepared.dropped_messages:
                n = prepared.dropped_messages
                left_out = (
                    self.tr(
                        "The oldest message was left out of this reply's prompt: "
                        "the chat is longer than the model's context window."
                    )
                    if n == 1
                    else self.tr(
                        "The {count} oldest messages were left out of this reply's prompt: "
                        "the chat is longer than the model's context window."
                    ).format(count=n)
                )
                self.reporter.show(left_out, 10_000)

    @Slot(object)
    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not save the reply"))
    def _on_handle_chunk(self, chunk: TextChunk | ReasoningChunk) -> None:
        turn, shown = self._sender_turn()
        if turn is None:
            return
        turn.record(chunk)  # saved at least once a second
        if shown and not self._render_timer.isActive():
            self._render_timer.start()

    @Slot()
    def _render_stream(self) -> None:
        if self.turn is not None:
            reply = self.turn.reply
            self.chat_view.update_stream(reply.text, reasoning=reply.reasoning, tools=reply.tool_uses)

    @Slot(object)
    def _on_handle_finished(self, finished: Finished) -> None:
        turn, shown = self._sender_turn()
        if turn is None:
            return
        self._turns.pop(self.sender(), None)  # type: ignore[call-overload]
        try:
            turn.record(finished)
        except UserError as exc:
            if shown:
                self._finish_request()
            self.reporter.problem(self.tr("Could not save the reply"), str(exc))
            return
        if turn.calls and shown and self.tools is not None:  # the model called tools: it goes on after them
            self.reporter.show(self.tr("Calling {tool}…").format(tool=", ".join(c.name for c in turn.calls)), 0)
            self.tools.run_calls(turn, self)
            return
        if turn.calls:
            turn.abandon()  # (a chat no longer shown asks no consent)
        if not shown:
            return
        message = turn.message
        assert message is not None
        self._render_timer.stop()
        self.chat_view.end_stream(message, self.session.branches_of(message.id))
        stats = finished.stats
        self._context_used = stats.prompt_tokens + stats.generated_tokens
        self._show_context_used()
        self.reporter.show_speed(stats)
        self._finish_request()
        self.reply_finished.emit(message.id)

    @Slot(str)
    def _on_handle_failed(self, text: str) -> None:
        turn, shown = self._sender_turn()
        if turn is None:
            return
        self._turns.pop(self.sender(), None)  # type: ignore[call-overload]
        turn.fail()
        if not shown:
            return
        self.chat_view.end_stream()
        self._finish_request()
        self.reporter.problem(self.tr("Inkwell could not answer"), text)

    @Slot(object, object)
    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not go on after the tools"))
    def continue_after_tools(self, turn: Turn, uses: list[ToolUse]) -> None:
        if turn is self.turn and turn.calls and not turn.over:
            self.reporter.status_bar.clearMessage()
            turn.go_on(uses)
            self._render_stream()
            self._start(turn, going_on=True)

    def _end_calling(self, turn: Turn) -> None:
        turn.abandon()
        self.chat_view.end_stream(turn.message, self.session.branches_of(turn.message_id) if turn.message else None)
        self._finish_request()

    def _finish_request(self) -> None:
        self.turn = None
        self.handle = None
        self._set_generating(False)
        self.conversations_changed.emit()

    def _set_generating(self, generating: bool) -> None:
        self.send_button.setEnabled(not generating)
        self.stop_button.setEnabled(generating)

    def shutdown(self) -> None:
        """Closing: save the panel; a reply being written keeps what it has, marked stopped."""
        self.keeper.save()
        for timer in (self._render_timer, self._count_timer, self.keeper.timer):
            timer.stop()
        for handle, turn in self._turns.items():
            turn.abandon()
            handle.cancel()
        if self.turn is not None:
            self.turn.abandon()  # (its tools were running: it has no handle any more)
        self._turns.clear()
        self.turn = self.handle = None

    @Slot(str)
    def _on_welcome_suggestion_chosen(self, text: str) -> None:
        """Start the message with the suggestion's words; the user adds the rest."""
        self.composer.setPlainText(text)
        self.composer.moveCursor(self.composer.textCursor().MoveOperation.End)
        self.composer.setFocus()

    # ---- the actions on each message ----

    @Slot(object)
    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not do that"))
    def _on_chat_view_action_requested(self, request: MessageRequest) -> None:
        if request.action.changes_the_chat and self.generating:
            self.reporter.show(self.tr("Wait for the reply to finish, or stop it first."), 3000)
            return
        self._handlers[request.action](request)

    def _copy(self, request: MessageRequest) -> None:
        text = self.store.conversations.message(request.message_id).content
        if request.action is MessageAction.COPY_CODE:
            blocks = code_blocks(text)
            text = blocks[request.block] if request.block is not None and request.block < len(blocks) else ""
        QGuiApplication.clipboard().setText(text)
        self.reporter.show(self.tr("Copied."), 2000)

    def _to_draft(self, request: MessageRequest) -> None:
        self.to_draft_requested.emit(self.store.conversations.message(request.message_id).content)

    def _show_version(self, request: MessageRequest) -> None:
        self.store.conversations.switch_branch(request.message_id)
        self.show_branch()

    def _delete_message(self, request: MessageRequest) -> None:
        self.store.conversations.delete_message(request.message_id)
        self.show_branch()

    def _regenerate(self, request: MessageRequest) -> None:
        turn = self.session.regenerate(request.message_id, self._model())
        self.show_branch(self.store.conversations.message(request.message_id).parent_id)
        self._start(turn)

    def _show_source(self, request: MessageRequest) -> None:
        for number, passage, _cited in self.store.documents.sources(request.message_id):
            if number == request.block:
                show_passage(self, number, passage)

    def _edit(self, request: MessageRequest) -> None:
        model = self._model()
        old = self.store.conversations.message(request.message_id).content
        text, accepted = self.ask_for_text(self.tr("Edit message"), old)
        if not accepted:
            return
        turn = self.session.edit(request.message_id, text, model)
        if turn is not None:
            self.show_branch()
            self._start(turn)

    def ask_for_text(self, title: str, text: str) -> tuple[str, bool]:
        """A dialog to edit a message (tests replace it)."""
        return QInputDialog.getMultiLineText(
            self, title, self.tr("Your message (a new version is kept beside the old one):"), text
        )

    # ---- length and context ----

    def _show_context_used(self) -> None:
        self.length_meter.set_context_used(self._context_used)

    @Slot()
    def update_token_count(self) -> None:
        self.length_meter.update(self.composer.toPlainText())
