"""The window's language: Qt's translators for Inkwell's strings and Qt's own, the locale
for dates and numbers, and the lookup the layers below ui/ translate through.

The language follows the system unless the user chose one (Settings › Appearance); a change
takes effect at the next start, as in most desktop apps, because every widget's text is set
once when it is built.
"""

from __future__ import annotations

import logging
from pathlib import Path

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
        ours = QTranslator(app)
        if not ours.load(f"inkwell_{language}", str(translations_dir())):
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
