"""Opening the database safely: integrity check, version check, backup, migrations.

A corrupt file or one written by a newer Inkwell is refused and left exactly as it was;
`set_aside()` moves a corrupt one out of the way when the user agrees to start afresh.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlite_utils

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.core.paths import data_dir, ensure_private_dir
from desktop_app.store import words

# The repositories name Store for type checking only, so importing them here makes no cycle.
from desktop_app.store.conversations import ConversationRepository
from desktop_app.store.documents import DocumentRepository
from desktop_app.store.drafts import DraftRepository
from desktop_app.store.evaluations import EvaluationRepository
from desktop_app.store.ids import now_iso
from desktop_app.store.migrations import MIGRATIONS
from desktop_app.store.owners import Owner
from desktop_app.store.search import SearchRepository
from desktop_app.store.settings import SettingsRepository
from desktop_app.store.vectors import VectorRepository
from desktop_app.store.votes import VoteRepository

log = logging.getLogger(__name__)

DB_NAME = "inkwell.db"
SQLITE_HEADER = b"SQLite format 3\x00"
KEEP_BACKUPS = 5
# The full integrity check reads the whole file; above this size it would hold up every
# start (0.4 s for 660 MB here, far more on a slow disk), so open() checks the structure
# only and the app runs check_integrity() in the background.
FULL_CHECK_MAX_BYTES = 128 * 1024 * 1024
TRASH_DAYS = 30
# How long a write waits for another connection's (another process's: a second `inkwell`
# command, the window) write transaction to end before it fails with "database is locked".
BUSY_TIMEOUT_S = 5.0
ANALYSIS_LIMIT = 1000  # rows per index that PRAGMA optimize reads (SQLite's advice: 100 to 1000)


class DiskFull(UserError):
    """A write failed for lack of space; its transaction was rolled back."""


class DatabaseRefused(UserError):
    """The database cannot be opened safely; it has not been modified."""


class DatabaseCorrupt(DatabaseRefused):
    pass


class DatabaseTooNew(DatabaseRefused):
    pass


def default_db_path() -> Path:
    return data_dir() / DB_NAME


def _applied_migrations(conn: sqlite3.Connection) -> list[str]:
    exists = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'").fetchone()
    if not exists:
        return []
    return [row[0] for row in conn.execute("SELECT name FROM schema_migrations ORDER BY name")]


def inspect(path: Path) -> list[str]:
    """Check a database file read-only; return its applied migrations or raise DatabaseRefused."""
    if not path.exists() or path.stat().st_size == 0:
        return []
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise _corrupt(path, "it is not an SQLite database")
    full = path.stat().st_size <= FULL_CHECK_MAX_BYTES
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            if full:
                _quick_check(conn, path)
            else:  # the schema and the migration list must at least read back
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            applied = _applied_migrations(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise _corrupt(path, str(exc)) from None
    known = {m.__name__ for m in MIGRATIONS}
    newer = [name for name in applied if name not in known]
    if newer:
        raise DatabaseTooNew(
            translate(
                "Errors", "The database {path} was written by a newer version of Inkwell (it has {migration})."
            ).format(path=path, migration=newer[-1]),
            hint=translate("Errors", "Install that version again to use it; this one has not changed the file."),
        )
    return applied


def _quick_check(conn: sqlite3.Connection, path: Path) -> None:
    result = conn.execute("PRAGMA quick_check").fetchone()
    if result is None or result[0] != "ok":
        found = result[0] if result else "no answer"
        raise _corrupt(path, translate("Errors", "the integrity check failed ({found})").format(found=found))


def check_integrity(path: Path) -> None:
    """The full check, on a connection of its own (safe from any thread); raises DatabaseCorrupt."""
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            _quick_check(conn, path)
    except sqlite3.DatabaseError as exc:
        raise _corrupt(path, str(exc)) from None


def _corrupt(path: Path, why: str) -> DatabaseCorrupt:
    return DatabaseCorrupt(
        translate("Errors", "The database {path} is damaged: {why}. It has not been changed.").format(
            path=path, why=why
        ),
        hint=translate(
            "Errors", "Restore it from a backup (the backups folder beside it), or set it aside and start a new one."
        ),
    )


def set_aside(path: Path) -> Path:
    """Rename a refused database (and its WAL files) out of the way; return the new name."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.name}.set-aside-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(f"{path}{suffix}")
        if source.exists():
            source.rename(Path(f"{target}{suffix}"))
    return target


def backup(conn: sqlite3.Connection, path: Path, reason: str) -> Path:
    folder = ensure_private_dir(path.parent / "backups")
    target = folder / f"{path.stem}-{time.strftime('%Y%m%d-%H%M%S')}-{reason}.db"
    with contextlib.closing(sqlite3.connect(target)) as copy:
        conn.backup(copy)
    _private(target)
    for old in sorted(folder.glob(f"{path.stem}-*.db"))[:-KEEP_BACKUPS]:
        old.unlink(missing_ok=True)
    return target


def _private(path: Path) -> None:
    if os.name == "posix":
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.chmod(f"{path}{suffix}", 0o600)


class Store:
    """The open database and its repositories. Use it from the thread that opened it."""

    def __init__(self, conn: sqlite3.Connection, path: Path, owner: Owner | None = None) -> None:
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        self.path = path
        # Whose the replies and evaluations this store starts are (store/owners.py):
        # open_store's own, or the first connection's for another_connection's.
        self.owner = owner
        self._owns_owner = False
        self._depth = 0
        self.conversations = ConversationRepository(self)
        self.drafts = DraftRepository(self)
        self.settings = SettingsRepository(self)
        self.search = SearchRepository(self)
        self.documents = DocumentRepository(self)
        self.vectors = VectorRepository(self)
        self.evaluations = EvaluationRepository(self)  # `inkwell eval` runs and results
        self.votes = VoteRepository(self)  # Compare mode's comparisons and votes

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction; nested calls become savepoints of the outer one."""
        depth = self._depth
        self.conn.execute("BEGIN IMMEDIATE" if depth == 0 else f"SAVEPOINT s{depth}")
        self._depth += 1
        try:
            yield
        except BaseException as exc:
            self._depth = depth
            if depth == 0:
                self.conn.execute("ROLLBACK")
            else:
                self.conn.execute(f"ROLLBACK TO s{depth}")
                self.conn.execute(f"RELEASE s{depth}")
            if isinstance(exc, sqlite3.OperationalError) and "full" in str(exc):
                raise DiskFull(
                    translate("Errors", "The disk is full, so the last change was not saved."),
                    hint=translate("Errors", "Free some space, then try again; everything saved before is intact."),
                ) from exc
            raise
        self._depth = depth
        self.conn.execute("COMMIT" if depth == 0 else f"RELEASE s{depth}")

    def query(self, sql: str, params: Any = ()) -> list[dict[str, Any]]:
        """Rows as dicts (sqlite-utils); runs inside whatever transaction is open."""
        return list(self.db.query(sql, params))

    def schema_version(self) -> int:
        return len(_applied_migrations(self.conn))

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            if _has_statistics(self.conn):  # never made here: see _migrate
                # A bounded analysis, so that it never holds the write lock for long while
                # another process (the window, an `inkwell` command) waits to write.
                self.conn.execute(f"PRAGMA analysis_limit = {ANALYSIS_LIMIT}")
                self.conn.execute("PRAGMA optimize")
        self.conn.close()
        if self._owns_owner and self.owner is not None:
            self.owner.release()

    @property
    def owner_token(self) -> str | None:
        """The token a streaming reply or a running evaluation of this store carries."""
        return self.owner.token if self.owner is not None else None

    def alive(self, token: str | None) -> bool:
        """Whether the store that wrote `token` is still open (in this or another process)."""
        return self.owner is not None and self.owner.alive(token)

    def interrupt_orphans(self, table: str, live_status: str, assignments: str) -> int:
        """Apply `assignments` (SQL) to the rows of `table` still in `live_status` whose
        owner's store is gone, or that carry no owner (written before owners were kept):
        work its process left unfinished. Rows of a store open elsewhere are left alone."""
        with self.transaction():
            owners = self.conn.execute(f"SELECT DISTINCT owner FROM {table} WHERE status = ?", (live_status,))
            gone = [owner for (owner,) in owners.fetchall() if owner is not None and not self.alive(owner)]
            cursor = self.conn.execute(
                f"UPDATE {table} SET {assignments} WHERE status = ? AND (owner IS NULL OR owner IN "
                f"({', '.join('?' * len(gone))}))",
                (live_status, *gone),
            )
        return cursor.rowcount


def _use_wal(conn: sqlite3.Connection) -> None:
    """Switch the database to WAL (a new one; the file remembers it), so that readers and
    one writer at a time never block each other.

    Two processes creating the database at once (two `inkwell` commands on a first run) can
    each hold the lock the other needs to switch; SQLite then refuses at once, whatever the
    busy timeout, rather than deadlock. The one refused has let go of its lock by then, so
    trying again soon succeeds.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _connect(path: Path) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
    except sqlite3.Error as exc:
        raise DatabaseRefused(f"The database {path} cannot be opened: {exc}.") from None
    _private(path)
    _use_wal(conn)
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    words.register(conn)  # the passages' full-text index calls it (CJK text)
    return conn


def _has_statistics(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone() is not None


def _migrate(store: Store) -> None:
    """Apply the pending migrations, backing the file up first if it holds anything.

    All of it runs in one write transaction that looks again at what is applied once it
    holds the lock: two processes opening the database at once (two `inkwell` commands on a
    first run or after an upgrade, or one beside the window) would otherwise both migrate
    it, or back it up half-migrated. Each migration is a savepoint with its bookkeeping row.
    """
    conn, path = store.conn, store.path
    with store.transaction():
        applied = _applied_migrations(conn)
        pending = [m for m in MIGRATIONS if m.__name__ not in applied]
        has_schema = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
        if pending and has_schema:  # a new file has nothing to keep
            if path.stat().st_size > FULL_CHECK_MAX_BYTES:
                check_integrity(path)  # never migrate a damaged file, however large
            with contextlib.closing(sqlite3.connect(path, timeout=BUSY_TIMEOUT_S)) as source:
                # A connection of its own: SQLite will not back up from one that holds the
                # write lock. It reads the file as it is now, and no one else can write.
                saved = backup(source, path, f"before-{pending[0].__name__}")
            log.info("Backed up %s to %s before migrating", path, saved)
        if pending:
            conn.execute("CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied TEXT NOT NULL)")
        for migration in pending:
            with store.transaction():
                migration(conn)
                conn.execute(
                    "INSERT INTO schema_migrations (name, applied) VALUES (?, ?)", (migration.__name__, now_iso())
                )
            log.info("Applied migration %s", migration.__name__)
        if not _has_statistics(conn):
            # The query planner's statistics table, made here with the schema (analysing the
            # tiny schema_migrations makes it) rather than by the first PRAGMA optimize: making
            # it changes the schema, and a schema change while another process prepares a
            # statement that fires the full-text triggers fails there with "no such table".
            conn.execute("ANALYZE schema_migrations")


def open_store(path: Path | None = None) -> Store:
    """Open (creating or migrating) the database; refuse corrupt or newer files untouched."""
    path = path or default_db_path()
    ensure_private_dir(path.parent)
    applied = inspect(path)
    store = Store(_connect(path), path)
    try:
        if any(m.__name__ not in applied for m in MIGRATIONS) or not _has_statistics(store.conn):
            _migrate(store)
        _private(path)
        store.owner, store._owns_owner = Owner(path), True
        store.conversations.recover_interrupted()
        store.evaluations.recover_interrupted()
        store.conversations.empty_trash(older_than_days=TRASH_DAYS)
        store.drafts.empty_trash(older_than_days=TRASH_DAYS)
    except BaseException:
        store.conn.close()
        if store.owner is not None:
            store.owner.release()
        raise
    return store


def another_connection(store: Store) -> Store:
    """A second connection to an open store's database, for another thread (a tool's
    search of the documents): no migration, no recovery of replies being written (the
    first connection's replies are still streaming)."""
    return Store(_connect(store.path), store.path, store.owner)
