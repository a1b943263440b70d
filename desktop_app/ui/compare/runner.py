"""Where Compare's requests run: the model the window uses answers on the window's own
scheduler; any other installed model on a scheduler of its own, loaded when a round first
needs it and stopped when Compare is left or the window closes.

Leaving Compare never waits on the GUI thread: a model still loading cannot stop before its
load returns, so a released scheduler is told to stop, forgets its listeners (nothing is
reported to the window from it any more) and is deleted once its thread has ended. Only
the window's close waits for them."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Slot

from desktop_app.core.errors import UserError
from desktop_app.engine import GenerationRequest
from desktop_app.session.compare import CURRENT_MODEL
from desktop_app.session.scheduler import EngineFactory, EngineInfo, Source
from desktop_app.ui.generation import QtHandle, QtScheduler

log = logging.getLogger(__name__)
REAP_INTERVAL_MS = 200  # how often released schedulers are checked for a thread that ended


class CompareRunner(QObject):
    """Submits a contestant's request to the scheduler of its model."""

    def __init__(
        self,
        main: QtScheduler,
        current_model: Callable[[], str],
        engine_factory: Callable[[str], EngineFactory] | None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.main = main
        self.current_model = current_model
        self.engine_factory = engine_factory  # model setting -> a loader for its thread
        self.extra: dict[str, QtScheduler] = {}  # model setting -> its own scheduler
        self.stopping: list[QtScheduler] = []  # released, their thread not ended yet
        self._reaper = QTimer(self)
        self._reaper.setInterval(REAP_INTERVAL_MS)
        self._reaper.timeout.connect(self._on_reaper_timeout)

    def uses_main(self, model: str) -> bool:
        return model in (CURRENT_MODEL, self.current_model())

    def scheduler_for(self, model: str) -> QtScheduler:
        """The window's scheduler for the model in use; for another, its own (started now)."""
        if self.uses_main(model):
            return self.main
        scheduler = self.extra.get(model)
        if scheduler is None:
            if self.engine_factory is None:
                raise UserError(self.tr("Only the model in use can be compared here."))
            scheduler = QtScheduler(self.engine_factory(model), self)
            self.extra[model] = scheduler
            log.info("Compare: loading %s beside the model in use", model)
            scheduler.start()
        return scheduler

    def submit(self, model: str, request: GenerationRequest) -> QtHandle:
        return self.scheduler_for(model).submit(request, Source.COMPARE)

    def info(self, model: str) -> EngineInfo | None:
        """The loaded model that answers for `model` (None while it loads or if it failed)."""
        scheduler = self.main if self.uses_main(model) else self.extra.get(model)
        return scheduler.scheduler.info if scheduler is not None else None

    def loading(self, model: str) -> bool:
        scheduler = self.main if self.uses_main(model) else self.extra.get(model)
        return scheduler is not None and scheduler.scheduler.info is None

    def release(self, keep: set[str] | frozenset[str] = frozenset()) -> None:
        """Stop the models' own schedulers except those of `keep` (a stopping request ends
        within a token; its handle reports how it ended), without waiting for them."""
        for model in [m for m in self.extra if m not in keep or self.uses_main(m)]:
            scheduler = self.extra.pop(model)
            scheduler.scheduler.model_listeners.clear()
            scheduler.scheduler.shutdown(timeout_s=0)
            self.stopping.append(scheduler)
            log.info("Compare: unloading %s", model)
        self._on_reaper_timeout()

    def shutdown(self, timeout_s: float = 10.0) -> None:
        """The window closes: stop every model of Compare and wait for their threads."""
        self.release()
        for scheduler in self.stopping:
            scheduler.shutdown(timeout_s)
        self._on_reaper_timeout()

    @Slot()
    def _on_reaper_timeout(self) -> None:
        ended = [s for s in self.stopping if not s.is_running]
        for scheduler in ended:
            self.stopping.remove(scheduler)
            scheduler.deleteLater()
        if self.stopping and not self._reaper.isActive():
            self._reaper.start()
        elif not self.stopping:
            self._reaper.stop()

    @property
    def running(self) -> list[QtScheduler]:
        """The models' own schedulers whose thread still runs, released ones included
        (tests: none once they have stopped)."""
        return [s for s in [*self.extra.values(), *self.stopping] if s.is_running]
