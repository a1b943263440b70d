"""The layering promises: the running app never loads torch or Qt outside desktop_app.ui."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SQL_ACCESS = {"conn", "execute", "executemany", "executescript", "query", "db"}


def sql_uses(source: str) -> list[str]:
    """Where a module reaches for a database connection or runs SQL itself."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in SQL_ACCESS:
            found.append(f"line {node.lineno}: .{node.attr}")
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else [a.name for a in node.names]
            found += [
                f"line {node.lineno}: import {n}" for n in names if n.split(".")[0] in ("sqlite3", "sqlite_utils")
            ]
    return sorted(found)


def test_transcripts_ask_the_store_to_write_and_run_no_sql() -> None:
    assert sql_uses("store.conn.execute('SELECT 1')\nimport sqlite3") == [
        "line 1: .conn", "line 1: .execute", "line 2: import sqlite3",
    ]  # fmt: skip
    found = {
        path.name: uses
        for path in sorted((ROOT / "desktop_app" / "transcripts").rglob("*.py"))
        if (uses := sql_uses(path.read_text(encoding="utf-8")))
    }
    assert found == {}


def test_import_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    done = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def test_the_contracts_count_indirect_imports_too() -> None:
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    assert contracts and not [c["name"] for c in contracts if c.get("allow_indirect_imports")]


def test_answering_a_prompt_loads_no_heavy_libraries() -> None:
    code = (
        "import sys, json\n"
        "import desktop_app.cli, desktop_app.engine, desktop_app.models.registry, desktop_app.library\n"
        "heavy = ('torch', 'transformers', 'optimum', 'PySide6')\n"
        "print(json.dumps(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
