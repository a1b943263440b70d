"""The chat presets and draft templates, and their translations."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from desktop_app.core import i18n, presets
from desktop_app.core.paths import resources_dir
from desktop_app.core.presets import draft_templates, system_presets

PLACEHOLDER = re.compile(r"\[[^\[\]\n]+\]")  # what "Fill in the [brackets]" asks the user to replace


def placeholders(text: str) -> list[str]:
    return PLACEHOLDER.findall(text)


def test_every_preset_has_a_chinese_translation_with_the_same_id() -> None:
    english, chinese = system_presets("en"), system_presets("zh_CN")
    assert [p.id for p in chinese] == [p.id for p in english]
    for en, zh in zip(english, chinese, strict=True):
        assert i18n.is_chinese(zh.name) and i18n.is_chinese(zh.system_prompt), en.id
        assert zh.temperature == en.temperature


def test_every_template_has_a_chinese_translation_with_its_placeholders() -> None:
    english, chinese = draft_templates("en"), draft_templates("zh_CN")
    assert [t.id for t in chinese] == [t.id for t in english]
    for en, zh in zip(english, chinese, strict=True):
        for field in ("name", "title", "body", "instruction"):
            assert i18n.is_chinese(getattr(zh, field)), (en.id, field)
        for field in ("title", "body"):
            found = placeholders(getattr(zh, field))
            assert found and all(i18n.is_chinese(p) for p in found), (en.id, field)
            assert len(found) == len(placeholders(getattr(en, field))), (en.id, field)
        assert zh.body.count("[") == zh.body.count("]") == len(placeholders(zh.body))


def test_a_language_without_translations_gets_english() -> None:
    assert system_presets("fr") == system_presets("en")
    assert draft_templates("fr") == draft_templates("en")
    assert system_presets("en")[0].name == "Plain assistant"


def test_the_windows_language_is_the_default_and_each_is_cached_apart() -> None:
    assert system_presets() is system_presets("en")
    i18n.install(lambda _context, text: text, "zh_CN")
    try:
        assert system_presets() is system_presets("zh_CN")
        assert draft_templates()[0].name == "客服回复"
    finally:
        i18n.install(None)
    assert draft_templates()[0].name == "Customer-service reply"


def test_an_id_or_field_missing_from_a_translation_stays_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "prompts" / "xx").mkdir(parents=True)
    for name in (presets.PRESETS_FILE, presets.TEMPLATES_FILE):
        (tmp_path / "prompts" / name).write_bytes((resources_dir() / "prompts" / name).read_bytes())
    (tmp_path / "prompts" / "xx" / presets.PRESETS_FILE).write_text(
        '{"presets": [{"id": "tutor", "name": "Tuteur", "system_prompt": ""}, {"id": "new", "name": "Nouveau"}]}',
        encoding="utf-8",
    )
    monkeypatch.setattr(presets, "resources_dir", lambda: tmp_path)
    translated = presets.load_presets(tmp_path / "prompts" / presets.PRESETS_FILE)
    by_id = {p.id: p for p in presets._system_presets.__wrapped__("xx")}  # uncached
    assert list(by_id) == [p.id for p in translated]  # the English ids, no others
    assert by_id["tutor"].name == "Tuteur"
    assert by_id["tutor"].system_prompt.startswith("You are a patient tutor")  # empty: stays English
    assert by_id["assistant"].name == "Plain assistant"
