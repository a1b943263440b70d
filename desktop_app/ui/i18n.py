"""The window's language: Qt's translators for Inkwell's strings and Qt's own, the locale
for dates and numbers, and the lookup the layers below ui/ translate through.

The language follows the system unless the user chose one (Settings › Appearance); a change
takes effect at the next start, as in most desktop apps, because every widget's text is set
once when it is built.
"""

from __future__ import annotations

import logging
from pathlib import Path
from xml.etree import ElementTree

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator
from PySide6.QtGui import QFontDatabase

from desktop_app.core import i18n
from desktop_app.core.paths import resources_dir

log = logging.getLogger(__name__)

# The languages the window can show: code -> its name in itself (what the settings list).
LANGUAGES = {"en": "English", "zh_CN": "简体中文"}
SYSTEM = "system"
_installed: list[QTranslator] = []
_fallback_font: list[str] = []


def translations_dir() -> Path:
    return resources_dir() / "translations"


def resolve_language(choice: str, system: QLocale | None = None) -> str:
    """The language code to show: the user's choice, or for "system" the system's language
    when Inkwell has it (any Chinese but Taiwan's and Hong Kong's gets zh_CN), else English."""
    if choice in LANGUAGES:
        return choice
    locale = system or QLocale.system()
    if locale.language() == QLocale.Language.Chinese and locale.territory() not in (
        QLocale.Country.Taiwan,
        QLocale.Country.HongKong,
        QLocale.Country.Macau,
    ):
        return "zh_CN"
    return "en"


def register_fallback_font() -> None:
    """Make the bundled Chinese font available to Qt's fallback, so a desktop without any CJK
    font still shows the translation and Chinese text (resources/fonts/README.md)."""
    if _fallback_font:
        return
    path = resources_dir() / "fonts" / "InkwellFallbackSC.otf"
    if path.is_file() and QFontDatabase.addApplicationFont(str(path)) >= 0:
        _fallback_font.append(str(path))
    else:
        log.warning("The fallback Chinese font %s could not be loaded", path)


class SourceTranslator(QTranslator):
    """A translation read from its Qt Linguist source (.ts), for an installation that has no
    compiled .qm beside it (`pip install .` from a checkout builds none: `make` compiles
    them). The finished translations only; anything else is left to the source text."""

    def __init__(self, parent: QCoreApplication, path: Path) -> None:
        super().__init__(parent)
        self.table: dict[tuple[str, str], str] = {}
        for context in ElementTree.parse(path).getroot().iter("context"):
            name = context.findtext("name") or ""
            for message in context.iter("message"):
                source, translation = message.findtext("source"), message.find("translation")
                if source is None or translation is None or not translation.text:
                    continue
                if translation.get("type") in ("unfinished", "obsolete", "vanished"):
                    continue
                self.table[(name, source)] = translation.text

    def translate(  # type: ignore[override]
        self, context: str, source_text: str, disambiguation: str | None = None, n: int = -1
    ) -> str | None:
        return self.table.get((context, source_text))  # None: not here (Qt then keeps the source)

    def isEmpty(self) -> bool:
        return not self.table


def _load_ours(app: QCoreApplication, language: str) -> QTranslator | None:
    """Inkwell's translator for `language`: the compiled .qm, else its .ts source."""
    compiled = QTranslator(app)
    if compiled.load(f"inkwell_{language}", str(translations_dir())):
        return compiled
    source = translations_dir() / f"inkwell_{language}.ts"
    if source.is_file():
        try:
            translator = SourceTranslator(app, source)
        except (OSError, ElementTree.ParseError) as exc:
            log.warning("The %s translation %s could not be read: %s", language, source, exc)
            return None
        if not translator.isEmpty():
            log.info("The %s translation is read from its source %s (no .qm compiled)", language, source)
            return translator
    return None


def install_language(app: QCoreApplication, choice: str = SYSTEM) -> str:
    """Load the translators for `choice` ("system", "en", "zh_CN") into `app`, set the default
    locale, and route core.i18n's lookups through Qt. Returns the language code in use; a
    missing translation file is logged and leaves English."""
    for translator in _installed:
        app.removeTranslator(translator)
    _installed.clear()
    language = resolve_language(choice)
    register_fallback_font()
    if language != "en":
        ours = _load_ours(app, language)
        if ours is None:
            log.warning(
                "The %s translation is missing from %s; the window stays in English", language, translations_dir()
            )
            language = "en"
        else:
            app.installTranslator(ours)
            _installed.append(ours)
            qt_own = QTranslator(app)  # the standard buttons and dialogs: OK, Cancel, Open…
            if qt_own.load(f"qtbase_{language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
                app.installTranslator(qt_own)
                _installed.append(qt_own)
    system = QLocale.system()
    if language != "en":
        QLocale.setDefault(QLocale(language))
    elif system.language() == QLocale.Language.English or choice != "en":
        QLocale.setDefault(system)
    else:  # English chosen on, say, a Chinese system: English words, the country's formats
        QLocale.setDefault(QLocale(QLocale.Language.English, system.territory()))
    i18n.install(QCoreApplication.translate if language != "en" else None, language)
    return language
