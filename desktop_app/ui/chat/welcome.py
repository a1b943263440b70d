"""What a new chat shows before its first message: what Inkwell is for, the model and where it
runs, and suggestions for the main jobs that start the message for the user."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop_app.session.scheduler import EngineInfo
from desktop_app.ui.icons import icon


class WelcomeWidget(QWidget):
    """The empty chat's page; a suggestion puts its opening words in the message box."""

    suggestion_chosen = Signal(str)  # the text to start the message with

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("welcome")
        self.setAccessibleName(self.tr("New chat"))
        title = QLabel(self.tr("What shall we write today?"))
        title.setObjectName("welcome-title")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.subtitle = subtitle = QLabel(self._purpose(remote=False))
        subtitle.setObjectName("welcome-subtitle")
        subtitle.setWordWrap(True)
        subtitle.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.model_label = QLabel(self.tr("Loading the model…"))
        self.model_label.setObjectName("welcome-model")
        self.model_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.model_label.setAccessibleName(self.tr("The model and where it runs"))
        self.place_icon = QLabel()
        self._place = "lock"  # this computer; "model" for a server
        self.place_icon.setPixmap(icon(self._place).pixmap(QSize(16, 16)))
        model_row = QHBoxLayout()
        model_row.addStretch(1)
        model_row.addWidget(self.place_icon)
        model_row.addWidget(self.model_label)
        model_row.addStretch(1)
        grid = QGridLayout()
        grid.setSpacing(10)
        self.suggestions: list[QPushButton] = []
        for n, (icon_name, label, start) in enumerate(self._suggestions()):
            button = QPushButton(icon(icon_name), label)
            button.setObjectName("suggestion")
            button.setIconSize(QSize(20, 20))
            button.setAccessibleName(label)
            button.setToolTip(start.strip())
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.setProperty("icon_name", icon_name)
            button.clicked.connect(lambda _=False, text=start: self.suggestion_chosen.emit(text))
            grid.addWidget(button, n // 2, n % 2)
            self.suggestions.append(button)
        column = QVBoxLayout()
        column.addStretch(2)
        column.addWidget(title)
        column.addWidget(subtitle)
        column.addSpacing(6)
        column.addLayout(model_row)
        column.addSpacing(22)
        column.addLayout(grid)
        column.addStretch(3)
        body = QWidget()
        body.setLayout(column)
        body.setMaximumWidth(640)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(body, 8)
        outer.addStretch(1)

    def _suggestions(self) -> list[tuple[str, str, str]]:
        """(icon, label, the message's opening words) for the main jobs people bring."""
        return [
            (
                "reply",
                self.tr("Reply to a customer"),
                self.tr("Write a friendly, professional reply to this customer message:\n\n"),
            ),
            (
                "summary",
                self.tr("Summarise a text"),
                self.tr("Summarise the main points of this text in a few sentences:\n\n"),
            ),
            (
                "tutor",
                self.tr("Explain like a tutor"),
                self.tr("Explain this step by step, like a patient tutor, with an example: "),
            ),
            ("translate", self.tr("Translate"), self.tr("Translate this text into English, keeping its tone:\n\n")),
            ("email", self.tr("Draft an email"), self.tr("Draft a short, polite email to ")),
        ]

    def _purpose(self, remote: bool) -> str:
        """What Inkwell is for, and where the text goes: it stays here unless a server runs the model."""
        if remote:
            return self.tr("A private assistant for replies, summaries and drafts.")
        return self.tr("A private assistant for replies, summaries and drafts. What you write stays on this computer.")

    def refresh_icons(self) -> None:
        """Redraw the icons in the current theme's colours."""
        for button in self.suggestions:
            button.setIcon(icon(str(button.property("icon_name"))))
        self.place_icon.setPixmap(icon(self._place).pixmap(QSize(16, 16)))

    def set_engine_info(self, info: EngineInfo | None, failed: bool = False) -> None:
        """Name the model and say where it runs: this computer, or the server the text goes to."""
        if info is None:
            self.model_label.setText(self.tr("No model is loaded") if failed else self.tr("Loading the model…"))
            return
        remote = info.provider_name.startswith("remote:")
        self.subtitle.setText(self._purpose(remote))
        if remote:
            where = self.tr("runs on {server}: your messages are sent there").format(server=info.provider)
            self._place = "model"
        else:
            where = self.tr("runs on this computer ({device})").format(device=info.provider)
            self._place = "lock"
        self.place_icon.setPixmap(icon(self._place).pixmap(QSize(16, 16)))
        self.model_label.setText(f"{info.model_name} · {where}")
