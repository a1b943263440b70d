"""The app's settings: what each one may be, how it is read with safe fallbacks, and the
validation that the window and `inkwell settings` share."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from desktop_app.core.errors import UserError
from desktop_app.core.generation import GenerationSettings
from desktop_app.store import Store

PROVIDERS = {
    "auto": "Automatic (the NVIDIA GPU when it can be used)",
    "cpu": "CPU",
    "cuda": "NVIDIA GPU (CUDA)",
}
THEMES = {"system": "Follow the system", "light": "Light", "dark": "Dark"}
DEFAULT_FONT_SIZE = 11
FONT_SIZES = range(8, 29)


@dataclass(frozen=True)
class ModelChoice:
    """A model the user can pick: the setting's value and how it is shown."""

    id: str
    label: str


def _check_model(value: Any) -> str:
    if not isinstance(value, str):
        raise UserError("The model must be a model id (see: inkwell models list), or empty for the default.")
    return value


def _check_choice(name: str, choices: dict[str, str]) -> Any:
    def check(value: Any) -> str:
        if value not in choices:
            raise UserError(f"The {name} must be one of: {', '.join(choices)}.")
        return str(value)

    return check


def _check_font_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in FONT_SIZES:
        raise UserError(f"The font size must be a whole number from {FONT_SIZES.start} to {FONT_SIZES.stop - 1}.")
    return value


def _check_generation(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UserError('The generation defaults must be a JSON object, e.g. {"temperature": 0.7}.')
    try:
        return GenerationSettings.from_dict(GenerationSettings().to_dict() | value).to_dict()
    except (TypeError, ValueError) as exc:
        raise UserError(f"Invalid generation setting: {exc}.") from exc


VALIDATORS = {
    "model": _check_model,
    "provider": _check_choice("provider", PROVIDERS),
    "theme": _check_choice("theme", THEMES),
    "font_size": _check_font_size,
    "generation": _check_generation,
}


def validate_setting(key: str, value: Any) -> Any:
    """The value to store for `key`, or a UserError saying what is allowed."""
    check = VALIDATORS.get(key)
    if check is None:
        raise UserError(f"There is no setting called {key!r}.", hint=f"The settings are: {', '.join(VALIDATORS)}.")
    return check(value)


def parse_setting(key: str, text: str) -> Any:
    """A value typed on the command line: JSON where it parses, else the plain text."""
    try:
        value = json.loads(text)
    except ValueError:
        value = text
    return validate_setting(key, value)


@dataclass(frozen=True)
class AppSettings:
    model: str  # "" means the default model
    provider: str
    theme: str
    font_size: int
    generation: GenerationSettings

    @classmethod
    def load(cls, store: Store) -> AppSettings:
        """The stored settings; a hand-edited value of the wrong kind falls back to its default."""

        def read(key: str, default: Any) -> Any:
            try:
                return validate_setting(key, store.settings.get(key, default))
            except UserError:
                return default

        return cls(
            read("model", ""),
            read("provider", "auto"),
            read("theme", "system"),
            read("font_size", DEFAULT_FONT_SIZE),
            GenerationSettings.from_dict(read("generation", {}) or {}),
        )

    def save(self, store: Store) -> None:
        with store.transaction():
            store.settings.set("model", self.model)
            store.settings.set("provider", self.provider)
            store.settings.set("theme", self.theme)
            store.settings.set("font_size", self.font_size)
            store.settings.set("generation", self.generation.to_dict())
