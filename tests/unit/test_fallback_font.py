"""The bundled fallback font for Simplified Chinese (resources/fonts/, cut by packaging/cjk_font.py)
loads in Qt and draws the base set and every character of every <translation>.

Coverage is asked of Qt itself (QRawFont reads the font's cmap as the window will), so the test
needs no fontTools. When a translation gains a character the font lacks, regenerate the font:
`python packaging/cjk_font.py`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest
from PySide6.QtGui import QFontDatabase, QRawFont
from PySide6.QtWidgets import QApplication

ROOT = Path(__file__).resolve().parents[2]
FONTS = ROOT / "resources" / "fonts"
FONT = FONTS / "InkwellFallbackSC.otf"
TRANSLATIONS = ROOT / "resources" / "translations"
MAX_BYTES = 2_500_000  # a frozen app carries it; more characters belong in a system font


@pytest.fixture(scope="module")
def cjk_font() -> ModuleType:
    spec = importlib.util.spec_from_file_location("cjk_font", ROOT / "packaging" / "cjk_font.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while it loads
    spec.loader.exec_module(module)
    return module


def missing_from_font(chars: set[str]) -> list[str]:
    raw = QRawFont(str(FONT), 16)
    assert raw.isValid(), f"Qt cannot read {FONT}"
    # The code point, not the str: PySide6 6.11 turns a str into a QChar wrongly for many
    # characters (supportsCharacter("界") is False where supportsCharacter(0x754C) is True).
    return [f"U+{ord(c):04X} {c}" for c in sorted(chars) if not raw.supportsCharacter(ord(c))]


def test_the_font_registers_under_its_own_family(qapp: QApplication, cjk_font: ModuleType) -> None:
    font_id = QFontDatabase.addApplicationFont(str(FONT))
    assert font_id != -1, f"QFontDatabase refused {FONT}"
    try:
        assert QFontDatabase.applicationFontFamilies(font_id) == [cjk_font.FAMILY]
    finally:
        QFontDatabase.removeApplicationFont(font_id)


def test_the_font_ships_small_with_its_license_and_readme() -> None:
    assert FONT.stat().st_size < MAX_BYTES
    assert "SIL Open Font License" in (FONTS / "OFL.txt").read_text(encoding="utf-8")
    assert "python packaging/cjk_font.py" in (FONTS / "README.md").read_text(encoding="utf-8")


def test_the_font_draws_the_base_set(qapp: QApplication, cjk_font: ModuleType) -> None:
    assert len(cjk_font.TGH_LEVEL1) == len(set(cjk_font.TGH_LEVEL1)) == 3500
    base = cjk_font.base_characters()
    assert set("你好，世界 Inkwell 设置 模型《》") <= base
    assert missing_from_font(base) == []
    assert missing_from_font({"體", "鬱"}) == ["U+9AD4 體", "U+9B31 鬱"]  # traditional forms: the check can fail


def test_the_font_draws_every_character_of_every_translation(qapp: QApplication, cjk_font: ModuleType) -> None:
    """Before any .ts file or translation exists this checks the base set again: nothing is skipped."""
    translated = cjk_font.translation_characters(TRANSLATIONS)
    missing = missing_from_font(translated | cjk_font.base_characters())
    files = [f.name for f in sorted(TRANSLATIONS.glob("*.ts"))]
    assert missing == [], f"the fallback font lacks {missing} (used in {files}): run `python packaging/cjk_font.py`"


def test_translation_characters_reads_every_form_of_translation(tmp_path: Path, cjk_font: ModuleType) -> None:
    (tmp_path / "inkwell_zh_CN.ts").write_text(
        """<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="zh_CN">
<context>
    <name>MainWindow</name>
    <message>
        <source>&amp;Settings</source>
        <translation>设置(&amp;S)</translation>
    </message>
    <message>
        <source>Draft</source>
        <translation type="unfinished">草稿</translation>
    </message>
    <message numerus="yes">
        <source>%n chat(s)</source>
        <translation><numerusform>%n 个对话</numerusform></translation>
    </message>
    <message>
        <source>Two lines</source>
        <translation>第一行
第二行</translation>
    </message>
</context>
</TS>
""",
        encoding="utf-8",
    )
    chars = cjk_font.translation_characters(tmp_path)
    assert set("设置(&S)草稿%n个对话第一行二") <= chars
    assert "\n" not in chars
    assert not set("etigDrafTwol") & chars  # the <source>s are not read
