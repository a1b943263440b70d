"""The app's settings: what each one may be, how it is read with safe fallbacks, and the
validation that the window and `inkwell settings` share."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from desktop_app.core.errors import UserError
from desktop_app.core.generation import GenerationSettings
from desktop_app.core.i18n import marked, translate
from desktop_app.store import Store

# The labels are shown translated: translate("Settings", label).
PROVIDERS = {
    "auto": marked("Settings", "Automatic (the NVIDIA GPU when it can be used)"),
    "cpu": marked("Settings", "CPU"),
    "cuda": marked("Settings", "NVIDIA GPU (CUDA)"),
}
THEMES = {
    "system": marked("Settings", "Follow the system"),
    "light": marked("Settings", "Light"),
    "dark": marked("Settings", "Dark"),
}
# The window's language: each named in itself, so anyone can find their own.
LANGUAGE_CHOICES = {"system": marked("Settings", "Follow the system"), "en": "English", "zh_CN": "简体中文"}
# Settings › Model › Speed-up: speculative decoding (engine/speculation.py).
SPEEDUPS = {
    "auto": marked("Settings", "Automatic (lookup, and the draft model if one is chosen)"),
    "lookup": marked("Settings", "Lookup only"),
    "off": marked("Settings", "Off"),
}
DEFAULT_FONT_SIZE = 11
FONT_SIZES = range(8, 29)
DEFAULT_COWRITER_BEAMS = 4
MAX_COWRITER_BEAMS = 8


@dataclass(frozen=True)
class ModelChoice:
    """A model the user can pick: the setting's value and how it is shown."""

    id: str
    label: str


def _check_model(value: Any) -> str:
    if not isinstance(value, str):
        raise UserError(
            translate("Errors", "The model must be a model id (see: inkwell models list), or empty for the default.")
        )
    return value


def _check_choice(name: str, choices: dict[str, str]) -> Any:
    def check(value: Any) -> str:
        if value not in choices:
            raise UserError(
                translate("Errors", "The {name} must be one of: {choices}.").format(
                    name=name, choices=", ".join(choices)
                )
            )
        return str(value)

    return check


def _check_font_size(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in FONT_SIZES:
        raise UserError(
            translate("Errors", "The font size must be a whole number from {low} to {high}.").format(
                low=FONT_SIZES.start, high=FONT_SIZES.stop - 1
            )
        )
    return value


def _check_generation(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UserError(
            translate("Errors", 'The generation defaults must be a JSON object, e.g. {"temperature": 0.7}.')
        )
    try:
        return GenerationSettings.from_dict(GenerationSettings().to_dict() | value).to_dict()
    except (TypeError, ValueError) as exc:
        raise UserError(translate("Errors", "Invalid generation setting: {error}.").format(error=exc)) from exc


# The local API server (desktop_app.server): off until switched on, loopback only unless
# the network is allowed, no CORS unless origins are listed, API requests not saved.
DEFAULT_SERVER_PORT = 8750
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")


def _check_beams(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_COWRITER_BEAMS:
        raise UserError(
            translate("Errors", "The co-writer's beams must be a whole number from 1 to {most}.").format(
                most=MAX_COWRITER_BEAMS
            )
        )
    return value


def _check_bool(name: str) -> Any:
    def check(value: Any) -> bool:
        if not isinstance(value, bool):
            raise UserError(translate("Errors", "The {name} setting must be true or false.").format(name=name))
        return value

    return check


def _check_port(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise UserError(translate("Errors", "The server port must be a whole number from 1 to 65535."))
    return value


def _check_origins(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [part for part in re.split(r"[\s,]+", value) if part]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UserError(
            translate("Errors", 'The CORS origins must be a list of origins, e.g. ["http://localhost:3000"].')
        )
    bad = [v for v in value if not _ORIGIN.match(v.rstrip("/"))]
    if bad:
        raise UserError(
            translate("Errors", "Not an origin: {origin}.").format(origin=repr(bad[0])),
            hint=translate("Errors", "An origin is a scheme and a host, e.g. http://localhost:3000."),
        )
    return [v.rstrip("/") for v in value]


def _check_api_key(value: Any) -> str:
    if not isinstance(value, str) or len(value) < 16 or any(c.isspace() for c in value):
        raise UserError(translate("Errors", "The API key must be at least 16 characters, without spaces."))
    return value


VALIDATORS = {
    "model": _check_model,
    "provider": _check_choice("provider", PROVIDERS),
    "theme": _check_choice("theme", THEMES),
    "font_size": _check_font_size,
    "language": _check_choice("language", LANGUAGE_CHOICES),
    "cowriter_beams": _check_beams,
    "export_reasoning": _check_bool("export_reasoning"),
    "speedup": _check_choice("speedup", SPEEDUPS),
    "draft_model": _check_model,
    "generation": _check_generation,
    "server_enabled": _check_bool("server_enabled"),
    "server_port": _check_port,
    "server_allow_network": _check_bool("server_allow_network"),
    "server_cors_origins": _check_origins,
    "server_save_history": _check_bool("server_save_history"),
    "server_api_key": _check_api_key,
}


def validate_setting(key: str, value: Any) -> Any:
    """The value to store for `key`, or a UserError saying what is allowed."""
    check = VALIDATORS.get(key)
    if check is None:
        raise UserError(
            translate("Errors", "There is no setting called {key}.").format(key=repr(key)),
            hint=translate("Errors", "The settings are: {keys}.").format(keys=", ".join(VALIDATORS)),
        )
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
    language: str = "system"  # "system", "en" or "zh_CN"; applied at the next start
    # Beams for the co-writer's Fix grammar, Shorten and Translate (1: sample and stream instead).
    cowriter_beams: int = DEFAULT_COWRITER_BEAMS
    export_reasoning: bool = False  # exports carry thinking models' reasoning (left out unless asked)
    speedup: str = "auto"  # speculative decoding: "auto", "lookup" or "off"
    draft_model: str = ""  # the model that proposes tokens in "auto" ("" for none)

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
            read("language", "system"),
            read("cowriter_beams", DEFAULT_COWRITER_BEAMS),
            read("export_reasoning", False),
            read("speedup", "auto"),
            read("draft_model", ""),
        )

    def save(self, store: Store) -> None:
        with store.transaction():
            store.settings.set("model", self.model)
            store.settings.set("provider", self.provider)
            store.settings.set("theme", self.theme)
            store.settings.set("font_size", self.font_size)
            store.settings.set("generation", self.generation.to_dict())
            store.settings.set("language", self.language)
            store.settings.set("cowriter_beams", self.cowriter_beams)
            store.settings.set("export_reasoning", self.export_reasoning)
            store.settings.set("speedup", self.speedup)
            store.settings.set("draft_model", self.draft_model)


@dataclass(frozen=True)
class ServerSettings:
    """The local API server's settings (its key is read with `api_key()`)."""

    enabled: bool = False
    port: int = DEFAULT_SERVER_PORT
    allow_network: bool = False
    cors_origins: tuple[str, ...] = ()
    save_history: bool = False

    @classmethod
    def load(cls, store: Store) -> ServerSettings:
        def read(key: str, default: Any) -> Any:
            stored = store.settings.value(key)
            try:
                return default if stored is None else validate_setting(key, stored)
            except UserError:
                return default

        return cls(
            read("server_enabled", False),
            read("server_port", DEFAULT_SERVER_PORT),
            read("server_allow_network", False),
            tuple(read("server_cors_origins", [])),
            read("server_save_history", False),
        )

    def save(self, store: Store) -> None:
        with store.transaction():
            store.settings.set("server_enabled", self.enabled)
            store.settings.set("server_port", self.port)
            store.settings.set("server_allow_network", self.allow_network)
            store.settings.set("server_cors_origins", list(self.cors_origins))
            store.settings.set("server_save_history", self.save_history)


def new_api_key() -> str:
    return "inkwell-" + secrets.token_urlsafe(32)


def api_key(store: Store) -> str:
    """The API server's bearer key: the stored one, else a new one, stored now."""
    try:
        return str(validate_setting("server_api_key", store.settings.value("server_api_key")))
    except UserError:
        return regenerate_api_key(store)


def regenerate_api_key(store: Store) -> str:
    """A new key replaces the old one (clients that used the old one are refused from now on)."""
    key = new_api_key()
    store.settings.set("server_api_key", key)
    return key
