"""Reading untrusted import files: strict UTF-8 and JSON, and errors that say where."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from desktop_app.core.errors import UserError

MAX_IMPORT_BYTES = 512 * 1024 * 1024
MAX_MESSAGE_CHARS = 1_000_000


class ImportRejected(UserError):
    """The file cannot be imported; nothing was changed."""


def read_json_file(path: Path) -> Any:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImportRejected(f"{path} cannot be read: {exc.strerror or exc}.") from None
    if size > MAX_IMPORT_BYTES:
        raise ImportRejected(f"{path.name} is {size / 1e6:.0f} MB, more than Inkwell imports at once (512 MB).")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ImportRejected(
            f"{path.name} is not valid UTF-8 text (byte {exc.start}: {exc.reason}). Nothing was imported."
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ImportRejected(
            f"{path.name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}). Nothing was imported."
        ) from None


def reject(where: str, why: str) -> ImportRejected:
    return ImportRejected(f"Cannot import: {where}: {why}. Nothing was imported.")


def need(value: Any, kind: type | tuple[type, ...], where: str, optional: bool = False) -> Any:
    if value is None and optional:
        return None
    if isinstance(value, bool) and kind in (int, float, (int, float)):
        raise reject(where, "expected a number, found true/false")
    if not isinstance(value, kind):
        names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
        found = "nothing" if value is None else type(value).__name__
        raise reject(where, f"expected {_json_name(names)}, found {_json_name(found)}")
    return value


def need_text(value: Any, where: str, optional: bool = False) -> str | None:
    text: str | None = need(value, str, where, optional)
    if text is not None and len(text) > MAX_MESSAGE_CHARS:
        raise reject(where, f"{len(text):,} characters is more than the {MAX_MESSAGE_CHARS:,} a message may have")
    return text


def _json_name(python_name: str) -> str:
    names = {
        "str": "text",
        "dict": "an object",
        "list": "a list",
        "int": "a whole number",
        "float": "a number",
        "NoneType": "null",
    }
    return " or ".join(names.get(n, n) for n in python_name.split(" or "))
