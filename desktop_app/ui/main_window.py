"""Inkwell's main window: conversations on the left, the chat on the right."""

from __future__ import annotations

import logging

from PySide6.QtCore import QPoint, QSettings, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.chat import ChatMessage
from desktop_app.core.errors import UserError
from desktop_app.core.generation import GenerationSettings
from desktop_app.engine import Finished, GenerationRequest
from desktop_app.store import Store
from desktop_app.store.conversations import StreamingReply
from desktop_app.ui.chat_view import Branches, ChatView
from desktop_app.ui.composer import ComposerWidget
from desktop_app.ui.worker import EngineInfo, GenerationController

log = logging.getLogger(__name__)

# The view is re-rendered at most this often while tokens arrive (20 per second).
RENDER_INTERVAL_MS = 50


class MainWindow(QMainWindow):
    reply_finished = Signal(str)  # message id: the reply is complete and saved
    model_ready = Signal()  # emitted on the GUI thread once the window knows the model
    model_unavailable = Signal(str)

    def __init__(self, store: Store, controller: GenerationController, qsettings: QSettings | None = None) -> None:
        super().__init__()
        self.store = store
        self.controller = controller
        self.qsettings = qsettings
        self.engine_info: EngineInfo | None = None
        self.conversation_id: str | None = None
        self._request_id: int | None = None
        self._reply: StreamingReply | None = None
        self._render_timer = QTimer(self)
        self._render_timer.setInterval(RENDER_INTERVAL_MS)
        self._render_timer.setSingleShot(True)
        self._build()
        self._connect_signals()
        self.refresh_sidebar()
        self._set_generating(False)

    # ---- construction ----

    def _build(self) -> None:
        self.setWindowTitle("Inkwell")
        self.resize(1100, 760)
        self.new_button = QPushButton("New chat")
        self.new_button.setAccessibleName("New chat")
        self.search_box = QLineEdit()
        self.search_box.setPlaceholderText("Search chats and drafts (Ctrl+K)")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setAccessibleName("Search")
        self.sidebar = QListWidget()
        self.sidebar.setAccessibleName("Conversations")
        self.sidebar.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.sidebar.setWordWrap(True)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.new_button)
        left_layout.addWidget(self.search_box)
        left_layout.addWidget(self.sidebar)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(200)

        self.chat_view = ChatView()
        self.composer = ComposerWidget()
        self.send_button = QPushButton("Send")
        self.stop_button = QPushButton("Stop")
        self.send_button.setAccessibleName("Send")
        self.stop_button.setAccessibleName("Stop")
        buttons = QVBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.composer, 1)
        bottom.addLayout(buttons)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.addWidget(self.chat_view, 1)
        right_layout.addLayout(bottom)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 840])
        self.setCentralWidget(self.splitter)

        self.model_label = QLabel("Loading the model…")
        self.speed_label = QLabel("")
        self.statusBar().addWidget(self.model_label, 1)
        self.statusBar().addPermanentWidget(self.speed_label)

        self.new_action = QAction("New chat", self)
        self.new_action.setShortcut(QKeySequence.StandardKey.New)
        self.search_action = QAction("Search", self)
        self.search_action.setShortcuts([QKeySequence("Ctrl+K"), QKeySequence.StandardKey.Find])
        self.rename_action = QAction("Rename", self.sidebar)
        self.rename_action.setShortcut(QKeySequence(Qt.Key.Key_F2))
        self.rename_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.delete_action = QAction("Delete", self.sidebar)
        self.delete_action.setShortcut(QKeySequence.StandardKey.Delete)
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.pin_action = QAction("Pin", self.sidebar)
        self.archive_action = QAction("Archive", self.sidebar)
        self.addActions([self.new_action, self.search_action])
        self.sidebar.addActions([self.rename_action, self.delete_action])
        self.undo_button = QPushButton("Undo")
        self.undo_button.setAccessibleName("Undo delete")
        self.undo_button.hide()
        self.statusBar().addPermanentWidget(self.undo_button)
        self._undo_timer = QTimer(self)
        self._undo_timer.setSingleShot(True)
        self._undo_timer.setInterval(10_000)
        self._deleted_id: str | None = None
        if self.qsettings is not None:
            geometry = self.qsettings.value("window/geometry")
            if geometry is not None:
                self.restoreGeometry(geometry)
            splitter = self.qsettings.value("window/splitter")
            if splitter is not None:
                self.splitter.restoreState(splitter)

    def _connect_signals(self) -> None:
        worker = self.controller.worker
        worker.model_loaded.connect(self._on_worker_model_loaded)
        worker.model_failed.connect(self._on_worker_model_failed)
        worker.token_generated.connect(self._on_worker_token_generated)
        worker.generation_finished.connect(self._on_worker_generation_finished)
        worker.generation_failed.connect(self._on_worker_generation_failed)
        self.new_button.clicked.connect(self.new_chat)
        self.new_action.triggered.connect(self.new_chat)
        self.sidebar.currentItemChanged.connect(self._on_sidebar_current_changed)
        self.send_button.clicked.connect(self.send)
        self.stop_button.clicked.connect(self.stop)
        self.composer.send_requested.connect(self.send)
        self.composer.stop_requested.connect(self.stop)
        self._render_timer.timeout.connect(self._render_stream)
        self.chat_view.action_requested.connect(self._on_chat_view_action_requested)
        self.search_action.triggered.connect(self._on_search_action_triggered)
        self.search_box.textChanged.connect(self._search_timer.start)
        self._search_timer.timeout.connect(self.refresh_sidebar)
        self.sidebar.customContextMenuRequested.connect(self._on_sidebar_context_menu)
        self.sidebar.itemChanged.connect(self._on_sidebar_item_changed)
        self.rename_action.triggered.connect(self.rename_current)
        self.delete_action.triggered.connect(self.delete_current)
        self.pin_action.triggered.connect(self.toggle_pin_current)
        self.archive_action.triggered.connect(self.archive_current)
        self.undo_button.clicked.connect(self.undo_delete)
        self._undo_timer.timeout.connect(self.undo_button.hide)

    # ---- sidebar ----

    def refresh_sidebar(self) -> None:
        """The conversations, or the search results while the search box has text."""
        self.sidebar.blockSignals(True)
        self.sidebar.clear()
        query = self.search_box.text().strip()
        if query:
            for hit in self.store.search.search(query):
                if hit.conversation_id is None:
                    continue  # drafts open in the writing mode, which is not here yet
                snippet = hit.plain_snippet("", "")
                item = QListWidgetItem(f"{hit.title or 'New chat'}\n   {snippet}")
                item.setData(Qt.ItemDataRole.UserRole, hit.conversation_id)
                item.setData(Qt.ItemDataRole.UserRole + 1, hit.message_id)
                item.setToolTip(snippet)
                self.sidebar.addItem(item)
        else:
            for conversation in self.store.conversations.all(limit=500):
                item = QListWidgetItem(("📌 " if conversation.pinned else "") + (conversation.title or "New chat"))
                item.setData(Qt.ItemDataRole.UserRole, conversation.id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                self.sidebar.addItem(item)
                if conversation.id == self.conversation_id:
                    self.sidebar.setCurrentItem(item)
        self.sidebar.blockSignals(False)

    def _current_conversation(self) -> str | None:
        item = self.sidebar.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    @Slot()
    def _on_search_action_triggered(self) -> None:
        self.search_box.setFocus()
        self.search_box.selectAll()

    @Slot(QPoint)
    def _on_sidebar_context_menu(self, position: QPoint) -> None:
        item = self.sidebar.itemAt(position)
        if item is None or self.search_box.text().strip():
            return
        self.sidebar.setCurrentItem(item)
        pinned = self.store.conversations.get(item.data(Qt.ItemDataRole.UserRole)).pinned
        self.pin_action.setText("Unpin" if pinned else "Pin")
        menu = QMenu(self.sidebar)
        menu.addActions([self.rename_action, self.pin_action, self.archive_action, self.delete_action])
        menu.exec(self.sidebar.viewport().mapToGlobal(position))

    @Slot()
    def rename_current(self) -> None:
        item = self.sidebar.currentItem()
        if item is not None and not self.search_box.text().strip():
            item.setText(self.store.conversations.get(item.data(Qt.ItemDataRole.UserRole)).title)
            self.sidebar.editItem(item)

    @Slot(QListWidgetItem)
    def _on_sidebar_item_changed(self, item: QListWidgetItem) -> None:
        title = item.text().removeprefix("📌 ").strip()
        conversation_id = item.data(Qt.ItemDataRole.UserRole)
        if title and title != self.store.conversations.get(conversation_id).title:
            self.store.conversations.rename(conversation_id, title)
        self.refresh_sidebar()

    @Slot()
    def toggle_pin_current(self) -> None:
        conversation_id = self._current_conversation()
        if conversation_id is not None:
            pinned = self.store.conversations.get(conversation_id).pinned
            self.store.conversations.set_pinned(conversation_id, not pinned)
            self.refresh_sidebar()

    @Slot()
    def archive_current(self) -> None:
        conversation_id = self._current_conversation()
        if conversation_id is not None:
            self.store.conversations.set_archived(conversation_id, True)
            self._leave_if_open(conversation_id)
            self.statusBar().showMessage("Archived.", 3000)

    @Slot()
    def delete_current(self) -> None:
        """To the trash (kept 30 days), with an Undo button for the next few seconds."""
        conversation_id = self._current_conversation()
        if conversation_id is None or self.search_box.text().strip():
            return
        if self.controller.busy and conversation_id == self.conversation_id:
            self.stop()
        self.store.conversations.delete(conversation_id)
        self._deleted_id = conversation_id
        self._leave_if_open(conversation_id)
        self.statusBar().showMessage("Chat moved to the trash.", 10_000)
        self.undo_button.show()
        self._undo_timer.start()

    @Slot()
    def undo_delete(self) -> None:
        if self._deleted_id is not None:
            self.store.conversations.restore(self._deleted_id)
            self.conversation_id = self._deleted_id
            self._deleted_id = None
            self.undo_button.hide()
            self.statusBar().clearMessage()
            self.refresh_sidebar()
            self.show_branch()

    def _leave_if_open(self, conversation_id: str) -> None:
        if self.conversation_id == conversation_id:
            self.conversation_id = None
            self.chat_view.show_messages([])
        self.refresh_sidebar()

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_sidebar_current_changed(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if current is None:
            return
        self.open_conversation(current.data(Qt.ItemDataRole.UserRole))
        message_id = current.data(Qt.ItemDataRole.UserRole + 1)
        if message_id:  # a search hit: show the branch with that message, scrolled to it
            self.store.conversations.switch_branch(message_id)
            self.show_branch()
            self.chat_view.scroll_to_message(message_id)

    def open_conversation(self, conversation_id: str) -> None:
        if self.controller.busy:
            self.stop()
        self.conversation_id = conversation_id
        self.show_branch()

    def show_branch(self, leaf_id: str | None = None) -> None:
        """Show the current branch (or the one ending at `leaf_id`) with its branch switchers."""
        if self.conversation_id is None:
            self.chat_view.show_messages([])
            return
        everything = self.store.conversations.messages(self.conversation_id)
        by_parent: dict[str | None, list[str]] = {}
        for message in everything:
            by_parent.setdefault(message.parent_id, []).append(message.id)
        branches = {}
        for message in everything:
            siblings = by_parent[message.parent_id]
            i = siblings.index(message.id)
            branches[message.id] = Branches(
                i + 1,
                len(siblings),
                siblings[i - 1] if i > 0 else None,
                siblings[i + 1] if i + 1 < len(siblings) else None,
            )
        self.chat_view.show_messages(self.store.conversations.path(self.conversation_id, leaf_id), branches)

    @Slot()
    def new_chat(self) -> None:
        if self.controller.busy:
            self.stop()
        self.conversation_id = None
        self.sidebar.clearSelection()
        self.chat_view.show_messages([])
        self.composer.setFocus()

    # ---- sending and streaming ----

    def generation_settings(self) -> GenerationSettings:
        data = self.store.settings.get("generation", {})
        try:
            return GenerationSettings.from_dict(data)
        except UserError:
            return GenerationSettings()

    @Slot()
    def send(self) -> None:
        text = self.composer.toPlainText().strip()
        if not text or self.controller.busy:
            return
        if self.engine_info is None:
            self.statusBar().showMessage("The model is still loading; try again in a moment.", 4000)
            return
        settings = self.generation_settings()
        if self.conversation_id is None:
            conversation = self.store.conversations.create(
                model_id=self.engine_info.model_id, settings=settings.to_dict()
            )
            self.conversation_id = conversation.id
        user = self.store.conversations.add_message(self.conversation_id, "user", text)
        self.composer.clear()
        self.show_branch()
        self._start_reply(user.id, settings)

    def _start_reply(self, parent_id: str, settings: GenerationSettings | None = None) -> None:
        """Write a reply under `parent_id` (a user message) from the branch that ends there."""
        assert self.conversation_id is not None and self.engine_info is not None
        settings = settings or self.generation_settings()
        conversation = self.store.conversations.get(self.conversation_id)
        branch = self.store.conversations.path(self.conversation_id, parent_id)
        history = [ChatMessage(m.role, m.content) for m in branch]  # type: ignore[arg-type]
        system = [ChatMessage("system", conversation.system_prompt)] if conversation.system_prompt else []
        self._reply = self.store.conversations.start_reply(
            self.conversation_id,
            parent_id,
            model_id=self.engine_info.model_id,
            provider=self.engine_info.provider.lower(),
            settings=settings.to_dict(),
        )
        self.chat_view.begin_stream()
        self.chat_view.update_stream("")
        self._request_id = self.controller.submit(
            GenerationRequest(messages=tuple(system + history), settings=settings)
        )
        self._set_generating(True)
        self.refresh_sidebar()

    @Slot(str, str)
    def _on_chat_view_action_requested(self, action: str, message_id: str) -> None:
        conversations = self.store.conversations
        try:
            message = conversations.message(message_id)
        except UserError:
            return
        if action == "copy":
            QGuiApplication.clipboard().setText(message.content)
            self.statusBar().showMessage("Copied.", 2000)
            return
        if self.controller.busy or (self.engine_info is None and action in ("edit", "regenerate")):
            self.statusBar().showMessage("Wait for the reply to finish, or stop it first.", 3000)
            return
        if action == "branch":
            conversations.switch_branch(message_id)
            self.show_branch()
        elif action == "delete":
            conversations.delete_message(message_id)
            self.show_branch()
        elif action == "regenerate" and message.parent_id is not None:
            self.show_branch(message.parent_id)
            self._start_reply(message.parent_id)
        elif action == "edit":
            text, accepted = self.ask_for_text("Edit message", message.content)
            if accepted and text.strip() and text.strip() != message.content:
                edited = conversations.edit_message(message_id, text.strip())
                self.show_branch()
                self._start_reply(edited.id)

    def ask_for_text(self, title: str, text: str) -> tuple[str, bool]:
        """A dialog to edit a message (tests replace it)."""
        return QInputDialog.getMultiLineText(
            self, title, "Your message (a new version is kept beside the old one):", text
        )

    @Slot()
    def stop(self) -> None:
        if self._request_id is not None:
            self.controller.cancel(self._request_id)

    @Slot(int, str)
    def _on_worker_token_generated(self, request_id: int, text: str) -> None:
        if request_id != self._request_id or self._reply is None:
            return
        self._reply.append(text)  # saved at least once a second
        if not self._render_timer.isActive():
            self._render_timer.start()

    @Slot()
    def _render_stream(self) -> None:
        if self._reply is not None:
            self.chat_view.update_stream(self._reply.text)

    @Slot(int, object)
    def _on_worker_generation_finished(self, request_id: int, finished: Finished) -> None:
        if request_id != self._request_id or self._reply is None:
            return
        stats = finished.stats
        message = self._reply.finish_with(stats)
        self._render_timer.stop()
        self.chat_view.end_stream()
        self.show_branch()
        self.speed_label.setText(
            f"{stats.tokens_per_s:.0f} tokens/s · {stats.prompt_tokens + stats.generated_tokens} tokens in context"
        )
        self._finish_request()
        self.reply_finished.emit(message.id)

    @Slot(int, str)
    def _on_worker_generation_failed(self, request_id: int, text: str) -> None:
        if request_id != self._request_id:
            return
        if self._reply is not None:
            self._reply.finish("failed", finish_reason="error")
        self.chat_view.end_stream()
        self._finish_request()
        QMessageBox.warning(self, "Inkwell could not answer", text)

    def _finish_request(self) -> None:
        self._reply = None
        self._request_id = None
        self._set_generating(False)
        self.refresh_sidebar()

    def _set_generating(self, generating: bool) -> None:
        self.send_button.setEnabled(not generating)
        self.stop_button.setEnabled(generating)

    # ---- the model ----

    @Slot(object)
    def _on_worker_model_loaded(self, info: EngineInfo) -> None:
        self.engine_info = info
        self.model_label.setText(f"{info.model_name} ({info.quantization}) on {info.provider}")
        self.model_label.setToolTip(info.provider_reason)
        self.model_ready.emit()

    @Slot(str)
    def _on_worker_model_failed(self, text: str) -> None:
        self.model_label.setText("No model loaded")
        self.model_unavailable.emit(text)
        QMessageBox.critical(self, "The model could not be loaded", text)

    @Slot(str)
    def show_database_damage(self, text: str) -> None:
        QMessageBox.warning(
            self,
            "Your database is damaged",
            f"{text}\n\nExport what you need now (inkwell export --all), then quit and run "
            "`inkwell database set-aside` to start a new database; the old file is kept.",
        )

    # ---- closing ----

    def closeEvent(self, event: QCloseEvent) -> None:
        if self._reply is not None:  # quitting mid-reply: keep what was written
            self._reply.finish("cancelled", finish_reason="cancelled")
            self._reply = None
        self.controller.shutdown()
        if self.qsettings is not None:
            self.qsettings.setValue("window/geometry", self.saveGeometry())
            self.qsettings.setValue("window/splitter", self.splitter.saveState())
        super().closeEvent(event)
