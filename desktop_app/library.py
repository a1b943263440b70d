"""The `inkwell chats | export | import | drafts | settings` and `models check | default | delete`
commands: the saved library and the models in it.

No Qt here: PDF and ODT exports use the RichDocumentWriter the caller hands in."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from desktop_app.core.errors import UserError
from desktop_app.session.settings import parse_setting
from desktop_app.store import Store, open_store
from desktop_app.transcripts import CONVERSATION_FORMATS, DRAFT_FORMATS
from desktop_app.transcripts.export import (
    RichDocumentWriter,
    conversations_bytes,
    draft_bytes,
    format_from_path,
    write_atomically,
)


def run(args: argparse.Namespace, rich_writer: RichDocumentWriter | None) -> int:
    """Run one library command; `rich_writer` writes PDF and ODT (None: those formats are refused)."""
    store = open_store()
    try:
        if args.command == "export":
            return _export(store, args, rich_writer)
        if args.command == "drafts":
            return _drafts(store, args, rich_writer)
        handler = {"chats": _chats, "import": _import, "settings": _settings}[args.command]
        return handler(store, args)
    finally:
        store.close()


def _chats(store: Store, args: argparse.Namespace) -> int:
    if args.chats_command == "list":
        items = store.conversations.trash() if args.trash else store.conversations.all(archived=args.archived)
        if args.json:
            print(json.dumps([asdict(c) for c in items], ensure_ascii=False, indent=2))
        elif not items:
            print("No conversations yet." if not (args.trash or args.archived) else "Nothing here.")
        for c in [] if args.json else items:
            pin = "📌" if c.pinned else "  "
            print(f"{c.id}  {c.updated[:16].replace('T', ' ')}  {pin} {c.title or 'New chat'}")
        return 0
    if args.chats_command == "search":
        hits = store.search.search(args.query)
        if args.json:
            print(json.dumps([asdict(h) | {"snippet": h.plain_snippet()} for h in hits], ensure_ascii=False, indent=2))
            return 0
        if not hits:
            print("No matches.")
        for hit in hits:
            where = hit.conversation_id or hit.draft_id
            print(f"{hit.kind:12} {where}  {hit.title}\n             {hit.plain_snippet()}")
        return 0
    from desktop_app.transcripts.render import Transcript, transcript_markdown

    conversation = store.conversations.get(args.id)
    print(transcript_markdown([Transcript(conversation, store.conversations.path(conversation.id))]))
    return 0


def _export(store: Store, args: argparse.Namespace, rich_writer: RichDocumentWriter | None) -> int:
    if args.all == bool(args.ids):
        raise UserError("Name the conversations to export, or use --all (not both).")
    ids = (
        [c.id for c in store.conversations.all()] + [c.id for c in store.conversations.all(archived=True)]
        if args.all
        else args.ids
    )
    fmt = args.format or format_from_path(args.out, CONVERSATION_FORMATS)
    data = conversations_bytes(store, ids, fmt, rich_writer, reasoning=args.with_reasoning)
    write_atomically(args.out, data, overwrite=args.force)
    print(f"Exported {len(ids)} conversation{'s' if len(ids) != 1 else ''} to {args.out}")
    return 0


def _import(store: Store, args: argparse.Namespace) -> int:
    from desktop_app.transcripts.importing import import_file

    print(import_file(store, args.file).message)
    return 0


def _drafts(store: Store, args: argparse.Namespace, rich_writer: RichDocumentWriter | None) -> int:
    if args.drafts_command == "list":
        drafts = store.drafts.all()
        if args.json:
            print(json.dumps([asdict(d) for d in drafts], ensure_ascii=False, indent=2))
        elif not drafts:
            print("No drafts yet.")
        for d in [] if args.json else drafts:
            print(f"{d.id}  {d.updated[:16].replace('T', ' ')}  {d.title}  ({len(d.body.split())} words)")
        return 0
    fmt = args.format or format_from_path(args.out, DRAFT_FORMATS)
    write_atomically(args.out, draft_bytes(store, args.id, fmt, rich_writer), overwrite=args.force)
    print(f"Exported the draft to {args.out}")
    return 0


def _settings(store: Store, args: argparse.Namespace) -> int:
    if args.key is None:
        for key, value in store.settings.all().items():
            if key.endswith("api_key"):  # a secret: shown only when asked for by name
                print(f"{key} = (hidden; inkwell settings {key} shows it)")
            else:
                print(f"{key} = {json.dumps(value)}")
        return 0
    if args.value is None:
        print(json.dumps(store.settings.value(args.key)))
        return 0
    value = parse_setting(args.key, args.value)
    store.settings.set(args.key, value)
    print(f"{args.key} = {json.dumps(value)}")
    return 0


def saved_model_id() -> str | None:
    from desktop_app.models.registry import split_model_setting

    store = open_store()
    try:
        return split_model_setting(store.settings.get("model", ""))[0]
    finally:
        store.close()


def model_command(args: argparse.Namespace) -> int:
    """models check | default | delete."""
    from desktop_app.models.registry import default_registry

    registry = default_registry()
    model = registry.get(args.id, kind=None if args.models_command == "delete" else "chat")
    if args.models_command == "check":
        from desktop_app.models.check import check_model

        text = None
        if args.text is not None:
            try:
                text = args.text.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise UserError(f"The text {args.text} cannot be read: {exc}.") from None
        report = check_model(model, text, args.quantization, args.gguf, args.threads)
        print(json.dumps(report.as_dict(), indent=2) if args.json else "\n".join(report.lines()))
        return 0

    store = open_store()
    try:
        saved = store.settings.get("model", "")
        if args.models_command == "default":
            store.settings.set("model", model.id)
            print(f"Inkwell now uses {model.manifest.name} ({model.id}).")
            return 0
        registry.delete(model.id)
        if saved.split(":")[0] == model.id:
            store.settings.set("model", "")
        if store.settings.get("documents_embedding_model", "") == model.id:
            store.settings.set("documents_embedding_model", "")  # automatic again
        print(f"Deleted {model.manifest.name} ({model.directory}).")
        return 0
    finally:
        store.close()
