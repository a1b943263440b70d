"""Several `inkwell` processes writing one database at once, while the app holds its own
connection and writes too, all succeed and lose nothing (never "database is locked").

Each worker is one process that runs the `inkwell` command (desktop_app.cli.main, what
`python -m desktop_app` runs) many times over, every run opening and closing the store as
a separate invocation does, so that many writes cost one interpreter start, not one each.
The workers wait for a go line on standard input, so that their writes really overlap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from desktop_app.store import open_store
from desktop_app.store.migrations import MIGRATIONS

ROOT = Path(__file__).resolve().parents[2]
WORKER = r"""
import sys
from pathlib import Path

import desktop_app.library, desktop_app.qt_documents, desktop_app.transcripts.importing  # loaded before the go
from desktop_app.cli import main

name, count, folder = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
print("ready", flush=True)
sys.stdin.readline()
for i in range(count):
    for argv in (["import", str(folder / f"{name}-{i}.json")], ["settings", "font_size", str(10 + i % 10)]):
        code = main(argv)
        if code:
            sys.exit(f"{name}: inkwell {' '.join(argv)} exited with {code}")
print("done", flush=True)
"""


def chatgpt_export(title: str) -> list[dict[str, Any]]:
    """The smallest conversations.json `inkwell import` takes: one chat, one message."""
    message = {"id": "u", "author": {"role": "user"}, "content": {"content_type": "text", "parts": [title]}}
    return [
        {
            "title": title,
            "create_time": 1_700_000_000,
            "mapping": {
                "root": {"id": "root", "message": None, "parent": None, "children": ["u"]},
                "u": {"id": "u", "message": message, "parent": "root", "children": []},
            },
            "current_node": "u",
        }
    ]


def start_workers(tmp_path: Path, data: Path, names: list[str], count: int) -> list[subprocess.Popen[str]]:
    """Start the workers, wait until each has loaded Inkwell, then let them all go at once."""
    exports = tmp_path / "exports"
    exports.mkdir()
    for name in names:
        for i in range(count):
            (exports / f"{name}-{i}.json").write_text(json.dumps(chatgpt_export(f"{name}-{i}")))
    env = dict(os.environ, INKWELL_DATA_DIR=str(data), PYTHONPATH=str(ROOT))
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, name, str(count), str(exports)],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in names
    ]
    for worker in workers:
        assert worker.stdout is not None
        assert worker.stdout.readline() == "ready\n", worker.communicate(timeout=30)[1][-2000:]
    for worker in workers:
        assert worker.stdin is not None
        worker.stdin.write("go\n")
        worker.stdin.flush()
    return workers


def finish(workers: list[subprocess.Popen[str]]) -> None:
    for worker in workers:
        out, err = worker.communicate(timeout=60)
        assert worker.returncode == 0 and out.endswith("done\n"), err[-3000:]


def titles(data: Path) -> list[str]:
    store = open_store(data / "inkwell.db")
    try:
        return sorted(row["title"] for row in store.query("SELECT title FROM conversations"))
    finally:
        store.close()


def test_processes_opening_a_new_database_at_once_migrate_it_once(tmp_path: Path) -> None:
    data = tmp_path / "data"  # no database yet: every worker finds migrations to run
    names = [f"new{w}" for w in range(4)]
    finish(start_workers(tmp_path, data, names, count=1))
    assert titles(data) == sorted(f"{name}-0" for name in names)
    store = open_store(data / "inkwell.db")
    try:
        applied = [row["name"] for row in store.query("SELECT name FROM schema_migrations ORDER BY name")]
    finally:
        store.close()
    assert applied == [m.__name__ for m in MIGRATIONS]


def test_cli_processes_and_the_app_write_at_once_and_lose_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    store = open_store(data / "inkwell.db")  # the app's connection, open all along
    try:
        count = 12
        names = [f"cli{w}" for w in range(3)]
        workers = start_workers(tmp_path, data, names, count)
        mine: list[str] = []
        # Write as the window does, holding the write lock a little each time, until the
        # workers are through (and a few times at least).
        while len(mine) < 5 or any(worker.poll() is None for worker in workers):
            title = f"app-{len(mine)}"
            with store.transaction():
                conversation = store.conversations.create(title)
                store.conversations.add_message(conversation.id, "user", title)
                time.sleep(0.02)
            mine.append(title)
            time.sleep(0.01)
        finish(workers)
        font_size = store.settings.value("font_size")
    finally:
        store.close()
    expected = [f"{name}-{i}" for name in names for i in range(count)] + mine
    assert titles(data) == sorted(expected)
    assert font_size in range(10, 20)
