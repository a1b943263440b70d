"""The `inkwell` command: the app by default, and headless subcommands.

inkwell                      open Inkwell (a chat in the terminal until the window lands)
inkwell ask "PROMPT" [...]   answer one prompt, streamed (or --json)
inkwell chat                 a conversation in the terminal
inkwell models list|prepare|import
inkwell serve                the OpenAI-compatible API server, headless
inkwell servers add|list|remove   OpenAI-compatible model servers (models named SERVER:MODEL)
inkwell docs add|list|remove|refresh|search   the document library
inkwell eval run|list|show|compare   score models on a data set (BLEU, chrF, ROUGE) and compare runs
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any, TextIO

from desktop_app import __version__
from desktop_app.core.errors import UserError
from desktop_app.core.generation import GenerationSettings
from desktop_app.transcripts import CONVERSATION_FORMATS, DRAFT_FORMATS

log = logging.getLogger("desktop_app")


class _ConsoleFormatter(logging.Formatter):
    """Messages only: tracebacks go to the log file, never to the user's terminal."""

    def format(self, record: logging.LogRecord) -> str:
        plain = logging.makeLogRecord(record.__dict__)  # a copy: the file handler keeps the traceback
        plain.exc_info = plain.exc_text = plain.stack_info = None
        return super().format(plain)


_installed_handlers: list[logging.Handler] = []


def _setup_logging(verbose: bool) -> Path | None:
    root = logging.getLogger()
    for old in _installed_handlers:  # main() may run more than once in a process (tests, the app)
        root.removeHandler(old)
        old.close()
    _installed_handlers.clear()
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.INFO if verbose else logging.WARNING)
    console.setFormatter(_ConsoleFormatter("%(levelname)s: %(message)s"))
    root.addHandler(console)
    _installed_handlers.append(console)
    try:
        from desktop_app.core.paths import log_dir

        path = log_dir() / "inkwell.log"
        handler = RotatingFileHandler(path, maxBytes=2_000_000, backupCount=3, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
        _installed_handlers.append(handler)
        return path
    except OSError:
        return None


def _settings_args(parser: argparse.ArgumentParser) -> None:
    defaults = GenerationSettings()
    group = parser.add_argument_group("generation")
    group.add_argument("--system", help="system prompt")
    group.add_argument("--max-new-tokens", type=int, default=defaults.max_new_tokens)
    group.add_argument("--temperature", type=float, default=defaults.temperature, help="0 means greedy")
    group.add_argument("--top-k", type=int, default=defaults.top_k)
    group.add_argument("--top-p", type=float, default=defaults.top_p)
    group.add_argument("--min-p", type=float, default=defaults.min_p)
    group.add_argument("--repetition-penalty", type=float, default=defaults.repetition_penalty)
    group.add_argument("--no-repeat-ngram-size", type=int, default=defaults.no_repeat_ngram_size)
    group.add_argument("--seed", type=int, help="the same seed gives the same text")
    group.add_argument("--stop", action="append", default=[], help="stop sequence (repeatable)")
    group.add_argument(
        "-n", "--alternatives", "--num-return-sequences", type=int, default=1, help="how many versions to write"
    )
    group.add_argument("--num-beams", type=int, default=1, help="beam search with this many beams (1: sample)")
    group.add_argument("--length-penalty", type=float, default=1.0, help="beam search: > 0 favours longer texts")
    group.add_argument(
        "--early-stopping", choices=("true", "false", "never"), default="false", help="beam search: when to stop"
    )
    group.add_argument(
        "--thinking", choices=("auto", "on", "off"), default="auto", help="thinking models: the template's switch"
    )
    group.add_argument(
        "--reasoning-budget",
        type=int,
        default=-1,
        help="thinking models: tokens of reasoning before the answer (-1: no cap)",
    )
    _model_args(parser)


def _model_args(parser: argparse.ArgumentParser) -> None:
    engine = parser.add_argument_group("model")
    engine.add_argument("--model", help="model id (see: inkwell models list)")
    engine.add_argument("--provider", choices=("auto", "cpu", "cuda"), help="default: the setting, else auto")
    engine.add_argument("--quantization", help="variant to run (q4, q8, fp16, fp32)")
    engine.add_argument("--threads", type=int, help="CPU threads (default: all cores)")


def _settings_from(args: argparse.Namespace) -> GenerationSettings:
    return GenerationSettings(
        max_new_tokens=args.max_new_tokens,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        min_p=args.min_p,
        repetition_penalty=args.repetition_penalty,
        no_repeat_ngram_size=args.no_repeat_ngram_size,
        seed=args.seed,
        stop_sequences=tuple(args.stop),
        num_alternatives=args.alternatives,
        num_beams=args.num_beams,
        length_penalty=args.length_penalty,
        early_stopping={"true": True, "false": False}.get(args.early_stopping, args.early_stopping),
        thinking=args.thinking,
        reasoning_budget=args.reasoning_budget,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="inkwell", description="Inkwell: a private AI assistant that runs on your computer."
    )
    parser.add_argument("--version", action="version", version=f"Inkwell {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more, to the terminal too")
    parser.add_argument("--self-test", action="store_true", help="open the window, ask, check the reply was saved")
    parser.add_argument("--provider", dest="app_provider", choices=("auto", "cpu", "cuda"), help="for the window")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = commands.add_parser("ask", help="answer one prompt")
    ask.add_argument("prompt", help="the question or instruction ('-' reads standard input)")
    ask.add_argument("--json", action="store_true", help="print one JSON object instead of streaming")
    ask.add_argument("--raw", action="store_true", help="continue the text as it is, with no chat template")
    ask.add_argument("--docs", action="append", metavar="COLLECTION", help="answer from this document collection")
    ask.add_argument(
        "--tools",
        metavar="NAME[,NAME]",
        help="let the model call these tool servers' tools (see: inkwell mcp list), or built-in tools "
        "(current_time, calculator, search_documents; 'builtin' for all): naming them allows them",
    )
    ask.add_argument("--tool-choice", choices=("auto", "required", "none"), default="auto")
    ask.add_argument(
        "--speculation",
        choices=("auto", "lookup", "off"),
        default="auto",
        help="check proposed tokens several at a time (lossless): lookup in the prompt, and --draft in auto",
    )
    ask.add_argument("--draft", metavar="MODEL", help="a smaller model with the same vocabulary that proposes tokens")
    _settings_args(ask)

    chat = commands.add_parser("chat", help="a conversation in the terminal (saved like the window's)")
    _settings_args(chat)

    chats = commands.add_parser("chats", help="list, search or show saved conversations")
    chat_commands = chats.add_subparsers(dest="chats_command", metavar="ACTION", required=True)
    chat_list = chat_commands.add_parser("list", help="conversations, pinned first, newest first")
    chat_list.add_argument("--archived", action="store_true", help="show the archived ones")
    chat_list.add_argument("--trash", action="store_true", help="show the trash")
    chat_list.add_argument("--json", action="store_true")
    chat_search = chat_commands.add_parser("search", help="full-text search of titles, messages and drafts")
    chat_search.add_argument("query")
    chat_search.add_argument("--json", action="store_true")
    chat_show = chat_commands.add_parser("show", help="print a conversation (its current branch)")
    chat_show.add_argument("id")

    export = commands.add_parser("export", help="export conversations (md, txt, html, pdf, json)")
    export.add_argument("ids", nargs="*", help="conversation ids (see: inkwell chats list)")
    export.add_argument("--all", action="store_true", help="every conversation that is not in the trash")
    export.add_argument("--format", choices=CONVERSATION_FORMATS, help="default: from the file name")
    export.add_argument("--out", type=Path, required=True)
    export.add_argument("--force", action="store_true", help="replace the file if it exists")
    export.add_argument(
        "--with-reasoning", action="store_true", help="include thinking models' reasoning (left out by default)"
    )

    importing_chats = commands.add_parser("import", help="import Inkwell JSON or ChatGPT's conversations.json")
    importing_chats.add_argument("file", type=Path)

    drafts = commands.add_parser("drafts", help="list or export drafts")
    draft_commands = drafts.add_subparsers(dest="drafts_command", metavar="ACTION", required=True)
    draft_list = draft_commands.add_parser("list")
    draft_list.add_argument("--json", action="store_true")
    draft_export = draft_commands.add_parser("export", help="export a draft (md, txt, html, pdf, odt, docx)")
    draft_export.add_argument("id")
    draft_export.add_argument("--format", choices=DRAFT_FORMATS, help="default: from the file name")
    draft_export.add_argument("--out", type=Path, required=True)
    draft_export.add_argument("--force", action="store_true")

    database = commands.add_parser("database", help="check the database, or set a damaged one aside")
    database_commands = database.add_subparsers(dest="database_command", metavar="ACTION", required=True)
    database_commands.add_parser("check", help="the full integrity check (reads the whole file)")
    database_commands.add_parser("set-aside", help="rename a refused database so that a new one starts")

    settings = commands.add_parser("settings", help="show or change settings (e.g. provider auto|cpu|cuda)")
    settings.add_argument("key", nargs="?")
    settings.add_argument("value", nargs="?", help="JSON or plain text")

    serve = commands.add_parser("serve", help="the OpenAI-compatible API server (until Ctrl+C)")
    serve.add_argument("--host", default="127.0.0.1", help="default: 127.0.0.1 (this computer only)")
    serve.add_argument("--port", type=int, help="default: the port in Settings (8750 unless changed there)")
    serve.add_argument("--api-key", help="the bearer key (default: $INKWELL_API_KEY, else the stored key)")
    serve.add_argument("--allow-network", action="store_true", help="allow a --host other computers can reach")
    _model_args(serve)

    models = commands.add_parser("models", help="list, prepare or import models")
    model_commands = models.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    listing = model_commands.add_parser("list", help="show the installed models")
    listing.add_argument("--json", action="store_true")
    prepare = model_commands.add_parser("prepare", help="build the default model (SmolLM2-135M-Instruct)")
    prepare.add_argument("--if-missing", action="store_true", help="do nothing if it is already prepared")
    _prepare_args(prepare)
    importing = model_commands.add_parser("import", help="convert a GGUF file or Hugging Face folder you have")
    importing.add_argument("path", type=Path)
    importing.add_argument("--id", dest="model_id", help="the id to install it as")
    importing.add_argument("--name", help="a display name")
    _prepare_args(importing)
    check = model_commands.add_parser(
        "check", help="perplexity over a text, and llama.cpp's on the source GGUF where it is installed"
    )
    check.add_argument("id", help="model id (see: inkwell models list)")
    check.add_argument("--text", type=Path, help="a UTF-8 text file (default: Inkwell's held-out texts)")
    check.add_argument("--gguf", type=Path, help="the GGUF file to compare with, if it moved since the import")
    check.add_argument("--quantization", help="the variant to check (default: the CPU one)")
    check.add_argument("--threads", type=int)
    check.add_argument("--json", action="store_true")
    default = model_commands.add_parser("default", help="make a model the one Inkwell uses")
    default.add_argument("id")
    delete = model_commands.add_parser("delete", help="delete a prepared model (its source file stays)")
    delete.add_argument("id")
    from desktop_app import docs_commands, eval_commands, mcp_commands, remote_commands

    remote_commands.add_parser(commands)
    mcp_commands.add_parser(commands)
    docs_commands.add_parser(commands)
    eval_commands.add_parser(commands)
    return parser


def _prepare_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", type=Path, help="folder to install into (default: the models folder)")
    parser.add_argument("--quantizations", default="q4,fp16", help="comma-separated: q4, q8, fp16, fp32")
    parser.add_argument(
        "--gpu-variant",
        choices=("auto", "yes", "no"),
        default="auto",
        help="GGUF files: also write an fp16 variant (two bytes a weight) for an NVIDIA GPU's CUDA provider "
        "(auto: where CUDA works and the GPU's memory holds it)",
    )
    parser.add_argument("--force", action="store_true", help="replace a model of the same id")


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    log_path = _setup_logging(args.verbose)
    try:
        return _dispatch(args)
    except UserError as exc:
        print(f"inkwell: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(exc.hint, file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\ninkwell: interrupted", file=sys.stderr)
        return 130
    except Exception:
        log.exception("Unexpected error")
        where = f" Details are in {log_path}." if log_path else ""
        print(f"inkwell: something went wrong.{where}", file=sys.stderr)
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "ask":
        from desktop_app import ask_command

        return ask_command.run(args, _settings_from(args), _loader(args))
    if args.command == "models":
        return _models(args)
    if args.command == "database":
        return _database(args)
    if args.command == "serve":
        return _serve(args)
    if args.command in ("docs", "servers"):  # loaded for these commands only
        from desktop_app import docs_commands, remote_commands

        return docs_commands.run(args) if args.command == "docs" else remote_commands.run(args)
    if args.command == "eval":
        from desktop_app import eval_commands

        return eval_commands.run(args)
    if args.command == "mcp":
        from desktop_app import mcp_commands

        return mcp_commands.run(args)
    if args.command in ("chats", "export", "import", "drafts", "settings"):
        from desktop_app import library
        from desktop_app.qt_documents import write_rich  # PDF/ODT; loads Qt for library commands only

        return library.run(args, write_rich)
    if args.self_test:
        from desktop_app.app import self_test

        return self_test(args.app_provider)
    if args.command is None:
        from desktop_app.app import run_gui

        return run_gui(args.app_provider)
    if args.command == "chat":
        return _chat(args, sys.stdin, sys.stdout)
    raise AssertionError(args.command)


def _loader(args: argparse.Namespace, store: Any = None) -> Callable[[], Any]:
    """What loads the engine the arguments (and the saved settings) name; the settings and
    the model are looked up here, the loading is left to whoever calls the loader."""
    from desktop_app.engine import load_engine
    from desktop_app.models.registry import default_registry, split_model_setting
    from desktop_app.session.settings import AppSettings

    provider = args.provider
    preferred_model = preferred_weights = saved_model = None
    speedup = ("auto", "")
    if store is not None:
        saved = AppSettings.load(store)
        provider, saved_model = provider or saved.provider, saved.model
        preferred_model, preferred_weights = split_model_setting(saved.model)
        speedup = (saved.speedup, "" if args.model else saved.draft_model)  # (the draft was chosen for the saved model)
    from desktop_app.remote_commands import remote_loader

    remote = remote_loader(args.model or saved_model, store)  # SERVER:MODEL of an added server
    if remote is not None:
        return remote
    registry = default_registry()
    model = registry.get(args.model or preferred_model)
    quantization = args.quantization or (None if args.model else preferred_weights)

    def load() -> Any:
        from desktop_app.session.speedup import apply_speedup

        engine = load_engine(model.directory, provider or "auto", quantization, args.threads)
        engine.speedup_note = apply_speedup(engine, *speedup, registry, args.threads)
        return engine

    return load


def _chat(args: argparse.Namespace, stdin: TextIO, stdout: TextIO) -> int:
    from desktop_app import terminal_chat

    return terminal_chat.run(args, _settings_from(args), lambda store: _loader(args, store), stdin, stdout)


def _serve(args: argparse.Namespace) -> int:
    from desktop_app.server.serve import ServeOptions, check_host, serve
    from desktop_app.store import open_store

    check_host(args.host, args.allow_network)  # before the model is looked for
    store = open_store()
    try:
        loader = _loader(args, store)
    finally:
        store.close()
    return serve(ServeOptions(args.host, args.port, args.api_key, args.allow_network), loader, sys.stdout)


def _database(args: argparse.Namespace) -> int:
    """Works on the file itself, so that a database open_store() refuses can be dealt with."""
    from desktop_app.store.db import check_integrity, default_db_path, set_aside

    path = default_db_path()
    if not path.exists():
        print(f"There is no database yet ({path}).")
        return 0
    if args.database_command == "check":
        check_integrity(path)
        print(f"{path} passed the integrity check.")
        return 0
    aside = set_aside(path)
    print(f"Moved the database to {aside}; Inkwell will start a new one. Nothing was deleted.")
    return 0


def _models(args: argparse.Namespace) -> int:
    from desktop_app.models.registry import DEFAULT_MODEL_ID, ModelRegistry, default_output_dir, default_registry

    if args.models_command in ("check", "default", "delete"):
        from desktop_app import library

        return library.model_command(args)
    if args.models_command == "list":
        from desktop_app.library import saved_model_id
        from desktop_app.remote_commands import remote_model_rows

        registry = default_registry()
        models = registry.list(kind=None)
        default_id = registry.default_id(saved_model_id())
        if not models and not args.json:
            print("No models are prepared yet. Run: inkwell models prepare")
        for m in [] if args.json else models:
            star = "*" if m.id == default_id else " "
            quants = ",".join(v.quantization for v in m.manifest.variants)
            role = " (embeddings, for document search)" if m.manifest.kind == "embedding" else ""
            print(f"{star} {m.id:32} {m.size_bytes / 1e6:8.1f} MB  {quants:12} {m.directory}{role}")
        remote = remote_model_rows(args.json)  # asks only the servers the user added
        if args.json:
            print(json.dumps([m.as_dict(default_id) for m in models] + remote, indent=2))
        return 0

    from desktop_app.models.gguf_import import is_current
    from desktop_app.models.prepare import prepare_default, prepare_model

    out = args.out or default_output_dir()
    quantizations = tuple(q.strip() for q in args.quantizations.split(",") if q.strip())
    started = time.monotonic()

    def progress(step: int, total: int, message: str) -> None:
        print(f"[{step}/{total}] {message}  ({time.monotonic() - started:.0f} s)", flush=True)

    gpu = {"auto": None, "yes": True, "no": False}[args.gpu_variant]
    _quiet_export_tools()
    if args.models_command == "prepare":
        installed = next((m for m in ModelRegistry([out]).list() if m.id == DEFAULT_MODEL_ID), None)
        if args.if_missing and installed is not None:
            if is_current(installed.manifest):
                print(f"The default model is already prepared in {out / DEFAULT_MODEL_ID}.")
                return 0
            print("The default model was prepared by an earlier Inkwell; preparing it again.")
        path = prepare_default(out, args.force or args.if_missing, progress, None, quantizations, gpu)
    else:
        path = prepare_model(args.path, out, args.model_id, args.name, quantizations, args.force, progress, None, gpu)
    print(f"Prepared {path.name} in {path}")
    return 0


def _quiet_export_tools() -> None:
    """Keep the exporters' warnings and per-tensor validation lines out of the terminal."""
    import warnings

    warnings.filterwarnings("ignore")
    for name in ("transformers", "optimum", "onnxruntime", "torch", "onnxscript"):
        logging.getLogger(name).setLevel(logging.ERROR)
    try:  # both libraries keep their own handlers and levels
        from optimum.utils import logging as optimum_logging
        from transformers.utils import logging as transformers_logging

        optimum_logging.set_verbosity_error()
        transformers_logging.set_verbosity_error()  # type: ignore[no-untyped-call]
    except ImportError:
        pass  # preparation itself reports the missing export tools
