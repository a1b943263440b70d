"""The icons that appear over a message under the pointer: copy, edit or regenerate, send to
a draft, send to Compare, delete. The same actions are in the transcript's context menu for
the keyboard."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QSize, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFrame, QHBoxLayout, QMenu, QToolButton, QWidget

from desktop_app.ui.chat.message_actions import MessageAction, MessageRequest
from desktop_app.ui.icons import icon


def actions_for(role: str) -> list[tuple[MessageAction, str, str]]:
    """(action, icon name, label) for a message of `role`, in the order they are shown."""
    rows = [(MessageAction.COPY, "copy", QCoreApplication.translate("MessageActionBar", "Copy"))]
    if role == "user":
        rows.append((MessageAction.EDIT, "edit", QCoreApplication.translate("MessageActionBar", "Edit")))
    else:
        rows.append(
            (MessageAction.REGENERATE, "regenerate", QCoreApplication.translate("MessageActionBar", "Regenerate"))
        )
        rows.append(
            (MessageAction.TO_DRAFT, "draft", QCoreApplication.translate("MessageActionBar", "Send to a draft"))
        )
    rows.append((MessageAction.COMPARE, "compare", QCoreApplication.translate("MessageActionBar", "Send to Compare")))
    rows.append((MessageAction.DELETE, "delete", QCoreApplication.translate("MessageActionBar", "Delete")))
    return rows


def add_message_actions(menu: QMenu, role: str, message_id: str, emit: Signal) -> None:
    """The message's actions at the end of a context menu."""
    menu.addSeparator()
    for action, icon_name, label in actions_for(role):
        item = QAction(icon(icon_name), label, menu)
        item.triggered.connect(lambda _=False, a=action: emit.emit(MessageRequest(a, message_id)))
        menu.addAction(item)


class MessageActionBar(QFrame):
    """A small floating bar of icon buttons for one message at a time."""

    action_requested = Signal(object)  # MessageRequest

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("message-action-bar")
        self.setAccessibleName(QCoreApplication.translate("MessageActionBar", "Message actions"))
        self.message_id: str | None = None
        self.role = ""
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(3, 3, 3, 3)
        self._layout.setSpacing(2)
        self.buttons: dict[MessageAction, QToolButton] = {}
        self.hide()

    def show_for(self, message_id: str, role: str) -> None:
        """Offer the actions of message `message_id` (buttons rebuilt only when the role changes)."""
        self.message_id = message_id
        if role != self.role or not self.buttons:
            self.role = role
            for button in self.buttons.values():
                self._layout.removeWidget(button)
                button.setParent(None)  # type: ignore[call-overload]
                button.deleteLater()
            self.buttons.clear()
            for action, icon_name, label in actions_for(role):
                button = QToolButton(self)
                button.setObjectName("message-action")
                button.setIcon(icon(icon_name))
                button.setIconSize(QSize(16, 16))
                button.setToolTip(label)
                button.setAccessibleName(label)
                button.clicked.connect(lambda _=False, a=action: self._on_button_clicked(a))
                self._layout.addWidget(button)
                self.buttons[action] = button
            self._layout.activate()
            self.adjustSize()

    def refresh_icons(self) -> None:
        """Redraw the icons in the current theme's colours."""
        names = {a: n for a, n, _label in actions_for(self.role)}
        for action, button in self.buttons.items():
            button.setIcon(icon(names[action]))

    def _on_button_clicked(self, action: MessageAction) -> None:
        if self.message_id is not None:
            self.action_requested.emit(MessageRequest(action, self.message_id))
