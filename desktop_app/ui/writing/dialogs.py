"""The writing mode's dialogs: the command palette and the draft's history."""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import QDateTime, QLocale, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.textdiff import diff_html, word_diff
from desktop_app.store import Store


class CommandPaletteDialog(QDialog):
    """Type to filter the co-writer's commands; Enter runs the highlighted one."""

    def __init__(self, commands: list[tuple[str, Callable[[], None]]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Commands"))
        self.commands = commands
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(self.tr("Type a command…"))
        self.filter.setAccessibleName(self.tr("Command filter"))
        self.list = QListWidget()
        self.list.setAccessibleName(self.tr("Commands"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.filter)
        layout.addWidget(self.list)
        self.filter.textChanged.connect(self._refill)
        self.filter.returnPressed.connect(self.accept)
        self.list.itemActivated.connect(lambda _item: self.accept())
        self._refill("")

    def _refill(self, text: str) -> None:
        self.list.clear()
        words = text.lower().split()
        for label, _run in self.commands:
            if all(w in label.lower() for w in words):
                self.list.addItem(label)
        self.list.setCurrentRow(0)

    def chosen(self) -> Callable[[], None] | None:
        item = self.list.currentItem()
        if item is None:
            return None
        return dict(self.commands)[item.text()]


class RevisionDialog(QDialog):
    """The draft's history: pick a time, see what changed since, restore it."""

    def __init__(self, store: Store, draft_id: str, current: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Draft history"))
        self.resize(820, 520)
        self.store = store
        self.current = current
        self.revisions = store.drafts.revisions(draft_id)
        self.list = QListWidget()
        self.list.setAccessibleName(self.tr("Revisions"))
        locale = QLocale()
        for revision in self.revisions:
            words = locale.toString(len(revision.body.split()))
            self.list.addItem(
                self.tr("{time} · {words} words").format(time=revision_time(revision.created), words=words)
            )
        self.view = QTextBrowser()
        self.view.setAccessibleName(self.tr("Changes since this revision"))
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.restore_button = self.buttons.addButton(
            self.tr("Restore this version"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.restore_button.setEnabled(False)
        split = QSplitter()
        split.addWidget(self.list)
        split.addWidget(self.view)
        split.setSizes([260, 560])
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("Deleted text is struck through; text added since is underlined.")))
        layout.addWidget(split, 1)
        layout.addWidget(self.buttons)
        self.list.currentRowChanged.connect(self._on_list_current_row_changed)
        self.buttons.rejected.connect(self.reject)
        self.restore_button.clicked.connect(self.accept)
        if not self.revisions:
            self.view.setPlainText(self.tr("No earlier versions yet: they are kept as you write."))

    def _on_list_current_row_changed(self, row: int) -> None:
        self.restore_button.setEnabled(row >= 0)
        if row >= 0:
            self.view.setHtml(diff_html(word_diff(self.revisions[row].body, self.current)))

    def chosen_revision_id(self) -> str | None:
        row = self.list.currentRow()
        return self.revisions[row].id if row >= 0 else None


def revision_time(created: str) -> str:
    """A revision's time (stored as UTC ISO 8601) in local time, in the locale's short date and
    time format with the seconds added: revisions are only seconds apart."""
    moment = QDateTime.fromString(created, Qt.DateFormat.ISODateWithMs).toLocalTime()
    locale = QLocale()
    short = locale.dateTimeFormat(QLocale.FormatType.ShortFormat)
    if "s" not in short:  # after the minutes, with the locale's separator ("h:mm", "H.mm"); none if quoted
        short = re.sub(r"([Hh]{1,2})([^\w']*)(mm)", r"\1\2\3\2ss", short, count=1)
    return locale.toString(moment, short)
