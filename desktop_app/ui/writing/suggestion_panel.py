"""The pane under the editor that shows a co-writer's suggestion as tracked changes: one
version, or three side by side, with Accept, Reject and Try again. It only shows; the
co-writer's controller decides what the buttons do."""

from __future__ import annotations

from PySide6.QtCore import QLocale, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from desktop_app.core.textdiff import diff_html, word_diff

MAX_VERSIONS = 3


class SuggestionPane(QWidget):
    """A suggestion as it streams in and once it is done; hidden while there is none."""

    accept_requested = Signal(int)  # which version to put in the text
    reject_requested = Signal()
    again_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel("")
        self.view = QTextBrowser()
        self.view.setAccessibleName(self.tr("Suggestion"))
        self.accept_button = QPushButton(self.tr("Accept"))
        self.reject_button = QPushButton(self.tr("Reject"))
        self.again_button = QPushButton(self.tr("Try again"))
        self.version_views: list[QTextBrowser] = []
        self.version_buttons: list[QPushButton] = []
        versions = QHBoxLayout()
        locale = QLocale()
        for index in range(MAX_VERSIONS):
            number = locale.toString(index + 1)
            column = QVBoxLayout()
            view = QTextBrowser()
            view.setAccessibleName(self.tr("Version {number}").format(number=number))
            button = QPushButton(self.tr("Use version {number}").format(number=number))
            column.addWidget(view, 1)
            column.addWidget(button)
            versions.addLayout(column)
            self.version_views.append(view)
            self.version_buttons.append(button)
        self.versions_box = QWidget()
        self.versions_box.setLayout(versions)
        buttons = QHBoxLayout()
        buttons.addWidget(self.label, 1)
        for button in (self.again_button, self.reject_button, self.accept_button):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.versions_box, 1)
        layout.addLayout(buttons)
        self._connect_signals()
        self.hide()

    def _connect_signals(self) -> None:
        self.accept_button.clicked.connect(lambda: self.accept_requested.emit(0))
        for index, button in enumerate(self.version_buttons):
            button.clicked.connect(lambda _checked=False, i=index: self.accept_requested.emit(i))
        self.reject_button.clicked.connect(self.reject_requested)
        self.again_button.clicked.connect(self.again_requested)

    def begin(self, message: str, versions: int) -> None:
        """Show the pane for a new request: its message, no text yet, nothing to click."""
        self.label.setText(message)
        self.view.setVisible(versions == 1)
        self.versions_box.setVisible(versions > 1)
        for button in (self.accept_button, self.again_button, *self.version_buttons):
            button.setEnabled(False)
        self.show()

    def set_message(self, message: str) -> None:
        self.label.setText(message)

    def show_texts(self, original: str, replaces: bool, texts: list[str]) -> None:
        """The versions so far as tracked changes against `original` (all insertion when the
        action adds text instead of replacing it)."""
        if len(texts) == 1:
            self.view.setHtml(suggestion_html(original, replaces, texts[0]))
        else:
            for view, text in zip(self.version_views, texts, strict=False):
                view.setHtml(suggestion_html(original, replaces, text))

    def finish(self, texts: list[str]) -> None:
        """The final (cleaned) versions are shown: say so, and offer what makes sense."""
        empty = not any(texts)
        self.label.setText(
            self.tr("The model wrote nothing; try again.")
            if empty
            else self.tr("Accept the change, reject it, or try again.")
        )
        self.accept_button.setEnabled(not empty and len(texts) == 1)
        for button, text in zip(self.version_buttons, texts, strict=False):
            button.setEnabled(bool(text))
        self.again_button.setEnabled(True)


def suggestion_html(original: str, replaces: bool, new: str) -> str:
    """The change as tracked changes: for Continue, the new text is all insertion."""
    return diff_html(word_diff(original if replaces else "", new))
