"""Translation for the layers below ui/, which must not import Qt.

Strings are marked with `marked(context, text)` (a no-op that `pyside6-lupdate` collects, see
the Makefile's `-tr-function-alias`) and looked up with `translate(context, text)` where they
are shown. The window installs Qt's lookup at start-up; until then (the CLI, the API server,
tests of the pure layers) every string is its English source. One installed function, as
gettext's `install()` does, because a translator passed through every constructor down to
each error message would touch every signature for no gain.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ENGLISH = "en"
_lookup: Callable[[str, str], str] | None = None
_language = ENGLISH
_here = threading.local()  # .english: this thread's strings stay in English (see english())


def marked(context: str, text: str) -> str:
    """`text`, marked for translation under `context`; translate it where it is shown."""
    del context
    return text


def translate(context: str, text: str) -> str:
    """`text` in the window's language, or as written when there is no translation (or the
    thread is inside english())."""
    if _lookup is None or getattr(_here, "english", False):
        return text
    return _lookup(context, text)


@contextmanager
def english(on: bool = True) -> Iterator[None]:
    """Within it, translate() on this thread gives the English source (on=True), or the
    window's language again (on=False, inside an outer english()). For what the API server
    answers: OpenAI clients and scripts read its messages, and match words in them, whatever
    language the window shows."""
    before = getattr(_here, "english", False)
    _here.english = on
    try:
        yield
    finally:
        _here.english = before


def install(lookup: Callable[[str, str], str] | None, language: str = ENGLISH) -> None:
    """Use `lookup` (Qt's QCoreApplication.translate in the window) from now on; None: English."""
    global _lookup, _language
    _lookup, _language = lookup, language if lookup is not None else ENGLISH


def language() -> str:
    """The window's language code ("en", "zh_CN"): what prompts and templates are chosen by."""
    return _language


def is_chinese(text: str, share: float = 0.3) -> bool:
    """Whether CJK ideographs make up at least `share` of the letters in `text`."""
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return False
    han = sum(1 for c in letters if "\u3400" <= c <= "\u9fff" or "\uf900" <= c <= "\ufaff")
    return han / len(letters) >= share
