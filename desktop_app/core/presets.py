"""System-prompt presets for the everyday jobs (resources/prompts/system_presets.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from desktop_app.core.paths import resources_dir


@dataclass(frozen=True)
class Preset:
    id: str
    name: str
    system_prompt: str
    temperature: float


def load_presets(path: Path | None = None) -> list[Preset]:
    path = path or resources_dir() / "prompts" / "system_presets.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        Preset(str(p["id"]), str(p["name"]), str(p["system_prompt"]), float(p["temperature"])) for p in data["presets"]
    ]


@cache
def system_presets() -> tuple[Preset, ...]:
    return tuple(load_presets())
