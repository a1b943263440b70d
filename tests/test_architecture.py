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


def test_importing_model_preparation_loads_no_export_tools() -> None:
    # The installed app has no torch or onnx; it imports prepare to say so (a UserError).
    code = (
        "import sys, json\n"
        "import desktop_app.models.prepare\n"
        "heavy = ('torch', 'transformers', 'optimum', 'onnx', 'PySide6')\n"
        "print(json.dumps(sorted(m for m in heavy if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []


# Packages below the window whose imports of desktop_app all sit at module level, so that
# import-linter sees every dependency and a cycle cannot hide inside a function.
NO_IMPORTS_INSIDE_FUNCTIONS = ("core", "engine", "models", "store", "transcripts", "session", "remote")


def _imports_inside_functions(path: Path) -> list[str]:
    """`file:line` of each import of desktop_app inside a function (TYPE_CHECKING blocks aside)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child, in_function)
            return
        if in_function and isinstance(node, ast.Import | ast.ImportFrom):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            relative = isinstance(node, ast.ImportFrom) and node.level > 0
            if relative or any(name == "desktop_app" or name.startswith("desktop_app.") for name in names):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
        inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(tree, False)
    return found


def test_no_package_below_the_window_imports_desktop_app_inside_a_function() -> None:
    packages = [ROOT / "desktop_app" / name for name in NO_IMPORTS_INSIDE_FUNCTIONS]
    assert (ROOT / "desktop_app" / "models").is_dir()
    found = [
        hit for package in packages for path in sorted(package.rglob("*.py")) for hit in _imports_inside_functions(path)
    ]
    assert found == [], "import at module level (or under TYPE_CHECKING) instead: " + ", ".join(found)


def test_every_folder_of_the_package_is_a_package() -> None:
    """A folder without __init__.py is left out of a wheel (find_packages skips it)."""
    package = ROOT / "desktop_app"
    missing = [
        str(folder.relative_to(ROOT))
        for folder in [package, *(p for p in package.rglob("*") if p.is_dir() and p.name != "__pycache__")]
        if any(folder.glob("*.py")) and not (folder / "__init__.py").exists()
    ]
    assert missing == []


def test_preparation_imports_without_the_export_tools() -> None:
    """The installed app has no gguf, onnx, torch or transformers: `inkwell models prepare`
    must get as far as saying so, not fail on an import."""
    code = (
        "import sys\n"
        "for name in ('gguf', 'onnx', 'torch', 'transformers', 'optimum'):\n"
        "    sys.modules[name] = None\n"
        "import desktop_app.models.prepare, desktop_app.models.check\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
