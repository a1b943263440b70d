"""The window's API server: started and stopped as the settings say, shown in the status bar
with its address and the number of requests it answered."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QLocale, QObject, Signal, Slot
from PySide6.QtWidgets import QLabel, QWidget

from desktop_app.core.errors import UserError
from desktop_app.session.settings import ServerSettings

log = logging.getLogger(__name__)

StartServer = Callable[[Any, ServerSettings, str, Callable[[int], None], Callable[[str], None]], Any]


class ApiServerControl(QObject):
    """Owns the running server (if any) and its status-bar indicator."""

    requests_counted = Signal(int)  # emitted on a server thread; Qt queues it to the GUI thread
    conversation_saved = Signal(str)  # an API request saved to the history (from its thread)
    state_changed = Signal()

    def __init__(self, scheduler: Any, start_server: StartServer | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scheduler = scheduler  # the plain Scheduler the window's chat uses
        self._start_server = start_server
        self.server: Any = None
        self.settings: ServerSettings | None = None
        self.key = ""
        self.label = QLabel()
        self.label.setAccessibleName(self.tr("API server"))
        self.label.hide()
        self.requests_counted.connect(self._on_requests_counted)

    @property
    def running(self) -> bool:
        return self.server is not None

    def apply(self, settings: ServerSettings, key: str) -> None:
        """Serve as `settings` say: start, stop, or restart when what it listens with changed.
        A port that is taken raises UserError (the server is then off)."""
        if self.server is not None and (settings, key) == (self.settings, self.key):
            return
        self.stop()
        self.settings, self.key = settings, key
        if not settings.enabled or self._start_server is None:
            return
        try:
            self.server = self._start_server(
                self.scheduler, settings, key, self.requests_counted.emit, self.conversation_saved.emit
            )
        except UserError:
            self.settings = None
            raise
        self._show(0)
        self.state_changed.emit()

    def stop(self) -> None:
        server, self.server = self.server, None
        if server is not None:
            server.stop()
            self.label.hide()
            self.state_changed.emit()

    def _show(self, count: int) -> None:
        if self.server is None:
            return
        # Two strings, not a plural suffix: languages form plurals differently (Chinese has none).
        text = self.tr("API: {url} · {count} request") if count == 1 else self.tr("API: {url} · {count} requests")
        self.label.setText(text.format(url=self.server.url, count=QLocale().toString(count)))
        self.label.setToolTip(self.tr("The local API server answers other programs (Settings › Local API server)."))
        self.label.show()

    @Slot(int)
    def _on_requests_counted(self, count: int) -> None:
        self._show(count)
