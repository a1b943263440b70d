"""The model as the window shows it: loading it in the background, the status bar's label,
first-run preparation, reloading after a settings change, and a failure explained."""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from desktop_app.session.scheduler import EngineInfo
from desktop_app.session.settings import AppSettings
from desktop_app.store import Store
from desktop_app.ui.first_run import FirstRunDialog
from desktop_app.ui.generation import QtScheduler
from desktop_app.ui.services import WindowServices
from desktop_app.ui.status import StatusReporter


class ModelStatus(QObject):
    engine_changed = Signal(object)  # EngineInfo, or None while (re)loading or after a failure
    model_ready = Signal()
    model_unavailable = Signal(str)

    def __init__(
        self,
        scheduler: QtScheduler,
        store: Store,
        services: WindowServices,
        reporter: StatusReporter,
        window: QWidget,
    ) -> None:
        super().__init__(window)
        self.scheduler = scheduler
        self.store = store
        self.services = services
        self.reporter = reporter
        self.window = window
        self.engine_info: EngineInfo | None = None
        self.first_run_dialog: FirstRunDialog | None = None
        self.label = QLabel(self.tr("Loading the model…"))
        scheduler.model_loaded.connect(self._on_scheduler_model_loaded)
        scheduler.model_failed.connect(self._on_scheduler_model_failed)

    def start(self) -> None:
        """Load the model on the generation thread, or, when none is prepared, offer to prepare it."""
        if self.ensure_remote_consent():
            self.reload()  # the loader was built before the user allowed the server
        elif not self.services.list_models() and self.services.prepare_default_model is not None:
            self.label.setText(self.tr("No model prepared"))
            self.offer_preparation()
        else:
            self.scheduler.start()

    @Slot()
    def offer_preparation(self) -> None:
        if self.services.prepare_default_model is None:
            self.reporter.problem(self.tr("Preparing models"), self.tr("This build of Inkwell cannot prepare models."))
            return
        dialog = FirstRunDialog(self.services.prepare_default_model, self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._on_first_run_dialog_accepted)
        dialog.finished.connect(self._on_first_run_dialog_finished)
        self.first_run_dialog = dialog
        dialog.open()

    @Slot(int)
    def _on_first_run_dialog_finished(self, _result: int) -> None:
        self.first_run_dialog = None

    @Slot()
    def _on_first_run_dialog_accepted(self) -> None:
        self.reporter.show(self.tr("The model is ready."), 5000)
        self.reload()

    def reload(self) -> None:
        """Load the model the settings name (a model just prepared, another provider)."""
        if self.services.engine_factory is None:
            self.scheduler.reload()
        else:
            self.ensure_remote_consent()
            chosen = AppSettings.load(self.store)
            speedup = (chosen.speedup, chosen.draft_model)
            self.scheduler.reload(self.services.engine_factory(chosen.model, chosen.provider, speedup))
        self.engine_info = None
        self.engine_changed.emit(None)
        self.label.setText(self.tr("Loading the model…"))

    def ensure_remote_consent(self) -> bool:
        """When the settings name a remote model whose server was never allowed, ask once;
        True when the user has just allowed it."""
        servers = self.services.servers
        found = servers.split_ref(AppSettings.load(self.store).model) if servers is not None else None
        if servers is None or found is None or found[0].consented:
            return False
        if not self.ask_remote_consent(found[0].name, found[0].host):
            self.reporter.show(self.tr("Nothing was sent to {host}.").format(host=found[0].host), 8000)
            return False
        servers.allow(found[0].name)
        return True

    def ask_remote_consent(self, name: str, host: str) -> bool:
        """Ask before the first use of a server (tests replace it)."""
        answer = QMessageBox.question(
            self.window,
            self.tr("Use a model server"),
            self.tr(
                "The model you chose runs on {name} ({host}).\n\nThe text of your chats and drafts that use it "
                "will be sent to {host}. Inkwell asks this once per server.\n\nAllow it?"
            ).format(name=name, host=host),
        )
        return answer == QMessageBox.StandardButton.Yes

    @Slot(object)
    def _on_scheduler_model_loaded(self, info: EngineInfo) -> None:
        self.engine_info = info
        text = self.tr("{model} ({quantization}) on {provider}").format(
            model=info.model_name, quantization=info.quantization, provider=info.provider
        )
        if info.base_model:
            text += self.tr(" · base model: it continues text")
        if info.gpu_idle:  # say it plainly: a GPU owner expects it to be used
            text += self.tr(" · your NVIDIA GPU is not used (hover for why)")
            self.reporter.show(
                self.tr("Your NVIDIA GPU is not used: {reason}").format(reason=info.provider_reason), 15_000
            )
        self.label.setText(text)
        self.label.setToolTip("\n".join(line for line in (info.provider_reason, info.speedup) if line))
        self.engine_changed.emit(info)
        self.model_ready.emit()

    @Slot(str)
    def _on_scheduler_model_failed(self, text: str) -> None:
        self.engine_info = None
        self.engine_changed.emit(None)
        self.label.setText(self.tr("No model loaded"))
        self.model_unavailable.emit(text)
        self.reporter.problem(
            self.tr("The model could not be loaded"),
            self.tr("{reason}\n\nChoose another model or run on the CPU in Settings (Ctrl+,).").format(reason=text),
        )
