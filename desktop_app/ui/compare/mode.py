"""Compare mode in the window: its page among the modes, its action, "Send to Compare" from
a chat message, and the models it loads beside the window's own (unloaded when it is left)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QT_TRANSLATE_NOOP, QObject, Slot

from desktop_app.session.compare import prompt_from_message
from desktop_app.session.scheduler import EngineFactory
from desktop_app.session.settings import AppSettings, ModelChoice
from desktop_app.ui.compare.pane import ComparePane
from desktop_app.ui.compare.runner import CompareRunner
from desktop_app.ui.status import reports_problems

if TYPE_CHECKING:
    from desktop_app.ui.main_window import MainWindow


class CompareMode(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.store = window.store
        self.reporter = window.reporter
        self.runner = CompareRunner(
            window.scheduler,
            window.model_picker.current,
            self._engine_factory if window.services.engine_factory is not None else None,
            self,
        )
        self.pane = ComparePane(
            self.store, self.runner, self.reporter, lambda: AppSettings.load(self.store).generation, self._models
        )
        window.modes.addWidget(self.pane)
        window.menu_actions.compare_mode.triggered.connect(self.show)
        window.chat_pane.compare_requested.connect(self._on_chat_pane_compare_requested)

    def _engine_factory(self, model: str) -> EngineFactory:
        """A loader of `model` for a scheduler of its own, on the provider the settings name."""
        make = self.window.services.engine_factory
        assert make is not None
        settings = AppSettings.load(self.store)
        return make(model, settings.provider, (settings.speedup, settings.draft_model))

    def _models(self) -> list[ModelChoice]:
        """The models on this computer. A server's models take part only as the model in use:
        text goes to a server once the user has allowed it, which the model picker asks."""
        is_remote = self.window.model_picker.is_remote
        return [model for model in self.window.services.list_models() if not is_remote(model.id)]

    @property
    def active(self) -> bool:
        return self.window.modes.currentWidget() is self.pane

    @Slot()
    def show(self) -> None:
        self.window.leave_mode(self.pane)
        self.window.modes.setCurrentWidget(self.pane)
        self.window.menu_actions.show_mode("compare")
        self.pane.refresh()
        self.pane.prompt.setFocus()

    def leave(self) -> None:
        self.pane.leave()

    def shutdown(self) -> None:
        self.pane.shutdown()

    @Slot(str)
    @reports_problems(QT_TRANSLATE_NOOP("Problems", "Could not send the message to Compare"))
    def _on_chat_pane_compare_requested(self, message_id: str) -> None:
        found = prompt_from_message(self.store, message_id)
        self.show()
        self.pane.set_prompt(found.prompt, found.system_prompt, found.message_id)
