"""The chat mode's left side: New chat, search, and the conversations with their menu
(rename, pin, archive, export, delete to the trash with Undo)."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QT_TRANSLATE_NOOP, QPoint, Qt, QTimer, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLineEdit, QListWidgetItem, QMenu, QPushButton, QVBoxLayout, QWidget

from desktop_app.core.errors import UserError
from desktop_app.store import Store
from desktop_app.ui.chat.sidebar import ConversationListWidget
from desktop_app.ui.status import StatusReporter, reports_problems

SEARCH_DELAY_MS = 200


class ConversationListPane(QWidget):
    """Lists the conversations (or search hits) and acts on them; says which one to open."""

    open_requested = Signal(str, object)  # conversation id, message id to show (a search hit) or None
    new_chat_requested = Signal()
    activated = Signal()  # Enter on a conversation: go on to the message box
    removed = Signal(str)  # a conversation left the list (trash or archive)
    restored = Signal(str)  # Undo brought a conversation back
    export_requested = Signal()

    def __init__(self, store: Store, reporter: StatusReporter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.reporter = reporter
        self.current_id: str | None = None  # the open conversation, highlighted in the list
        self.new_button = QPushButton(self.tr("New chat"))
        self.new_button.setAccessibleName(self.tr("New chat"))
        self.new_button.setToolTip(self.tr("New chat (Ctrl+N)"))
        self.search_box = QLineEdit()
        self.search_box.setPlaceholderText(self.tr("Search chats (Ctrl+K)"))
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setAccessibleName(self.tr("Search chats"))
        self.sidebar = ConversationListWidget()
        layout = QVBoxLayout(self)
        layout.addWidget(self.new_button)
        layout.addWidget(self.search_box)
        layout.addWidget(self.sidebar)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)

        self.rename_action = self._action(self.tr("Rename"), Qt.Key.Key_F2)
        self.delete_action = self._action(self.tr("Delete"), QKeySequence.StandardKey.Delete)
        self.pin_action = self._action(self.tr("Pin"))
        self.archive_action = self._action(self.tr("Archive"))
        self.export_action = self._action(self.tr("Export…"))
        self.sidebar.addActions([self.rename_action, self.delete_action])
        self._connect_signals()

    def _action(self, text: str, shortcut: object = None) -> QAction:
        action = QAction(text, self.sidebar)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))  # type: ignore[call-overload]
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        return action

    def _connect_signals(self) -> None:
        self.new_button.clicked.connect(self.new_chat_requested)
        self.search_box.textChanged.connect(self._search_timer.start)
        self.search_box.returnPressed.connect(self._on_search_box_return_pressed)
        self._search_timer.timeout.connect(self.refresh)
        self.sidebar.currentItemChanged.connect(self._on_sidebar_current_changed)
        self.sidebar.itemActivated.connect(self._on_sidebar_item_activated)
        self.sidebar.customContextMenuRequested.connect(self._on_sidebar_context_menu)
        self.sidebar.itemChanged.connect(self._on_sidebar_item_changed)
        self.rename_action.triggered.connect(self.rename_current)
        self.delete_action.triggered.connect(self.delete_current)
        self.pin_action.triggered.connect(self.toggle_pin_current)
        self.archive_action.triggered.connect(self.archive_current)
        self.export_action.triggered.connect(self.export_requested)

    @property
    def searching(self) -> bool:
        return bool(self.search_box.text().strip())

    def refresh(self) -> None:
        """The conversations by date, or the search results while the search box has text."""
        query = self.search_box.text().strip()
        if query:
            try:
                hits = self.store.search.search(query)
            except UserError as exc:
                self.reporter.show(str(exc))
                hits = []
            self.sidebar.show_hits(hits)
        else:
            self.sidebar.show_conversations(self.store.conversations.all(limit=2000), self.current_id, date.today())

    def show_current(self, conversation_id: str | None) -> None:
        """Highlight the open conversation (none for a new chat)."""
        self.current_id = conversation_id
        if conversation_id is None:
            self.sidebar.clearSelection()
            self.sidebar.setCurrentRow(-1)
        self.refresh()

    def focus_search(self) -> None:
        self.search_box.setFocus()
        self.search_box.selectAll()

    def step(self, offset: int) -> None:
        self.sidebar.step(offset)

    def selected_conversation_ids(self) -> list[str]:
        return self.sidebar.selected_conversation_ids()

    # ---- acting on the chosen conversation ----

    def _chosen(self) -> str | None:
        return self.sidebar.current_conversation_id()

    @Slot()
    def _on_search_box_return_pressed(self) -> None:
        self._search_timer.stop()
        self.refresh()
        self.sidebar.setFocus()
        self.sidebar.step(1)

    @Slot(QPoint)
    def _on_sidebar_context_menu(self, position: QPoint) -> None:
        item = self.sidebar.itemAt(position)
        if item is None or self.searching:
            return
        self.sidebar.setCurrentItem(item)
        conversation_id = self._chosen()
        if conversation_id is None:
            return
        pinned = self.store.conversations.get(conversation_id).pinned
        self.pin_action.setText(self.tr("Unpin") if pinned else self.tr("Pin"))
        menu = QMenu(self.sidebar)
        menu.addActions([self.rename_action, self.pin_action, self.archive_action])
        menu.addSeparator()
        menu.addActions([self.export_action, self.delete_action])
        menu.exec(self.sidebar.viewport().mapToGlobal(position))

    @Slot()
    def rename_current(self) -> None:
        """F2: the item becomes editable with the plain title."""
        item = self.sidebar.currentItem()
        conversation_id = self._chosen()
        if item is not None and conversation_id and not self.searching:
            item.setText(self.store.conversations.get(conversation_id).title)
            self.sidebar.editItem(item)

    @Slot(QListWidgetItem)
    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not rename the chat"))
    def _on_sidebar_item_changed(self, item: QListWidgetItem) -> None:
        conversation_id = self.sidebar.conversation_id_of(item)
        if conversation_id is None:
            return
        title = item.text().removeprefix("📌 ").strip()
        if title and title != self.store.conversations.get(conversation_id).title:
            self.store.conversations.rename(conversation_id, title)
        QTimer.singleShot(0, self.refresh)  # not while the list is still in its edit

    @Slot()
    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not pin the chat"))
    def toggle_pin_current(self) -> None:
        conversation_id = self._chosen()
        if conversation_id is not None:
            pinned = self.store.conversations.get(conversation_id).pinned
            self.store.conversations.set_pinned(conversation_id, not pinned)
            self.refresh()

    @Slot()
    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not archive the chat"))
    def archive_current(self) -> None:
        conversation_id = self._chosen()
        if conversation_id is not None:
            self.store.conversations.set_archived(conversation_id, True)
            self.removed.emit(conversation_id)
            self.refresh()
            self.reporter.show(self.tr("Archived."), 3000)

    @Slot()
    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not delete the chat"))
    def delete_current(self) -> None:
        """To the trash (kept 30 days), with an Undo button for the next few seconds."""
        conversation_id = self._chosen()
        if conversation_id is None or self.searching:
            return
        self.removed.emit(conversation_id)  # first: a reply being written there stops
        self.store.conversations.delete(conversation_id)
        self.refresh()
        self.reporter.offer_undo(self.tr("Chat moved to the trash."), lambda: self._restore(conversation_id))

    def _restore(self, conversation_id: str) -> None:
        self.store.conversations.restore(conversation_id)
        self.restored.emit(conversation_id)

    @Slot(QListWidgetItem, QListWidgetItem)
    def _on_sidebar_current_changed(self, current: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        conversation_id = self.sidebar.conversation_id_of(current)
        if conversation_id is not None:
            self.open_requested.emit(conversation_id, self.sidebar.message_id_of(current))

    @Slot(QListWidgetItem)
    def _on_sidebar_item_activated(self, item: QListWidgetItem) -> None:
        if self.sidebar.conversation_id_of(item):
            self.activated.emit()
