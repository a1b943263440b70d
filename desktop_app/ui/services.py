"""What the window needs from the rest of the app, passed in by the composition root."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication

from desktop_app.core.presets import DraftTemplate, Preset
from desktop_app.models.registry import InstalledModel, ModelRegistry
from desktop_app.session.servers import ServerRegistry
from desktop_app.session.settings import ModelChoice, ServerSettings
from desktop_app.ui.first_run import Prepare, Progress


@dataclass
class WindowServices:
    """What the window needs from the rest of the app, passed in by the composition root."""

    presets: tuple[Preset, ...] = ()
    templates: tuple[DraftTemplate, ...] = ()
    list_models: Callable[[], list[ModelChoice]] = list
    # (model setting, provider, (speed-up, draft model)) -> a loader for the generation thread
    engine_factory: Callable[[str, str, tuple[str, str]], Callable[[], Any]] | None = None
    prepare_default_model: Prepare | None = None
    # (model setting) -> the installed models that can be its draft (Settings › Speed-up)
    drafts: Callable[[str], list[ModelChoice]] = lambda _model: []
    # The models page: what is installed, which one is used when the settings name none
    # (or one that is gone), deleting, and importing a file or folder with progress and cancel.
    installed_models: Callable[[], list[InstalledModel]] = list
    default_model_id: Callable[[str | None], str | None] = lambda preferred: preferred
    delete_model: Callable[[str], None] = lambda model_id: None
    import_model: Callable[[Path, Progress, threading.Event], Path] | None = None
    # Where the library's search finds its embedding model (None: it searches by words only).
    model_registry: ModelRegistry | None = None
    # Remote model servers (Settings › Model servers, and the consent asked before first use).
    servers: ServerRegistry | None = None
    data_folder: Path = field(default_factory=Path.home)
    # Already translated: made when the services are, after the language is installed.
    log_hint: str = field(
        default_factory=lambda: QCoreApplication.translate("WindowServices", "Details are in the log.")
    )
    # The local API server: (scheduler, ServerSettings, key, on_request(count)) -> a running
    # server with .url, .requests_served and .stop(); None where the app has none (tests).
    # (scheduler, settings, key, on_request(count), on_saved(conversation id)) -> the server
    start_api_server: Callable[[Any, ServerSettings, str, Callable[[int], None], Callable[[str], None]], Any] | None = (
        None
    )
