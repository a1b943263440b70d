"""System-prompt presets for chats and templates for drafts (resources/prompts/)."""

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


@dataclass(frozen=True)
class DraftTemplate:
    id: str
    name: str
    title: str
    body: str  # with [bracketed] placeholders
    instruction: str  # what to ask the co-writer for, offered with the new draft


def load_templates(path: Path | None = None) -> list[DraftTemplate]:
    path = path or resources_dir() / "prompts" / "draft_templates.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        DraftTemplate(str(t["id"]), str(t["name"]), str(t["title"]), str(t["body"]), str(t["instruction"]))
        for t in data["templates"]
    ]


@cache
def draft_templates() -> tuple[DraftTemplate, ...]:
    return tuple(load_templates())
