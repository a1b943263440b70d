"""The model picker in the toolbar: every installed model and the added servers' models, the
one in use selected; choosing one saves it as the setting and loads it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSize, Signal, Slot
from PySide6.QtWidgets import QComboBox, QSizePolicy, QWidget

from desktop_app.session.settings import ModelChoice
from desktop_app.ui.icons import icon


class ModelPickerWidget(QComboBox):
    model_chosen = Signal(str)  # the model setting: an id, "id:quantization" or "SERVER:MODEL"

    def __init__(
        self,
        list_models: Callable[[], list[ModelChoice]],
        current: Callable[[], str],
        is_remote: Callable[[str], bool] = lambda _setting: False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.list_models = list_models
        self.current = current
        self.is_remote = is_remote
        self.setObjectName("model-picker")
        self.setAccessibleName(self.tr("Model"))
        self.setToolTip(self.tr("The model that writes the replies"))
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.setIconSize(QSize(16, 16))
        self.activated.connect(self._on_activated)
        self.refresh()

    def refresh(self) -> None:
        """List the models again and select the one in use (the servers' as last heard)."""
        chosen = self.current()
        self.blockSignals(True)
        self.clear()
        models = self.list_models()
        for model in models:
            self.addItem(icon("model" if self.is_remote(model.id) else "lock"), model.label, model.id)
        if not models:
            self.addItem(self.tr("No model is installed"), "")
        index = self.findData(chosen) if chosen else 0
        if index < 0 and chosen:  # a server's model not heard from yet: shown, not replaced
            self.addItem(chosen, chosen)
            index = self.count() - 1
        self.setCurrentIndex(max(index, 0))
        self.blockSignals(False)

    def showPopup(self) -> None:
        self.refresh()  # models imported or servers added since
        super().showPopup()

    @Slot(int)
    def _on_activated(self, index: int) -> None:
        setting = self.itemData(index)
        if setting and setting != self.current():
            self.model_chosen.emit(setting)
