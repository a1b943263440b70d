"""Sortable text ids (ULID-like) and UTC ISO timestamps."""

from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timedelta, timezone

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_lock = threading.Lock()
_last = (0, 0)


def new_id() -> str:
    """26 characters: 48 bits of milliseconds then 80 random bits, monotonic within a process."""
    global _last
    with _lock:
        millis = time.time_ns() // 1_000_000
        last_millis, last_random = _last
        if millis <= last_millis:  # same millisecond (or a clock step back): count up
            millis, randomness = last_millis, last_random + 1
        else:
            randomness = int.from_bytes(os.urandom(10), "big") >> 1  # headroom for counting up
        _last = (millis, randomness)
    value = (millis << 80) | (randomness & ((1 << 80) - 1))
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def trash_cutoff(older_than_days: int | None) -> str:
    """The deleted_at before which trashed items go for good (all of them for None)."""
    if older_than_days is None:
        return "9999"  # after every timestamp
    moment = datetime.now(timezone.utc) - timedelta(days=older_than_days)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
