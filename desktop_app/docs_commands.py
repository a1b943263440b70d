"""The `inkwell docs add | list | remove | refresh | search` commands: the document library
on the command line (the files are read where they are, never copied or uploaded)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from desktop_app.core.errors import UserError
from desktop_app.models.registry import EMBEDDING, default_registry
from desktop_app.session.documents import DocumentIndexer, IndexReport, Progress
from desktop_app.session.retrieval import EMBEDDING_OFF, EMBEDDING_SETTING, Retriever
from desktop_app.store import Store, open_store
from desktop_app.store.documents import DEFAULT_COLLECTION


def add_parser(commands: Any) -> None:
    """The `docs` command's arguments (cli.build_parser calls this)."""
    docs = commands.add_parser("docs", help="the document library: your files, searched and cited in answers")
    actions = docs.add_subparsers(dest="docs_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="add files or folders (read where they are)")
    add.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    add.add_argument("--collection", default=DEFAULT_COLLECTION, help=f"(default: {DEFAULT_COLLECTION})")
    listing = actions.add_parser("list", help="the collections, or the files of one")
    listing.add_argument("--collection")
    listing.add_argument("--json", action="store_true")
    remove = actions.add_parser("remove", help="forget files, a folder's files or a whole collection")
    remove.add_argument("paths", nargs="*", type=Path, metavar="PATH")
    remove.add_argument("--collection")
    refresh = actions.add_parser("refresh", help="read again what changed on disk")
    refresh.add_argument("--collection")
    search = actions.add_parser("search", help="the passages that best match a question")
    search.add_argument("query")
    search.add_argument("--collection", action="append", help="search only this collection (repeatable)")
    search.add_argument("--limit", type=int, default=5)
    search.add_argument("--json", action="store_true")
    meaning = actions.add_parser(
        "embeddings", help="which embedding model searches by meaning: a model id, auto (the first installed) or off"
    )
    meaning.add_argument("model", nargs="?", help="(none: show the current choice)")


def run(args: argparse.Namespace) -> int:
    store = open_store()
    try:
        library = Retriever(store, default_registry(), threads=None)
        command = args.docs_command
        if command in ("add", "refresh"):
            return _index(library, args)
        if command == "remove":
            return _remove(store, args)
        if command == "search":
            return _search(library, args)
        if command == "embeddings":
            return _embeddings(library, args)
        return _list(library, args)
    finally:
        store.close()


def _index(library: Retriever, args: argparse.Namespace) -> int:
    interactive = sys.stderr.isatty()

    def progress(p: Progress) -> None:
        if interactive and p.phase == "embedding":
            print(f"\rEmbedding passages: {p.passages_done:,}/{p.passages_total:,}   ", end="", file=sys.stderr,
                  flush=True)  # fmt: skip
        elif interactive and p.files_total:
            megabytes = f"{p.bytes_done / 1e6:.1f}/{p.bytes_total / 1e6:.1f} MB"
            print(f"\r{p.files_done}/{p.files_total} files, {megabytes}", end="", file=sys.stderr, flush=True)

    indexer = DocumentIndexer(library.store, progress, library=library)
    if args.docs_command == "add":
        report = indexer.add(args.paths, args.collection)
    else:
        report = indexer.refresh(args.collection)
    if interactive:
        print(file=sys.stderr)
    _print_report(report)
    return 0 if not report.failed else 1


def _print_report(report: IndexReport) -> None:
    parts = [f"{report.added} added", f"{report.updated} updated", f"{report.unchanged} unchanged"]
    if report.skipped:
        parts.append(f"{report.skipped} of other types skipped")
    print(", ".join(parts) + f"; {report.bytes_read / 1e6:.1f} MB read in {report.seconds:.1f} s.")
    if report.embedded:
        print(f"{report.embedded:,} passages embedded in {report.embedding_seconds:.1f} s.")
    if report.embedding_problem:
        print(report.embedding_problem)
    for path, reason in report.failed:
        print(f"Not read: {path}: {reason}")


def _remove(store: Store, args: argparse.Namespace) -> int:
    if not args.paths:
        if not args.collection:
            print("inkwell: name files or folders to remove, or --collection NAME.", file=sys.stderr)
            return 2
        count = store.documents.remove_collection(args.collection)
        print(f"Removed the collection {args.collection} ({count} files; the files themselves stay).")
        return 0
    count = sum(store.documents.remove(str(p.expanduser().resolve()), args.collection) for p in args.paths)
    print(f"Removed {count} file{'s' if count != 1 else ''} from the library (the files themselves stay).")
    return 0 if count else 1


def _list(library: Retriever, args: argparse.Namespace) -> int:
    store = library.store
    if args.collection:
        documents = store.documents.documents(args.collection)
        if args.json:
            print(json.dumps([d.__dict__ for d in documents], ensure_ascii=False, indent=2))
            return 0
        for d in documents:
            state = {"indexed": f"{d.chunks} passages", "pending": "waiting to be read"}.get(
                d.status, f"not read: {d.reason}"
            )
            print(f"{d.path}  ({d.size / 1e6:.2f} MB, {state})")
        return 0
    collections = store.documents.collections()
    if args.json:
        print(json.dumps(collections, indent=2))
        return 0
    if not collections:
        print("The library is empty: `inkwell docs add PATH...` adds files or folders.")
    for c in collections:
        failed = f", {c['failed']} not read" if c["failed"] else ""
        print(f"{c['name']}: {c['documents']} files{failed}, {c['passages']} passages, {c['bytes'] / 1e6:.1f} MB")
    if collections:
        print(f"Search: {library.describe()}")
    return 0


def _embeddings(library: Retriever, args: argparse.Namespace) -> int:
    if args.model is None:
        print(f"Search: {library.describe()}")
        models = library.registry.list(kind=EMBEDDING) if library.registry else []
        print("Embedding models: " + (", ".join(m.id for m in models) or "none installed") + ".")
        if not models:
            print(
                "`inkwell models import FOLDER` imports one (a sentence-transformers folder, such as all-MiniLM-L6-v2)."
            )
        return 0
    choice = args.model.strip()
    if choice not in ("auto", EMBEDDING_OFF):
        assert library.registry is not None
        library.registry.get(choice, kind=EMBEDDING)  # a clear error when it is not installed
    library.store.settings.set(EMBEDDING_SETTING, "" if choice == "auto" else choice)
    print(f"Search: {library.describe()}")
    if library.embedder() is not None:
        print("`inkwell docs refresh` gives the passages their vectors now (the window does it by itself).")
    return 0


def _search(library: Retriever, args: argparse.Namespace) -> int:
    if args.limit < 1:
        raise UserError("--limit must be at least 1.")
    passages = library.search(args.query, args.collection or (), args.limit)
    if args.json:
        rows = [{**p.__dict__, "where": p.where} for p in passages]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not passages:
        print("No passage matches.")
    for number, p in enumerate(passages, 1):
        where = f", {p.where}" if p.where else ""
        heading = f" — {p.heading}" if p.heading else ""
        snippet = " ".join(p.text.split())
        print(f"[{number}] {p.path}{where}{heading}\n    {snippet[:300]}")
    return 0
