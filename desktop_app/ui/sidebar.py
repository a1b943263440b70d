"""The sidebar's list: conversations under date headings, or search results."""

from __future__ import annotations

from datetime import date, datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QWidget

from desktop_app.core.records import Conversation, SearchHit

CONVERSATION_ROLE = Qt.ItemDataRole.UserRole
MESSAGE_ROLE = Qt.ItemDataRole.UserRole + 1


def date_group(updated: str, today: date) -> str:
    """The heading a conversation last changed at `updated` (UTC ISO) goes under."""
    try:
        day = datetime.fromisoformat(updated.replace("Z", "+00:00")).astimezone().date()
    except ValueError:
        return "Older"
    age = (today - day).days
    if age <= 0:
        return "Today"
    if age == 1:
        return "Yesterday"
    if age < 7:
        return "Previous 7 days"
    if age < 30:
        return "Previous 30 days"
    if day.year == today.year:
        return day.strftime("%B")
    return str(day.year)


class ConversationListWidget(QListWidget):
    """Headings are neither selectable nor enabled, so the arrow keys step over them.
    Enter opens the chat and moves to the message box (`activated` is wired by the window)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Conversations")
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setWordWrap(True)
        self.setUniformItemSizes(False)

    def show_conversations(self, conversations: list[Conversation], current_id: str | None, today: date) -> None:
        self.blockSignals(True)
        self.clear()
        heading = None
        for conversation in conversations:
            group = "Pinned" if conversation.pinned else date_group(conversation.updated, today)
            if group != heading:
                self._add_heading(group)
                heading = group
            item = QListWidgetItem(("📌 " if conversation.pinned else "") + (conversation.title or "New chat"))
            item.setData(CONVERSATION_ROLE, conversation.id)
            item.setToolTip(conversation.title or "New chat")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.addItem(item)
            if conversation.id == current_id:
                self.setCurrentItem(item)
        self.blockSignals(False)

    def show_hits(self, hits: list[SearchHit]) -> None:
        self.blockSignals(True)
        self.clear()
        for hit in hits:
            if hit.conversation_id is None:
                continue  # drafts are found from the writing mode
            snippet = hit.plain_snippet("", "")
            item = QListWidgetItem(f"{hit.title or 'New chat'}\n   {snippet}")
            item.setData(CONVERSATION_ROLE, hit.conversation_id)
            item.setData(MESSAGE_ROLE, hit.message_id)
            item.setToolTip(snippet)
            self.addItem(item)
        if self.count() == 0:
            self._add_heading("No matches")
        self.blockSignals(False)

    def _add_heading(self, text: str) -> None:
        item = QListWidgetItem(text)
        item.setFlags(Qt.ItemFlag.NoItemFlags)
        font = QFont(self.font())
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 0.85)
        item.setFont(font)
        self.addItem(item)

    def conversation_items(self) -> list[QListWidgetItem]:
        return [self.item(i) for i in range(self.count()) if self.item(i).data(CONVERSATION_ROLE)]

    def select_conversation(self, conversation_id: str) -> None:
        for item in self.conversation_items():
            if item.data(CONVERSATION_ROLE) == conversation_id:
                self.setCurrentItem(item)
                return

    def step(self, offset: int) -> None:
        """Select the next (1) or previous (-1) conversation."""
        items = self.conversation_items()
        if not items:
            return
        current = self.currentItem()
        index = items.index(current) + offset if current in items else (0 if offset > 0 else len(items) - 1)
        self.setCurrentItem(items[max(0, min(index, len(items) - 1))])

    def selected_conversation_ids(self) -> list[str]:
        return [item.data(CONVERSATION_ROLE) for item in self.selectedItems() if item.data(CONVERSATION_ROLE)]

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.state() != self.State.EditingState:
            if self.currentItem() is not None:
                self.itemActivated.emit(self.currentItem())
            return
        super().keyPressEvent(event)
