from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from desktop_app.core.errors import UserError
from desktop_app.core.generation import GenerationSettings
from desktop_app.core.manifest import ModelManifest
from desktop_app.core.paths import data_dir, log_dir


def test_settings_round_trip_through_json_and_ignore_unknown_keys() -> None:
    settings = GenerationSettings(temperature=0.3, seed=5, stop_sequences=("###",))
    data = settings.to_dict() | {"from_a_future_version": True}
    assert GenerationSettings.from_dict(data) == settings


def test_data_dir_follows_the_environment_and_is_private(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "inkwell-data"
    monkeypatch.setenv("INKWELL_DATA_DIR", str(target))
    assert data_dir() == target
    assert log_dir() == target / "logs"
    if os.name == "posix":
        assert stat.S_IMODE(target.stat().st_mode) == 0o700
        assert stat.S_IMODE((target / "logs").stat().st_mode) == 0o700


def test_manifest_from_a_newer_inkwell_is_refused() -> None:
    with pytest.raises(UserError, match="newer Inkwell"):
        ModelManifest.from_dict({"format_version": 99})


def test_incomplete_manifest_is_a_user_error(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"id": "x"}')
    with pytest.raises(UserError, match="incomplete"):
        ModelManifest.read(tmp_path)
    (tmp_path / "manifest.json").write_text("{broken")
    with pytest.raises(UserError, match="cannot be read"):
        ModelManifest.read(tmp_path)


def test_manifest_round_trip(tiny_model_dir: Path, tmp_path: Path) -> None:
    manifest = ModelManifest.read(tiny_model_dir)
    manifest.write(tmp_path)
    assert ModelManifest.read(tmp_path) == manifest


def test_english_keeps_this_threads_strings_in_english_and_nests() -> None:
    import threading

    from desktop_app.core import i18n

    i18n.install(lambda context, text: f"[{text}]", "zh_CN")
    try:
        seen: list[str] = []
        with i18n.english():
            seen.append(i18n.translate("Errors", "a"))
            with i18n.english(False):  # a chat request the API batch lets run first
                seen.append(i18n.translate("Errors", "b"))
            seen.append(i18n.translate("Errors", "c"))
            other = threading.Thread(target=lambda: seen.append(i18n.translate("Errors", "d")))
            other.start()
            other.join()
        seen.append(i18n.translate("Errors", "e"))
        assert seen == ["a", "[b]", "c", "[d]", "[e]"]
    finally:
        i18n.install(None)
