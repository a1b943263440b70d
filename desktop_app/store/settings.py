"""App settings: a small key/value table of JSON values with typed access."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeVar

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate

if TYPE_CHECKING:
    from desktop_app.store.db import Store

T = TypeVar("T", str, int, float, bool, dict[str, Any], list[Any])


class SettingsRepository:
    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, key: str, default: T) -> T:
        """The stored value if it has the default's type; otherwise the default."""
        row = self.store.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        if row is None:
            return default
        try:
            value = json.loads(row[0])
        except ValueError:
            return default
        expected = type(default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not expected:
            return default
        return value

    def value(self, key: str) -> Any:
        """The stored value whatever its type, or None."""
        row = self.store.conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def set(self, key: str, value: Any) -> None:
        try:
            encoded = json.dumps(value)
        except TypeError:
            raise UserError(
                translate("Errors", "The setting {key} cannot store a {kind}.").format(
                    key=key, kind=type(value).__name__
                )
            ) from None
        with self.store.transaction():
            self.store.conn.execute(
                "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, encoded),
            )

    def delete(self, key: str) -> None:
        with self.store.transaction():
            self.store.conn.execute("DELETE FROM settings WHERE key = ?", (key,))

    def all(self) -> dict[str, Any]:
        return {
            row[0]: json.loads(row[1])
            for row in self.store.conn.execute("SELECT key, value FROM settings ORDER BY key")
        }
