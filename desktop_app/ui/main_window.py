"""Inkwell's main window: conversations on the left, the chat on the right."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import QPoint, QSettings, Qt, QTimer, QUrl, Signal, Slot
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.chat import ChatMessage
from desktop_app.core.errors import UserError
from desktop_app.core.generation import GenerationSettings
from desktop_app.core.presets import DraftTemplate, Preset
from desktop_app.engine import Finished, GenerationRequest
from desktop_app.store import Store
from desktop_app.store.conversations import StreamingReply
from desktop_app.transcripts import CONVERSATION_FORMATS
from desktop_app.transcripts.export import conversations_bytes, write_atomically
from desktop_app.transcripts.render import code_blocks
from desktop_app.ui.chat_view import Branches, ChatView
from desktop_app.ui.composer import ComposerWidget
from desktop_app.ui.first_run import FirstRunDialog, Prepare
from desktop_app.ui.settings_dialog import AppSettings, ModelChoice, SettingsDialog
from desktop_app.ui.settings_pane import ConversationSettingsPane
from desktop_app.ui.sidebar import CONVERSATION_ROLE, MESSAGE_ROLE, ConversationListWidget
from desktop_app.ui.theme import apply_appearance
from desktop_app.ui.worker import EngineInfo, GenerationController
from desktop_app.ui.writing_view import WritingPane

log = logging.getLogger(__name__)

# The view is re-rendered at most this often while tokens arrive (20 per second).
RENDER_INTERVAL_MS = 50
# Counting a very long paste's tokens exactly would hold up typing; above this, estimate.
EXACT_COUNT_MAX_CHARS = 200_000

EXPORT_FILTERS = {
    "md": "Markdown (*.md)",
    "txt": "Plain text (*.txt)",
    "html": "Web page (*.html)",
    "pdf": "PDF (*.pdf)",
    "json": "Inkwell transcript, for import (*.json)",
}
assert set(EXPORT_FILTERS) == set(CONVERSATION_FORMATS)

F = TypeVar("F", bound=Callable[..., Any])


def reports_problems(title: str) -> Callable[[F], F]:
    """Show a UserError as a message with its hint, and a bug as "something went wrong"
    (logged with its traceback): a slot never fails silently or with a traceback."""

    def decorate(method: F) -> F:
        @functools.wraps(method)
        def run(self: MainWindow, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except UserError as exc:
                self.show_problem(title, str(exc))
            except Exception:
                log.exception(title)
                self.show_problem(title, f"Something unexpected went wrong. {self.services.log_hint}")
            return None

        return run  # type: ignore[return-value]

    return decorate


def branch_place(siblings: list[str], message_id: str) -> Branches | None:
    """Where a message stands among its alternatives, or None when it has none."""
    if len(siblings) < 2:
        return None
    i = siblings.index(message_id)
    return Branches(
        i + 1, len(siblings), siblings[i - 1] if i > 0 else None, siblings[i + 1] if i + 1 < len(siblings) else None
    )


@dataclass
class WindowServices:
    """What the window needs from the rest of the app, passed in by the composition root."""

    presets: tuple[Preset, ...] = ()
    templates: tuple[DraftTemplate, ...] = ()
    list_models: Callable[[], list[ModelChoice]] = list
    # (model id, "" for the default; provider) -> a loader for the worker thread
    engine_factory: Callable[[str, str], Callable[[], Any]] | None = None
    prepare_default_model: Prepare | None = None
    data_folder: Path = field(default_factory=Path.home)
    log_hint: str = "Details are in the log."


class MainWindow(QMainWindow):
    reply_finished = Signal(str)  # message id: the reply is complete and saved
    model_ready = Signal()  # emitted on the GUI thread once the window knows the model
    model_unavailable = Signal(str)
    problem_shown = Signal(str, str)  # title, text

    def __init__(
        self,
        store: Store,
        controller: GenerationController,
        qsettings: QSettings | None = None,
        services: WindowServices | None = None,
    ) -> None:
        super().__init__()
        self.store = store
        self.controller = controller
        self.qsettings = qsettings
        self.services = services or WindowServices()
        self.engine_info: EngineInfo | None = None
        self.conversation_id: str | None = None
        self.problem_box: QMessageBox | None = None
        self.first_run_dialog: FirstRunDialog | None = None
        self._request_id: int | None = None
        self._reply: StreamingReply | None = None
        self._context_used = 0
        self._render_timer = self._timer(RENDER_INTERVAL_MS)
        self._search_timer = self._timer(200)
        self._count_timer = self._timer(250)
        self._pane_save_timer = self._timer(400)
        self._undo_timer = self._timer(10_000)
        self._undo: Callable[[], None] | None = None
        self._pane_dirty = False
        self._dock_was_visible = False
        self._build()
        self._build_menus()
        self._connect_signals()
        self._restore_window_state()
        self.refresh_sidebar()
        self._load_pane()
        self._set_generating(False)

    def _timer(self, interval_ms: int) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(interval_ms)
        return timer

    # ---- construction ----

    def _build(self) -> None:
        self.setWindowTitle("Inkwell")
        self.resize(1100, 760)
        self.new_button = QPushButton("New chat")
        self.new_button.setAccessibleName("New chat")
        self.new_button.setToolTip("New chat (Ctrl+N)")
        self.search_box = QLineEdit()
        self.search_box.setPlaceholderText("Search chats (Ctrl+K)")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setAccessibleName("Search chats")
        self.sidebar = ConversationListWidget()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.addWidget(self.new_button)
        left_layout.addWidget(self.search_box)
        left_layout.addWidget(self.sidebar)

        self.chat_view = ChatView()
        self.composer = ComposerWidget()
        self.token_label = QLabel("")
        self.token_label.setAccessibleName("Message length")
        self.send_button = QPushButton("Send")
        self.stop_button = QPushButton("Stop")
        self.send_button.setAccessibleName("Send")
        self.stop_button.setAccessibleName("Stop")
        self.send_button.setToolTip("Send (Enter)")
        self.stop_button.setToolTip("Stop the reply (Esc)")
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
        right_layout.addWidget(self.token_label)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 840])
        self.writing_pane = WritingPane(
            self.store,
            self.controller,
            self.services.templates,
            self.show_problem,
            self.statusBar().showMessage,
            self.offer_undo,
            lambda: self.engine_info,
        )
        self.modes = QStackedWidget()
        self.modes.addWidget(self.splitter)
        self.modes.addWidget(self.writing_pane)
        self.setCentralWidget(self.modes)

        self.settings_pane = ConversationSettingsPane(self.services.presets)
        self.settings_dock = QDockWidget("Chat settings", self)
        self.settings_dock.setObjectName("chat-settings")
        self.settings_dock.setWidget(self.settings_pane)
        self.settings_dock.setAllowedAreas(Qt.DockWidgetArea.LeftDockWidgetArea | Qt.DockWidgetArea.RightDockWidgetArea)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.settings_dock)
        self.settings_dock.hide()

        self.model_label = QLabel("Loading the model…")
        self.speed_label = QLabel("")
        self.context_meter = QProgressBar()
        self.context_meter.setAccessibleName("Context used")
        self.context_meter.setMaximumWidth(140)
        self.context_meter.setFormat("context %p%")
        self.context_meter.setRange(0, 1)
        self.context_meter.setValue(0)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setAccessibleName("Undo delete")
        self.undo_button.hide()
        status = self.statusBar()
        status.addWidget(self.model_label, 1)
        status.addPermanentWidget(self.undo_button)
        status.addPermanentWidget(self.speed_label)
        status.addPermanentWidget(self.context_meter)

    def _action(self, text: str, shortcut: Any = None, parent: QWidget | None = None) -> QAction:
        action = QAction(text, parent or self)
        if shortcut is not None:
            action.setShortcuts(shortcut if isinstance(shortcut, list) else [QKeySequence(shortcut)])
        return action

    def _build_menus(self) -> None:
        self.new_action = self._action("&New chat", QKeySequence.StandardKey.New)
        self.import_action = self._action("&Import chats…", "Ctrl+I")
        self.export_action = self._action("&Export chat…", "Ctrl+E")
        self.export_all_action = self._action("Export &all chats…", "Ctrl+Shift+E")
        self.settings_action = self._action(
            "&Settings…", [QKeySequence("Ctrl+,"), QKeySequence.StandardKey.Preferences]
        )
        self.settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        self.quit_action = self._action("&Quit", QKeySequence.StandardKey.Quit)
        self.search_action = self._action(
            "&Search", [QKeySequence("Ctrl+K"), QKeySequence(QKeySequence.StandardKey.Find)]
        )
        self.next_action = self._action("Next chat", "Ctrl+PgDown")
        self.previous_action = self._action("Previous chat", "Ctrl+PgUp")
        self.pane_action = self.settings_dock.toggleViewAction()
        self.pane_action.setText("Chat settings &panel")
        self.pane_action.setShortcut(QKeySequence("F9"))
        self.prepare_action = self._action("&Prepare the default model…")
        self.data_folder_action = self._action("Open the &data folder")
        self.shortcuts_action = self._action("&Keyboard shortcuts", QKeySequence.StandardKey.HelpContents)
        self.about_action = self._action("&About Inkwell")
        self.chat_mode_action = self._action("&Chat", "Ctrl+1")
        self.writing_mode_action = self._action("&Writing", "Ctrl+2")
        for action in (self.chat_mode_action, self.writing_mode_action):
            action.setCheckable(True)
        self.chat_mode_action.setChecked(True)
        mode_bar = QToolBar("Mode")
        mode_bar.setObjectName("mode-bar")
        mode_bar.setMovable(False)
        mode_bar.addActions([self.chat_mode_action, self.writing_mode_action])
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, mode_bar)

        self.rename_action = self._action("Rename", Qt.Key.Key_F2, self.sidebar)
        self.rename_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.delete_action = self._action("Delete", QKeySequence.StandardKey.Delete, self.sidebar)
        self.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.pin_action = self._action("Pin", None, self.sidebar)
        self.archive_action = self._action("Archive", None, self.sidebar)
        self.sidebar.addActions([self.rename_action, self.delete_action])

        menus = self.menuBar()
        file_menu = menus.addMenu("&File")
        file_menu.addActions([self.new_action, self.import_action, self.export_action, self.export_all_action])
        file_menu.addSeparator()
        file_menu.addAction(self.settings_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        chat_menu = menus.addMenu("&Chat")
        chat_menu.addActions([self.search_action, self.next_action, self.previous_action])
        chat_menu.addSeparator()
        chat_menu.addActions([self.rename_action, self.pin_action, self.archive_action, self.delete_action])
        view_menu = menus.addMenu("&View")
        view_menu.addActions([self.chat_mode_action, self.writing_mode_action])
        view_menu.addSeparator()
        view_menu.addAction(self.pane_action)
        model_menu = menus.addMenu("&Model")
        model_menu.addAction(self.prepare_action)
        help_menu = menus.addMenu("&Help")
        help_menu.addActions([self.shortcuts_action, self.data_folder_action, self.about_action])
        # Window-wide shortcuts work even when the menu bar is hidden (some desktops do).
        self.addActions(
            [
                self.new_action,
                self.search_action,
                self.next_action,
                self.previous_action,
                self.chat_mode_action,
                self.writing_mode_action,
            ]
        )

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
        self.sidebar.itemActivated.connect(self._on_sidebar_item_activated)
        self.send_button.clicked.connect(self.send)
        self.stop_button.clicked.connect(self.stop)
        self.composer.send_requested.connect(self.send)
        self.composer.stop_requested.connect(self.stop)
        self.composer.textChanged.connect(self._count_timer.start)
        self._count_timer.timeout.connect(self.update_token_count)
        self._render_timer.timeout.connect(self._render_stream)
        self.chat_view.action_requested.connect(self._on_chat_view_action_requested)
        self.search_action.triggered.connect(self._on_search_action_triggered)
        self.search_box.textChanged.connect(self._search_timer.start)
        self.search_box.returnPressed.connect(self._on_search_box_return_pressed)
        self._search_timer.timeout.connect(self.refresh_sidebar)
        self.sidebar.customContextMenuRequested.connect(self._on_sidebar_context_menu)
        self.sidebar.itemChanged.connect(self._on_sidebar_item_changed)
        self.rename_action.triggered.connect(self.rename_current)
        self.delete_action.triggered.connect(self.delete_current)
        self.pin_action.triggered.connect(self.toggle_pin_current)
        self.archive_action.triggered.connect(self.archive_current)
        self.next_action.triggered.connect(lambda: self.sidebar.step(1))
        self.previous_action.triggered.connect(lambda: self.sidebar.step(-1))
        self.undo_button.clicked.connect(self.undo_delete)
        self._undo_timer.timeout.connect(self.undo_button.hide)
        self.settings_pane.changed.connect(self._on_settings_pane_changed)
        self.settings_pane.save_as_default_requested.connect(self._on_settings_pane_save_as_default)
        self._pane_save_timer.timeout.connect(self.save_pane)
        self.import_action.triggered.connect(self.import_chats)
        self.export_action.triggered.connect(self.export_chats)
        self.export_all_action.triggered.connect(self.export_all_chats)
        self.settings_action.triggered.connect(self.open_settings)
        self.quit_action.triggered.connect(self.close)
        self.prepare_action.triggered.connect(self.offer_model_preparation)
        self.data_folder_action.triggered.connect(self._on_data_folder_action_triggered)
        self.shortcuts_action.triggered.connect(self._on_shortcuts_action_triggered)
        self.about_action.triggered.connect(self._on_about_action_triggered)
        self.chat_mode_action.triggered.connect(self.show_chat_mode)
        self.writing_mode_action.triggered.connect(self.show_writing_mode)
        self.writing_pane.discuss_requested.connect(self._on_writing_pane_discuss_requested)

    def _restore_window_state(self) -> None:
        if self.qsettings is None:
            return
        geometry = self.qsettings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        splitter = self.qsettings.value("window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        state = self.qsettings.value("window/state")
        if state is not None:
            self.restoreState(state)

    # ---- problems ----

    def show_problem(self, title: str, text: str) -> None:
        """A readable message, never a traceback; non-blocking so streaming goes on."""
        log.warning("%s: %s", title, text)
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok, self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.problem_box = box
        self.problem_shown.emit(title, text)

    # ---- start-up and the model ----

    def start(self) -> None:
        """Load the model on the worker thread, or, when none is prepared, offer to prepare it."""
        if not self.services.list_models() and self.services.prepare_default_model is not None:
            self.model_label.setText("No model prepared")
            self.offer_model_preparation()
        else:
            self.controller.start()

    @Slot()
    def offer_model_preparation(self) -> None:
        if self.services.prepare_default_model is None:
            self.show_problem("Preparing models", "This build of Inkwell cannot prepare models.")
            return
        dialog = FirstRunDialog(self.services.prepare_default_model, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._on_first_run_dialog_accepted)
        dialog.finished.connect(self._on_first_run_dialog_finished)
        self.first_run_dialog = dialog
        dialog.open()

    @Slot(int)
    def _on_first_run_dialog_finished(self, _result: int) -> None:
        self.first_run_dialog = None

    @Slot()
    def _on_first_run_dialog_accepted(self) -> None:
        self.statusBar().showMessage("The model is ready.", 5000)
        self.reload_model()

    def reload_model(self) -> None:
        if self.services.engine_factory is None:
            self.controller.reload()
        else:
            chosen = AppSettings.load(self.store)
            self.controller.reload(self.services.engine_factory(chosen.model, chosen.provider))
        self.engine_info = None
        self.model_label.setText("Loading the model…")

    @Slot(object)
    def _on_worker_model_loaded(self, info: EngineInfo) -> None:
        self.engine_info = info
        text = f"{info.model_name} ({info.quantization}) on {info.provider}"
        if info.gpu_idle:  # say it plainly: a GPU owner expects it to be used
            text += " · your NVIDIA GPU is not used (hover for why)"
            self.statusBar().showMessage(f"Your NVIDIA GPU is not used: {info.provider_reason}", 15_000)
        self.model_label.setText(text)
        self.model_label.setToolTip(info.provider_reason)
        self.context_meter.setRange(0, info.context_length)
        self._show_context_used()
        self.update_token_count()
        self.model_ready.emit()

    @Slot(str)
    def _on_worker_model_failed(self, text: str) -> None:
        self.model_label.setText("No model loaded")
        self.model_unavailable.emit(text)
        self.show_problem(
            "The model could not be loaded",
            f"{text}\n\nChoose another model or run on the CPU in Settings (Ctrl+,).",
        )

    @Slot(str)
    def show_database_damage(self, text: str) -> None:
        self.show_problem(
            "Your database is damaged",
            f"{text}\n\nExport what you need now (File › Export all chats), then quit and run "
            "`inkwell database set-aside` to start a new database; the old file is kept.",
        )

    # ---- sidebar ----

    def refresh_sidebar(self) -> None:
        """The conversations by date, or the search results while the search box has text."""
        query = self.search_box.text().strip()
        if query:
            try:
                hits = self.store.search.search(query)
            except UserError as exc:
                self.statusBar().showMessage(str(exc), 4000)
                hits = []
            self.sidebar.show_hits(hits)
        else:
            self.sidebar.show_conversations(
                self.store.conversations.all(limit=2000), self.conversation_id, date.today()
            )

    def _current_conversation(self) -> str | None:
        item = self.sidebar.currentItem()
        return item.data(CONVERSATION_ROLE) if item is not None else None

    @Slot()
    def _on_search_action_triggered(self) -> None:
        self.search_box.setFocus()
        self.search_box.selectAll()

    @Slot()
    def _on_search_box_return_pressed(self) -> None:
        self._search_timer.stop()
        self.refresh_sidebar()
        self.sidebar.setFocus()
        self.sidebar.step(1)

    @Slot(QPoint)
    def _on_sidebar_context_menu(self, position: QPoint) -> None:
        item = self.sidebar.itemAt(position)
        if item is None or not item.data(CONVERSATION_ROLE) or self.search_box.text().strip():
            return
        self.sidebar.setCurrentItem(item)
        pinned = self.store.conversations.get(item.data(CONVERSATION_ROLE)).pinned
        self.pin_action.setText("Unpin" if pinned else "Pin")
        menu = QMenu(self.sidebar)
        menu.addActions([self.rename_action, self.pin_action, self.archive_action])
        menu.addSeparator()
        menu.addActions([self.export_action, self.delete_action])
        menu.exec(self.sidebar.viewport().mapToGlobal(position))

    @Slot()
    def rename_current(self) -> None:
        item = self.sidebar.currentItem()
        if item is not None and item.data(CONVERSATION_ROLE) and not self.search_box.text().strip():
            item.setText(self.store.conversations.get(item.data(CONVERSATION_ROLE)).title)
            self.sidebar.editItem(item)

    @Slot(QListWidgetItem)
    @reports_problems("Could not rename the chat")
    def _on_sidebar_item_changed(self, item: QListWidgetItem) -> None:
        title = item.text().removeprefix("📌 ").strip()
        conversation_id = item.data(CONVERSATION_ROLE)
        if title and title != self.store.conversations.get(conversation_id).title:
            self.store.conversations.rename(conversation_id, title)
        QTimer.singleShot(0, self.refresh_sidebar)  # not while the list is still in its edit

    @Slot()
    @reports_problems("Could not pin the chat")
    def toggle_pin_current(self) -> None:
        conversation_id = self._current_conversation()
        if conversation_id is not None:
            pinned = self.store.conversations.get(conversation_id).pinned
            self.store.conversations.set_pinned(conversation_id, not pinned)
            self.refresh_sidebar()

    @Slot()
    @reports_problems("Could not archive the chat")
    def archive_current(self) -> None:
        conversation_id = self._current_conversation()
        if conversation_id is not None:
            self.store.conversations.set_archived(conversation_id, True)
            self._leave_if_open(conversation_id)
            self.statusBar().showMessage("Archived.", 3000)

    @Slot()
    @reports_problems("Could not delete the chat")
    def delete_current(self) -> None:
        """To the trash (kept 30 days), with an Undo button for the next few seconds."""
        conversation_id = self._current_conversation()
        if conversation_id is None or self.search_box.text().strip():
            return
        if self.controller.busy and conversation_id == self.conversation_id:
            self.stop()
        self.store.conversations.delete(conversation_id)
        self._leave_if_open(conversation_id)
        self.offer_undo("Chat moved to the trash.", lambda: self._restore_chat(conversation_id))

    def offer_undo(self, message: str, undo: Callable[[], None]) -> None:
        """A message with an Undo button in the status bar for the next ten seconds."""
        self._undo = undo
        self.statusBar().showMessage(message, 10_000)
        self.undo_button.show()
        self._undo_timer.start()

    @Slot()
    @reports_problems("Could not undo")
    def undo_delete(self) -> None:
        undo, self._undo = self._undo, None
        self.undo_button.hide()
        self.statusBar().clearMessage()
        if undo is not None:
            undo()

    def _restore_chat(self, conversation_id: str) -> None:
        self.store.conversations.restore(conversation_id)
        self.conversation_id = conversation_id
        self.refresh_sidebar()
        self.show_branch()
        self._load_pane()

    def _leave_if_open(self, conversation_id: str) -> None:
        if self.conversation_id == conversation_id:
            self.conversation_id = None
            self.chat_view.show_messages([])
            self._load_pane()
        self.refresh_sidebar()

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_sidebar_current_changed(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if current is None or not current.data(CONVERSATION_ROLE):
            return
        message_id = current.data(MESSAGE_ROLE)
        if message_id:  # a search hit: show the branch with that message, scrolled to it
            self.open_conversation(current.data(CONVERSATION_ROLE), switch_to=message_id)
        else:
            self.open_conversation(current.data(CONVERSATION_ROLE))

    @Slot(QListWidgetItem)
    def _on_sidebar_item_activated(self, item: QListWidgetItem) -> None:
        if item.data(CONVERSATION_ROLE):
            self.composer.setFocus()

    @reports_problems("Could not open the chat")
    def open_conversation(self, conversation_id: str, switch_to: str | None = None) -> None:
        if self.controller.busy:
            self.stop()
        self.save_pane()
        self.conversation_id = conversation_id
        if switch_to is not None:
            self.store.conversations.switch_branch(switch_to)
        self.show_branch(include=switch_to)
        if switch_to is not None:
            self.chat_view.scroll_to_message(switch_to)
        self._load_pane()

    def show_branch(self, leaf_id: str | None = None, include: str | None = None) -> None:
        """Show the current branch (or the one ending at `leaf_id`) with its branch switchers."""
        if self.conversation_id is None:
            self.chat_view.show_messages([])
            self._context_used = 0
            self._show_context_used()
            return
        everything = self.store.conversations.messages(self.conversation_id)
        by_parent: dict[str | None, list[str]] = {}
        for message in everything:
            by_parent.setdefault(message.parent_id, []).append(message.id)
        branches = {}
        for message in everything:
            place = branch_place(by_parent[message.parent_id], message.id)
            if place is not None:
                branches[message.id] = place
        path = self.store.conversations.path(self.conversation_id, leaf_id)
        self.chat_view.show_messages(path, branches, include)
        last = next((m for m in reversed(path) if m.role == "assistant" and m.prompt_tokens is not None), None)
        self._context_used = (last.prompt_tokens or 0) + (last.generated_tokens or 0) if last else 0
        self._show_context_used()

    def _branches_of(self, message_id: str) -> Branches | None:
        return branch_place([m.id for m in self.store.conversations.siblings(message_id)], message_id)

    @Slot()
    def new_chat(self) -> None:
        if self.controller.busy:
            self.stop()
        self.save_pane()
        self.conversation_id = None
        self.sidebar.clearSelection()
        self.sidebar.setCurrentRow(-1)
        self.show_branch()
        self._load_pane()
        self.composer.setFocus()

    # ---- the per-chat settings panel ----

    def default_settings(self) -> GenerationSettings:
        return AppSettings.load(self.store).generation

    def settings_for(self, stored: dict[str, Any]) -> GenerationSettings:
        """A chat's stored settings over today's defaults (keys it lacks come from them)."""
        try:
            return GenerationSettings.from_dict(self.default_settings().to_dict() | stored)
        except (UserError, TypeError, ValueError):
            return self.default_settings()

    def _load_pane(self) -> None:
        self._pane_save_timer.stop()
        self._pane_dirty = False
        if self.conversation_id is None:
            self.settings_pane.load("", self.default_settings())
        else:
            conversation = self.store.conversations.get(self.conversation_id)
            self.settings_pane.load(conversation.system_prompt, self.settings_for(conversation.settings))

    @Slot()
    @reports_problems("Could not save the chat's settings")
    def save_pane(self) -> None:
        """Write the panel's values to the open chat (a new chat gets them when created)."""
        if not self._pane_dirty:
            return
        self._pane_dirty = False
        self._pane_save_timer.stop()
        if self.conversation_id is not None:
            self.store.conversations.configure(
                self.conversation_id,
                system_prompt=self.settings_pane.system_prompt_text(),
                settings=self.settings_pane.generation_settings().to_dict(),
            )

    @Slot()
    def _on_settings_pane_changed(self) -> None:
        self._pane_dirty = True
        self._pane_save_timer.start()
        self.update_token_count()

    @Slot()
    @reports_problems("Could not save the defaults")
    def _on_settings_pane_save_as_default(self) -> None:
        self.store.settings.set("generation", self.settings_pane.generation_settings().to_dict())
        self.statusBar().showMessage("New chats will start with these settings.", 4000)

    # ---- sending and streaming ----

    @Slot()
    @reports_problems("Could not send the message")
    def send(self) -> None:
        text = self.composer.toPlainText().strip()
        if not text or self.controller.busy:
            return
        if self.engine_info is None:
            self.statusBar().showMessage("The model is not loaded yet; try again in a moment.", 4000)
            return
        settings = self.settings_pane.generation_settings()
        if self.conversation_id is None:
            conversation = self.store.conversations.create(
                system_prompt=self.settings_pane.system_prompt_text(),
                model_id=self.engine_info.model_id,
                settings=settings.to_dict(),
            )
            self.conversation_id = conversation.id
        else:
            self.save_pane()
        user = self.store.conversations.add_message(self.conversation_id, "user", text)
        self.composer.clear()
        self.chat_view.append_message(user)  # not a full re-render: long chats stay quick
        self._start_reply(user.id)

    def _start_reply(self, parent_id: str) -> None:
        """Write a reply under `parent_id` (a user message) from the branch that ends there."""
        assert self.conversation_id is not None and self.engine_info is not None
        conversation = self.store.conversations.get(self.conversation_id)
        settings = self.settings_for(conversation.settings)
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
    @reports_problems("Could not do that")
    def _on_chat_view_action_requested(self, action: str, message_id: str) -> None:
        conversations = self.store.conversations
        message_id, _, block = message_id.partition("/")
        try:
            message = conversations.message(message_id)
        except UserError:
            return
        if action in ("copy", "copy-code"):
            text = message.content
            if action == "copy-code":
                blocks = code_blocks(message.content)
                text = blocks[int(block)] if block.isdigit() and int(block) < len(blocks) else ""
            QGuiApplication.clipboard().setText(text)
            self.statusBar().showMessage("Copied.", 2000)
            return
        if action == "to-draft":
            draft_id, accepted = self.ask_for_draft()
            if accepted:
                draft_id = self.writing_pane.append_to_draft(draft_id, message.content)
                title = self.store.drafts.get(draft_id).title
                self.statusBar().showMessage(f"Added to the draft “{title}” (Ctrl+2 opens the writing mode).", 6000)
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
    @reports_problems("Could not save the reply")
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
        try:
            message = self._reply.finish_with(stats)
        except UserError as exc:
            self._finish_request()
            self.show_problem("Could not save the reply", str(exc))
            return
        self._render_timer.stop()
        self.chat_view.end_stream(message, self._branches_of(message.id))
        self._context_used = stats.prompt_tokens + stats.generated_tokens
        self._show_context_used()
        self.speed_label.setText(f"{stats.tokens_per_s:.0f} tokens/s")
        self._finish_request()
        self.reply_finished.emit(message.id)

    @Slot(int, str)
    def _on_worker_generation_failed(self, request_id: int, text: str) -> None:
        if request_id != self._request_id:
            return
        if self._reply is not None:
            # The disk may be full: then the failure below is the news that matters.
            with contextlib.suppress(UserError):
                self._reply.finish("failed", finish_reason="error")
        self.chat_view.end_stream()
        self._finish_request()
        self.show_problem("Inkwell could not answer", text)

    def _finish_request(self) -> None:
        self._reply = None
        self._request_id = None
        self._set_generating(False)
        self.refresh_sidebar()

    def _set_generating(self, generating: bool) -> None:
        self.send_button.setEnabled(not generating)
        self.stop_button.setEnabled(generating)

    # ---- length and context ----

    def _show_context_used(self) -> None:
        if self.engine_info is None:
            return
        length = self.engine_info.context_length
        self.context_meter.setValue(min(self._context_used, length))
        self.context_meter.setToolTip(f"{self._context_used:,} of {length:,} tokens of context used by this chat")

    @Slot()
    def update_token_count(self) -> None:
        """The message's length in tokens against what the context window has left."""
        text = self.composer.toPlainText()
        if not text.strip() or self.engine_info is None:
            self.token_label.setText("")
            return
        about = ""
        if len(text) > EXACT_COUNT_MAX_CHARS:
            count, about = len(text) // 4, "about "
        else:
            count = self.engine_info.count_tokens(text)
        length = self.engine_info.context_length
        budget = length - min(self.settings_pane.generation_settings().max_new_tokens, length // 2)
        summary = f"{about}{count:,} tokens · {self._context_used + count:,} of {length:,} in context"
        if count > budget:
            self.token_label.setText(
                f"<span style='color:#cf222e'>{summary}: too long for this model; "
                "shorten it or split it into parts</span>"
            )
        elif self._context_used + count > budget:
            self.token_label.setText(
                f"<span style='color:#9a6700'>{summary}: the oldest messages will be left out</span>"
            )
        else:
            self.token_label.setText(summary)

    # ---- import and export ----

    def ask_save_path(self, title: str, suggested: str, filters: list[str]) -> tuple[str, str]:
        """A Save dialog: (path, chosen filter), ("", "") when cancelled (tests replace it)."""
        from desktop_app.ui.documents import ask_save_path

        return ask_save_path(self, title, suggested, filters)

    def ask_open_path(self, title: str, filters: list[str]) -> tuple[str, str]:
        return QFileDialog.getOpenFileName(self, title, str(Path.home()), ";;".join(filters))

    @Slot()
    def export_chats(self) -> None:
        """The chats selected in the sidebar, else the open one."""
        ids = self.sidebar.selected_conversation_ids() or ([self.conversation_id] if self.conversation_id else [])
        if not ids:
            self.statusBar().showMessage("Open or select a chat to export.", 4000)
            return
        title = self.store.conversations.get(ids[0]).title if len(ids) == 1 else f"{len(ids)} chats"
        self._export(ids, title or "Chat")

    @Slot()
    def export_all_chats(self) -> None:
        ids = [c.id for c in self.store.conversations.all()] + [
            c.id for c in self.store.conversations.all(archived=True)
        ]
        if not ids:
            self.statusBar().showMessage("There are no chats to export yet.", 4000)
            return
        self._export(ids, "Inkwell chats")

    @reports_problems("Could not export")
    def _export(self, ids: list[str], title: str) -> None:
        from desktop_app.ui.documents import export_target, safe_file_stem, write_rich

        suggested = f"{safe_file_stem(title, 'Chat')}.md"
        path_text, chosen = self.ask_save_path("Export", suggested, list(EXPORT_FILTERS.values()))
        if not path_text:
            return
        path, fmt = export_target(path_text, chosen, EXPORT_FILTERS)
        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            data = conversations_bytes(self.store, ids, fmt, write_rich)
            # The Save dialog has already asked before replacing a file.
            write_atomically(path, data, overwrite=True)
        finally:
            QApplication.restoreOverrideCursor()
        self.statusBar().showMessage(f"Exported {len(ids)} chat{'s' if len(ids) != 1 else ''} to {path}.", 6000)

    @Slot()
    @reports_problems("Could not import")
    def import_chats(self) -> None:
        from desktop_app.transcripts.importing import import_file

        path_text, _ = self.ask_open_path("Import chats", ["Inkwell or ChatGPT export (*.json)", "All files (*)"])
        if not path_text:
            return
        summary = import_file(self.store, Path(path_text))
        self.refresh_sidebar()
        self.statusBar().showMessage(summary.message, 8000)

    # ---- modes ----

    @Slot()
    def show_chat_mode(self) -> None:
        self.writing_pane.save()
        if self.modes.currentWidget() is self.writing_pane and self._dock_was_visible:
            self.settings_dock.show()  # the chat settings belong to the chat mode
        self.modes.setCurrentWidget(self.splitter)
        self.chat_mode_action.setChecked(True)
        self.writing_mode_action.setChecked(False)
        self.composer.setFocus()

    @Slot()
    def show_writing_mode(self) -> None:
        if self.modes.currentWidget() is self.splitter:
            self._dock_was_visible = self.settings_dock.isVisibleTo(self)
            self.settings_dock.hide()
        self.modes.setCurrentWidget(self.writing_pane)
        self.chat_mode_action.setChecked(False)
        self.writing_mode_action.setChecked(True)
        self.writing_pane.refresh_list()
        self.writing_pane.editor.setFocus()

    @Slot(str)
    def _on_writing_pane_discuss_requested(self, text: str) -> None:
        """A new chat with the selection quoted in the message box, ready to ask about."""
        self.show_chat_mode()
        self.new_chat()
        quoted = "\n".join(f"> {line}" for line in text.strip().splitlines())
        self.composer.setPlainText(f"About this passage from my draft:\n\n{quoted}\n\n")
        self.composer.moveCursor(self.composer.textCursor().MoveOperation.End)
        self.composer.setFocus()

    def ask_for_draft(self) -> tuple[str | None, bool]:
        """Which draft gets a chat reply: (draft id or None for a new one, accepted)."""
        drafts = self.store.drafts.all()
        choices = ["A new draft", *[d.title for d in drafts]]
        choice, ok = QInputDialog.getItem(self, "Send to draft", "Add the reply to the end of:", choices, 0, False)
        if not ok:
            return None, False
        index = choices.index(choice)
        return (drafts[index - 1].id if index > 0 else None), True

    # ---- settings and help ----

    @Slot()
    @reports_problems("Could not save the settings")
    def open_settings(self) -> None:
        current = AppSettings.load(self.store)
        dialog = SettingsDialog(current, self.services.list_models(), self.services.data_folder, self)
        if not self.run_dialog(dialog):
            return
        chosen = dialog.chosen()
        chosen.save(self.store)
        app = QApplication.instance()
        if isinstance(app, QApplication) and (chosen.theme, chosen.font_size) != (current.theme, current.font_size):
            apply_appearance(app, chosen.theme, chosen.font_size)
        if (chosen.model, chosen.provider) != (current.model, current.provider):
            if self.controller.busy:
                self.stop()
            self.reload_model()
        if self.conversation_id is None:
            self._load_pane()  # a new chat starts from the new defaults

    def run_dialog(self, dialog: Any) -> bool:
        """Show a modal dialog; True if accepted (tests replace it)."""
        return bool(dialog.exec())

    @Slot()
    def _on_data_folder_action_triggered(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.services.data_folder)))

    @Slot()
    def _on_shortcuts_action_triggered(self) -> None:
        rows = "".join(f"<tr><td><b>{keys}</b></td><td>{what}</td></tr>" for keys, what in SHORTCUTS)
        QMessageBox.information(self, "Keyboard shortcuts", f"<table cellpadding='3'>{rows}</table>")

    @Slot()
    def _on_about_action_triggered(self) -> None:
        from desktop_app import __version__

        QMessageBox.about(
            self,
            "About Inkwell",
            f"<h3>Inkwell {__version__}</h3><p>A private assistant for chat and writing. "
            "The model runs on this computer; nothing you write leaves it.</p>"
            f"<p>Your chats are kept in {self.services.data_folder}.</p>",
        )

    # ---- closing ----

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_pane()
        self.writing_pane.shutdown()
        for timer in self.findChildren(QTimer):  # nothing may touch the store once it closes
            timer.stop()
        if self._reply is not None:  # quitting mid-reply: keep what was written
            try:
                self._reply.finish("cancelled", finish_reason="cancelled")
            except UserError as exc:
                log.error("The partial reply could not be saved: %s", exc)
            self._reply = None
        self.controller.shutdown()
        if self.qsettings is not None:
            self.qsettings.setValue("window/geometry", self.saveGeometry())
            self.qsettings.setValue("window/splitter", self.splitter.saveState())
            self.qsettings.setValue("window/state", self.saveState())
        super().closeEvent(event)


SHORTCUTS = [
    ("Ctrl+N", "New chat"),
    ("Ctrl+K or Ctrl+F", "Search chats"),
    ("Ctrl+PgDown / Ctrl+PgUp", "Next / previous chat"),
    ("↑ ↓ in the list, Enter", "Move between chats, then type a message"),
    ("Enter / Shift+Enter", "Send / new line"),
    ("Esc", "Stop the reply"),
    ("F2", "Rename the chat"),
    ("Delete", "Move the chat to the trash"),
    ("F9", "Show or hide the chat settings"),
    ("Ctrl+1 / Ctrl+2", "Chat / writing mode"),
    ("Ctrl+Shift+P", "Writing: the co-writer's commands"),
    ("Ctrl+Shift+Enter", "Writing: continue from the cursor"),
    ("Ctrl+F, Ctrl+H", "Writing: find and replace"),
    ("Ctrl+Shift+M", "Writing: Markdown preview"),
    ("Ctrl+E / Ctrl+Shift+E", "Export the chat / all chats"),
    ("Ctrl+I", "Import chats"),
    ("Ctrl+,", "Settings"),
]
