"""A desktop notification when a long reply or a co-writer suggestion finishes while the
window is in the background: a tray message where the desktop has a tray, and the taskbar's
"wants attention" everywhere."""

from __future__ import annotations

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

# A reply shorter than this was not waited for: no notification.
LONG_REPLY_S = 4.0


class Notifier(QObject):
    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.tray: QSystemTrayIcon | None = None
        self.sent: list[tuple[str, str]] = []  # what was notified (the tests read it)

    def in_background(self) -> bool:
        return not self.window.isActiveWindow()

    def notify(self, title: str, text: str) -> bool:
        """Tell the user, unless they are looking at the window; True when told."""
        if not self.in_background():
            return False
        if QSystemTrayIcon.isSystemTrayAvailable() and QSystemTrayIcon.supportsMessages():
            if self.tray is None:
                self.tray = QSystemTrayIcon(QApplication.windowIcon(), self)
                self.tray.setToolTip("Inkwell")
                self.tray.messageClicked.connect(self._on_tray_message_clicked)
                self.tray.activated.connect(self._on_tray_message_clicked)
            self.tray.show()
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 8000)
        QApplication.alert(self.window)
        self.sent.append((title, text))
        return True

    @Slot()
    def _on_tray_message_clicked(self) -> None:
        if self.window.isMinimized():
            self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()

    def hide(self) -> None:
        if self.tray is not None:
            self.tray.hide()
