"""One contestant as the user sets it up: a model and how it decodes (a preset, or its own
temperature and beam width)."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Signal, Slot
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox, QSpinBox, QWidget

from desktop_app.core.generation import GenerationSettings
from desktop_app.session.compare import CURRENT_MODEL, PRESETS, Contestant, contestant_settings, preset_settings
from desktop_app.session.settings import ModelChoice

MAX_BEAMS = 16


def _decoding(settings: GenerationSettings) -> tuple[float, int]:
    return settings.temperature, settings.num_beams


class ContestantWidget(QGroupBox):
    changed = Signal()

    def __init__(self, title: str, preset: int = 0, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self.base = GenerationSettings()  # the app's settings, which a contestant changes
        self.model_combo = QComboBox()
        self.model_combo.setAccessibleName(self.tr("{contestant}: model").format(contestant=title))
        self.model_combo.addItem(self.tr("The model in use"), CURRENT_MODEL)
        self.preset_combo = QComboBox()
        self.preset_combo.setAccessibleName(self.tr("{contestant}: preset").format(contestant=title))
        for choice in PRESETS:
            self.preset_combo.addItem(QCoreApplication.translate("Compare", choice.name))
        self.preset_combo.addItem(self.tr("Custom"))
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setDecimals(2)
        self.temperature.setAccessibleName(self.tr("{contestant}: temperature").format(contestant=title))
        self.temperature.setToolTip(self.tr("0 always picks the likeliest word (greedy)"))
        self.beams = QSpinBox()
        self.beams.setRange(1, MAX_BEAMS)
        self.beams.setAccessibleName(self.tr("{contestant}: beams").format(contestant=title))
        self.beams.setToolTip(self.tr("More than 1 searches that many texts at once and keeps the likeliest"))
        form = QFormLayout(self)
        form.addRow(self.tr("Model"), self.model_combo)
        form.addRow(self.tr("Preset"), self.preset_combo)
        form.addRow(self.tr("Temperature"), self.temperature)
        form.addRow(self.tr("Beams"), self.beams)
        self.preset_combo.setCurrentIndex(preset)
        self._apply_preset(preset)
        self.preset_combo.activated.connect(self._on_preset_combo_activated)
        self.temperature.valueChanged.connect(self._on_value_changed)
        self.beams.valueChanged.connect(self._on_value_changed)
        self.model_combo.activated.connect(lambda _index: self.changed.emit())

    def set_models(self, models: list[ModelChoice]) -> None:
        """The installed models after "the model in use"; the choice is kept if still there."""
        chosen = self.model_combo.currentData()
        while self.model_combo.count() > 1:
            self.model_combo.removeItem(1)
        for model in models:
            self.model_combo.addItem(model.label, model.id)
        index = self.model_combo.findData(chosen)
        self.model_combo.setCurrentIndex(max(index, 0))

    def set_base(self, base: GenerationSettings) -> None:
        """The app's generation settings (the "Default" preset's temperature comes from them)."""
        self.base = base
        if self.preset_combo.currentIndex() < len(PRESETS):
            self._apply_preset(self.preset_combo.currentIndex())

    def choose(self, model: str | None = None, preset: int | None = None) -> None:
        if model is not None:
            self.model_combo.setCurrentIndex(max(self.model_combo.findData(model), 0))
        if preset is not None:
            self.preset_combo.setCurrentIndex(preset)
            self._apply_preset(preset)

    def contestant(self) -> Contestant:
        settings = contestant_settings(self.base, round(self.temperature.value(), 2), self.beams.value())
        return Contestant(str(self.model_combo.currentData() or CURRENT_MODEL), settings)

    @Slot(int)
    def _on_preset_combo_activated(self, index: int) -> None:
        self._apply_preset(index)
        self.changed.emit()

    def _apply_preset(self, index: int) -> None:
        if index >= len(PRESETS):
            return
        settings = preset_settings(self.base, PRESETS[index])
        for box, value in ((self.temperature, settings.temperature), (self.beams, settings.num_beams)):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        self.temperature.setEnabled(settings.num_beams == 1)

    @Slot()
    def _on_value_changed(self) -> None:
        """Values of the user's own: the preset they match, else "Custom"."""
        self.temperature.setEnabled(self.beams.value() == 1)
        current = contestant_settings(self.base, round(self.temperature.value(), 2), self.beams.value())
        matching = [i for i, p in enumerate(PRESETS) if _decoding(preset_settings(self.base, p)) == _decoding(current)]
        self.preset_combo.setCurrentIndex(matching[0] if matching else len(PRESETS))
        self.changed.emit()
