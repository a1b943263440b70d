"""`inkwell chat`: a conversation in the terminal, saved to the database as it streams."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, TextIO

from desktop_app import __version__
from desktop_app.core.errors import UserError
from desktop_app.core.generation import GenerationSettings
from desktop_app.session.chat import BASE_MODEL_NOTE, ChatSession, ModelRef
from desktop_app.session.scheduler import Scheduler, Source
from desktop_app.store import Store, open_store


def run(
    args: argparse.Namespace,
    settings: GenerationSettings,
    loader: Callable[[Store], Callable[[], Any]],
    stdin: TextIO,
    stdout: TextIO,
) -> int:
    """A conversation in the terminal, saved to the database as it streams: the same turns
    as the window's (desktop_app.session), answered on the scheduler's thread."""
    store = open_store()
    scheduler = Scheduler(loader(store))  # settings read here, on the store's thread
    try:
        scheduler.start()
        info = scheduler.wait_until_loaded()
        session = ChatSession(store, lambda: settings)
        model = ModelRef.of(info)
        conversation_id: str | None = None
        print(
            f"Inkwell {__version__}: {info.model_name} on {info.provider} ({info.provider_reason}).\n"
            "Type a message and press Enter. /new starts over, /quit leaves. Chats are saved (inkwell chats list).",
            file=stdout,
        )
        if info.base_model:
            print(BASE_MODEL_NOTE, file=stdout)
        while True:
            stdout.write("\nyou> ")
            stdout.flush()
            line = stdin.readline()
            if not line or line.strip() in ("/quit", "/exit"):
                stdout.write("\n")
                return 0
            text = line.strip()
            if not text:
                continue
            if text == "/new":
                conversation_id = None
                print("(a new conversation)", file=stdout)
                continue
            if conversation_id is None:
                conversation_id = session.new_conversation(args.system or "", settings, info.model_id).id
            _user, turn = session.send(conversation_id, text, model)
            stdout.write("inkwell> ")
            handle = scheduler.submit(turn.request, Source.CHAT)

            def show(piece: str) -> None:
                stdout.write(piece)
                stdout.flush()

            try:
                turn.run(handle.events(), show)
            except KeyboardInterrupt:
                handle.cancel()
                turn.run(handle.events())  # the rest arrives within a token, marked stopped
                stdout.write(" [stopped]")
            except UserError as exc:
                print(f"\n{exc}", file=stdout)
                continue
            stdout.write("\n")
    finally:
        scheduler.shutdown()
        store.close()
