"""The sidebar's list: conversations under date headings, or search results."""

from __future__ import annotations

import html
from datetime import date, datetime

from PySide6.QtCore import QCoreApplication, QDate, QLocale, QModelIndex, QPersistentModelIndex, QSize, Qt
from PySide6.QtGui import QAbstractTextDocumentLayout, QFont, QKeyEvent, QPainter, QPalette, QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from desktop_app.core.records import Conversation, SearchHit

CONVERSATION_ROLE = Qt.ItemDataRole.UserRole
MESSAGE_ROLE = Qt.ItemDataRole.UserRole + 1
HTML_ROLE = Qt.ItemDataRole.UserRole + 2  # a search hit's title and snippet, matches in bold


def hit_html(title: str, snippet_with_marks: str, start: str, end: str) -> str:
    """Title and snippet as HTML, the matched words highlighted (the text is escaped)."""
    snippet = html.escape(snippet_with_marks)
    snippet = snippet.replace(html.escape(start), "<b style='background-color:#fff3b0; color:#1f2328'>")
    snippet = snippet.replace(html.escape(end), "</b>")
    return f"{html.escape(title)}<br><span style='font-size:small'>{snippet}</span>"


class HitDelegate(QStyledItemDelegate):
    """Draws a search hit's HTML (the highlighted snippet); other rows as usual."""

    def _document(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QTextDocument:
        document = QTextDocument()
        document.setDefaultFont(option.font)
        document.setHtml(index.data(HTML_ROLE))
        document.setTextWidth(max(option.rect.width(), 120))
        return document

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        if not index.data(HTML_ROLE):
            super().paint(painter, option, index)
            return
        item = QStyleOptionViewItem(option)
        self.initStyleOption(item, index)
        item.text = ""
        style = item.widget.style() if item.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, item, painter, item.widget)
        document = self._document(option, index)
        context = QAbstractTextDocumentLayout.PaintContext()
        if option.state & QStyle.StateFlag.State_Selected:
            context.palette.setColor(QPalette.ColorRole.Text, option.palette.color(QPalette.ColorRole.HighlightedText))
        else:
            context.palette.setColor(QPalette.ColorRole.Text, option.palette.color(QPalette.ColorRole.Text))
        painter.save()
        painter.translate(option.rect.topLeft())
        painter.setClipRect(option.rect.translated(-option.rect.topLeft()))
        document.documentLayout().draw(painter, context)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QSize:
        if not index.data(HTML_ROLE):
            return super().sizeHint(option, index)
        document = self._document(option, index)
        return QSize(int(document.idealWidth()), int(document.size().height()))


def date_group(updated: str, today: date) -> str:
    """The heading a conversation last changed at `updated` (UTC ISO) goes under, in the
    window's language; months and years as the locale writes them."""
    try:
        day = datetime.fromisoformat(updated.replace("Z", "+00:00")).astimezone().date()
    except ValueError:
        return QCoreApplication.translate("ConversationListWidget", "Older")
    age = (today - day).days
    if age <= 0:
        return QCoreApplication.translate("ConversationListWidget", "Today")
    if age == 1:
        return QCoreApplication.translate("ConversationListWidget", "Yesterday")
    if age < 7:
        return QCoreApplication.translate("ConversationListWidget", "Previous 7 days")
    if age < 30:
        return QCoreApplication.translate("ConversationListWidget", "Previous 30 days")
    if day.year == today.year:
        return QLocale().standaloneMonthName(day.month)
    return QLocale().toString(QDate(day.year, 1, 1), "yyyy")  # no group separator: "2025", not "2,025"


class ConversationListWidget(QListWidget):
    """Headings are neither selectable nor enabled, so the arrow keys step over them.
    Enter opens the chat and moves to the message box (`activated` is wired by the window)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(self.tr("Conversations"))
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setWordWrap(True)
        self.setUniformItemSizes(False)
        self.setItemDelegate(HitDelegate(self))

    def show_conversations(self, conversations: list[Conversation], current_id: str | None, today: date) -> None:
        self.blockSignals(True)
        self.clear()
        heading = None
        untitled = self.tr("New chat")
        for conversation in conversations:
            group = self.tr("Pinned") if conversation.pinned else date_group(conversation.updated, today)
            if group != heading:
                self._add_heading(group)
                heading = group
            item = QListWidgetItem(("📌 " if conversation.pinned else "") + (conversation.title or untitled))
            item.setData(CONVERSATION_ROLE, conversation.id)
            item.setToolTip(conversation.title or untitled)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.addItem(item)
            if conversation.id == current_id:
                self.setCurrentItem(item)
        self.blockSignals(False)

    def show_hits(self, hits: list[SearchHit]) -> None:
        self.blockSignals(True)
        self.clear()
        untitled = self.tr("New chat")
        for hit in hits:
            if hit.conversation_id is None:
                continue  # drafts are found from the writing mode
            snippet = hit.plain_snippet("", "")
            item = QListWidgetItem(f"{hit.title or untitled}\n   {snippet}")
            item.setData(CONVERSATION_ROLE, hit.conversation_id)
            item.setData(MESSAGE_ROLE, hit.message_id)
            item.setData(HTML_ROLE, hit_html(hit.title or untitled, hit.snippet, hit.MARK_START, hit.MARK_END))
            item.setToolTip(snippet)
            self.addItem(item)
        if self.count() == 0:
            self._add_heading(self.tr("No matches"))
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

    @staticmethod
    def conversation_id_of(item: QListWidgetItem | None) -> str | None:
        return (item.data(CONVERSATION_ROLE) or None) if item is not None else None

    @staticmethod
    def message_id_of(item: QListWidgetItem | None) -> str | None:
        """The matching message of a search hit (None for a plain conversation row)."""
        return (item.data(MESSAGE_ROLE) or None) if item is not None else None

    def current_conversation_id(self) -> str | None:
        return self.conversation_id_of(self.currentItem())

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
