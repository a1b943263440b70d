"""Reading untrusted import files: strict UTF-8 and JSON, and errors that say where."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate

MAX_IMPORT_BYTES = 512 * 1024 * 1024
MAX_MESSAGE_CHARS = 1_000_000


class ImportRejected(UserError):
    """The file cannot be imported; nothing was changed."""


def read_json_file(path: Path) -> Any:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImportRejected(
            translate("Errors", "{path} cannot be read: {error}.").format(path=path, error=exc.strerror or exc)
        ) from None
    if size > MAX_IMPORT_BYTES:
        raise ImportRejected(
            translate("Errors", "{file} is {size} MB, more than Inkwell imports at once (512 MB).").format(
                file=path.name, size=f"{size / 1e6:.0f}"
            )
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected(
            translate("Errors", "{file} is not valid UTF-8 text (byte {byte}: {reason}). Nothing was imported.").format(
                file=path.name, byte=exc.start, reason=exc.reason
            )
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRejected(
            translate(
                "Errors", "{file} is not valid JSON (line {line}, column {column}: {problem}). Nothing was imported."
            ).format(file=path.name, line=exc.lineno, column=exc.colno, problem=exc.msg)
        ) from None


def reject(where: str, why: str) -> ImportRejected:
    return ImportRejected(
        translate("Errors", "Cannot import: {where}: {why}. Nothing was imported.").format(where=where, why=why)
    )


def need(value: Any, kind: type | tuple[type, ...], where: str, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise reject(where, translate("Errors", "expected a number, found true/false"))
    if not isinstance(value, kind):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        found = translate("Errors", "nothing") if value is None else type(value).__name__
        raise reject(
            where,
            translate("Errors", "expected {expected}, found {found}").format(
                expected=_json_name(names), found=_json_name(found)
            ),
        )
    return value


def need_text(value: Any, where: str, optional: bool = False) -> str | None:
    text: str | None = need(value, str, where, optional)
    if text is not None and len(text) > MAX_MESSAGE_CHARS:
        raise reject(
            where,
            translate("Errors", "{count} characters is more than the {limit} a message may have").format(
                count=f"{len(text):,}", limit=f"{MAX_MESSAGE_CHARS:,}"
            ),
        )
    return text


def _json_name(python_name: str) -> str:
    names = {
        "str": translate("Errors", "text"),
        "dict": translate("Errors", "an object"),
        "list": translate("Errors", "a list"),
        "int": translate("Errors", "a whole number"),
        "float": translate("Errors", "a number"),
        "NoneType": "null",
    }
    words = [names.get(n, n) for n in python_name.split(" or ")]
    return functools.reduce(
        lambda first, second: translate("Errors", "{first} or {second}").format(first=first, second=second), words
    )
