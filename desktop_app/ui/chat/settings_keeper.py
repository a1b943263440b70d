"""The chat settings panel kept in step with the open chat: a chat's own settings shown
when it opens, edits saved to it shortly after they stop, and "Save as default"."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QT_TRANSLATE_NOOP, QObject, QTimer, Slot

from desktop_app.session.chat import ChatSession
from desktop_app.ui.chat.settings_pane import ConversationSettingsPane
from desktop_app.ui.status import StatusReporter, reports_problems

SAVE_DELAY_MS = 400


class SettingsKeeper(QObject):
    def __init__(
        self,
        pane: ConversationSettingsPane,
        session: ChatSession,
        reporter: StatusReporter,
        conversation_id: Callable[[], str | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.pane = pane
        self.session = session
        self.reporter = reporter
        self.conversation_id = conversation_id
        self.dirty = False
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SAVE_DELAY_MS)
        self.timer.timeout.connect(self.save)
        pane.changed.connect(self._on_pane_changed)
        pane.save_as_default_requested.connect(self._on_pane_save_as_default)

    def load(self) -> None:
        self.timer.stop()
        self.dirty = False
        conversation_id = self.conversation_id()
        if conversation_id is None:
            self.pane.load("", self.session.default_settings())
        else:
            conversation = self.session.store.conversations.get(conversation_id)
            self.pane.load(conversation.system_prompt, self.session.settings_for(conversation.settings))

    @Slot()
    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not save the chat's settings"))
    def save(self) -> None:
        """Write the panel's values to the open chat (a new chat gets them when created)."""
        if not self.dirty:
            return
        self.dirty = False
        self.timer.stop()
        conversation_id = self.conversation_id()
        if conversation_id is not None:
            self.session.configure(conversation_id, self.pane.system_prompt_text(), self.pane.generation_settings())

    @Slot()
    def _on_pane_changed(self) -> None:
        self.dirty = True
        self.timer.start()

    @Slot()
    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not save the defaults"))
    def _on_pane_save_as_default(self) -> None:
        self.session.store.settings.set("generation", self.pane.generation_settings().to_dict())
        self.reporter.show(self.tr("New chats will start with these settings."))
