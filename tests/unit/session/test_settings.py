"""The settings model: validation shared by the window and `inkwell settings`."""

from __future__ import annotations

import pytest

from desktop_app.core.errors import UserError
from desktop_app.session.settings import DEFAULT_FONT_SIZE, AppSettings, parse_setting, validate_setting
from desktop_app.store import Store


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("provider", "cuda", "cuda"),
        ("theme", "dark", "dark"),
        ("font_size", "14", 14),
        ("model", "my-model:q8", "my-model:q8"),
        ("cowriter_beams", "1", 1),
        ("cowriter_beams", "6", 6),
    ],
)
def test_good_values_are_accepted(key: str, text: str, expected: object) -> None:
    assert parse_setting(key, text) == expected


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("provider", "gpu", "auto, cpu, cuda"),
        ("theme", "purple", "system, light, dark"),
        ("font_size", 100, "8 to 28"),
        ("font_size", True, "whole number"),
        ("cowriter_beams", 0, "1 to 8"),
        ("cowriter_beams", 2.5, "1 to 8"),
        ("generation", {"num_beams": 3, "num_alternatives": 4}, "beam"),
        ("generation", {"temperature": -1}, "temperature"),
        ("generation", "hot", "JSON object"),
        ("colour", "red", "no setting called"),
    ],
)
def test_bad_values_are_refused_with_what_is_allowed(key: str, value: object, message: str) -> None:
    with pytest.raises(UserError, match=message):
        validate_setting(key, value)


def test_hand_edited_values_of_the_wrong_kind_fall_back_to_defaults(store: Store) -> None:
    store.settings.set("theme", "purple")
    store.settings.set("font_size", "huge")
    store.settings.set("generation", {"temperature": 0.2, "top_p": 7})
    store.settings.set("provider", "cpu")
    loaded = AppSettings.load(store)
    assert (loaded.theme, loaded.font_size, loaded.provider) == ("system", DEFAULT_FONT_SIZE, "cpu")
    assert loaded.generation.top_p == 0.95  # the whole bad value is dropped, not half of it
    loaded.save(store)
    assert AppSettings.load(store) == loaded
