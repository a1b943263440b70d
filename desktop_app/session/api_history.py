"""API requests saved as conversations, when the user asks for that (server_save_history).

The API server answers on many threads and a SQLite connection belongs to one, so the
saving happens on a thread of its own with its own connection to the same database (WAL
lets the window's connection go on reading and writing). Each request becomes one
conversation: its messages as they came, and the reply (or the n replies, as sibling
versions of one reply) with the model and statistics a chat reply records.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from desktop_app.core.records import ToolUse
from desktop_app.engine import Finished, GenerationRequest
from desktop_app.store import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Job:
    request: GenerationRequest
    model_id: str
    provider: str
    results: tuple[Finished, ...]


class ApiHistory:
    """Saves answered API requests on its own thread; `record()` may be called from any thread."""

    def __init__(self, open_store: Callable[[], Store], on_saved: Callable[[str], None] | None = None) -> None:
        self._open_store = open_store
        self._on_saved = on_saved  # called on the saving thread with each new conversation's id
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self.saved: list[str] = []  # conversation ids, in the order they were saved

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="inkwell-api-history", daemon=True)
            self._thread.start()

    def record(self, request: GenerationRequest, model_id: str, provider: str, results: Sequence[Finished]) -> None:
        self._jobs.put(_Job(request, model_id, provider, tuple(results)))

    def close(self, timeout_s: float = 10.0) -> None:
        """Save what is queued, then stop."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        try:
            store = self._open_store()
        except Exception:
            log.exception("API requests cannot be saved: the database did not open")
            return
        try:
            while (job := self._jobs.get()) is not None:
                try:
                    saved = save_api_request(store, job.request, job.model_id, job.provider, job.results)
                except Exception:
                    log.exception("An API request could not be saved to the history")
                    continue
                self.saved.append(saved)
                if self._on_saved is not None:
                    self._on_saved(saved)
        finally:
            store.close()


def save_api_request(
    store: Store, request: GenerationRequest, model_id: str, provider: str, results: Sequence[Finished]
) -> str:
    """One conversation for one request; its id."""
    conversations = store.conversations
    messages = list(request.messages)
    system = messages.pop(0).content if messages and messages[0].role == "system" else ""
    settings = request.settings.to_dict()
    conversation = conversations.create(system_prompt=system, model_id=model_id, settings=settings)
    parent: str | None = None
    results_of = {m.tool_call_id: m.content for m in messages if m.role == "tool"}
    for message in messages:
        if message.role == "tool":  # kept with the call it answers (below)
            continue
        uses = [ToolUse(call, results_of.get(call.id, ""), server="client") for call in message.tool_calls]
        extra: dict[str, Any] = {"tool_calls": uses} if uses else {}
        if message.reasoning:
            extra["reasoning"] = message.reasoning
        parent = conversations.add_message(conversation.id, message.role, message.content, **extra).id
    if request.prompt is not None:  # a text completion: its prompt is what the client wrote
        parent = conversations.add_message(conversation.id, "user", request.prompt).id
    for finished in sorted(results, key=lambda f: f.index):
        reply = conversations.start_reply(
            conversation.id, parent_id=parent, model_id=model_id, provider=provider, settings=settings
        )
        reply.append(finished.text)
        reply.append_reasoning(finished.reasoning)
        for call in finished.tool_calls:  # the client runs them: their results come in its next request
            reply.tool_uses.append(ToolUse(call, "", server="client"))
        reply.finish_with(finished.stats)
    return conversation.id
