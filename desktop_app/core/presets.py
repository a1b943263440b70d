"""System-prompt presets for chats and templates for drafts (resources/prompts/).

The English files hold every preset and template; resources/prompts/<language>/ holds the
same ids translated. Each text field a translation lacks stays English, so a stored chat's
preset id means the same preset in every language.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from desktop_app.core import i18n
from desktop_app.core.paths import resources_dir

PRESETS_FILE = "system_presets.json"
TEMPLATES_FILE = "draft_templates.json"


@dataclass(frozen=True)
class Preset:
    id: str
    name: str
    system_prompt: str
    temperature: float


def load_presets(path: Path | None = None) -> list[Preset]:
    path = path or resources_dir() / "prompts" / PRESETS_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        Preset(str(p["id"]), str(p["name"]), str(p["system_prompt"]), float(p["temperature"])) for p in data["presets"]
    ]


def system_presets(language: str | None = None) -> tuple[Preset, ...]:
    """The presets in `language` (None: the window's), English where it has no translation."""
    return _system_presets(language or i18n.language())


@cache
def _system_presets(language: str) -> tuple[Preset, ...]:
    return _translated(load_presets(), language, PRESETS_FILE, "presets", ("name", "system_prompt"))


@dataclass(frozen=True)
class DraftTemplate:
    id: str
    name: str
    title: str
    body: str  # with [bracketed] placeholders
    instruction: str  # what to ask the co-writer for, offered with the new draft


def load_templates(path: Path | None = None) -> list[DraftTemplate]:
    path = path or resources_dir() / "prompts" / TEMPLATES_FILE
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        DraftTemplate(str(t["id"]), str(t["name"]), str(t["title"]), str(t["body"]), str(t["instruction"]))
        for t in data["templates"]
    ]


def draft_templates(language: str | None = None) -> tuple[DraftTemplate, ...]:
    """The templates in `language` (None: the window's), English where it has no translation."""
    return _draft_templates(language or i18n.language())


@cache
def _draft_templates(language: str) -> tuple[DraftTemplate, ...]:
    return _translated(
        load_templates(), language, TEMPLATES_FILE, "templates", ("name", "title", "body", "instruction")
    )


Item = TypeVar("Item", Preset, DraftTemplate)


def _translated(english: list[Item], language: str, file: str, key: str, fields: tuple[str, ...]) -> tuple[Item, ...]:
    """`english` in the English order and with its ids, each of `fields` replaced by its text
    in resources/prompts/<language>/<file> where that has one (not empty)."""
    path = resources_dir() / "prompts" / language / file
    if language == i18n.ENGLISH or not path.is_file():
        return tuple(english)
    entries: dict[str, dict[str, Any]] = {str(e["id"]): e for e in json.loads(path.read_text(encoding="utf-8"))[key]}
    result = []
    for item in english:
        entry = entries.get(item.id, {})
        changes: dict[str, Any] = {f: str(entry[f]) for f in fields if str(entry.get(f) or "").strip()}
        result.append(dataclasses.replace(item, **changes))
    return tuple(result)
