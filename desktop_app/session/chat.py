"""A turn of chat, written once: the window, `inkwell chat` and the API server call this.

`ChatSession` turns what the user did (send, regenerate, edit) into a `Turn`: the user's
message and the reply are in the store, and the turn holds the request for the model,
built from the stored branch. The caller submits `turn.request` to its scheduler and
hands each event to `turn.record()` on the thread that owns the store (simonw/llm's
Conversation/Response split: the caller drives the response; the library records it).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from desktop_app.core.budget import estimate_tokens
from desktop_app.core.chat import ChatMessage, ToolCall
from desktop_app.core.errors import UserError
from desktop_app.core.generation import GenerationSettings
from desktop_app.core.i18n import marked, translate
from desktop_app.core.records import Conversation, Message, ToolUse
from desktop_app.engine import Finished, GenerationRequest, PromptPrepared, ReasoningChunk, TextChunk
from desktop_app.session.grounding import Grounding, cited, ground, standalone_query
from desktop_app.session.retrieval import Retriever
from desktop_app.session.scheduler import Failed
from desktop_app.session.tools import next_request
from desktop_app.store import Store
from desktop_app.store.conversations import StreamingReply
from desktop_app.store.documents import DocumentRepository
from desktop_app.tools.toolbox import Toolbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Branches:
    """Where a message stands among its alternatives (edits or regenerations)."""

    position: int  # 1-based
    count: int
    previous_id: str | None
    next_id: str | None


def branch_place(siblings: list[str], message_id: str) -> Branches | None:
    """Where a message stands among its alternatives, or None when it has none."""
    if len(siblings) < 2:
        return None
    i = siblings.index(message_id)
    return Branches(
        i + 1, len(siblings), siblings[i - 1] if i > 0 else None, siblings[i + 1] if i + 1 < len(siblings) else None
    )


@dataclass(frozen=True)
class BranchView:
    """One branch of a conversation as shown: its messages, the switchers, the context used."""

    messages: list[Message]
    branches: dict[str, Branches]
    context_used: int  # prompt + reply tokens of the branch's last reply


@dataclass(frozen=True)
class ModelRef:
    """The model a reply is written by, as replies record it."""

    model_id: str
    provider: str  # "cpu" or "cuda"
    base_model: bool = False  # continues a transcript of the chat instead of following it
    context_length: int = 4096  # sizes the passages from the user's documents
    count_tokens: Callable[[str], int] = field(default=estimate_tokens, compare=False)

    @classmethod
    def of(cls, info: Any) -> ModelRef:
        """From the scheduler's EngineInfo."""
        return cls(info.model_id, info.provider_name, info.base_model, info.context_length, info.count_tokens)


# A base model continues the chat's transcript ("User: ...", "Assistant: ..."); this stops it
# before it writes the user's next line too.
BASE_MODEL_STOPS = ("\nUser:",)
BASE_MODEL_NOTE = marked(
    "ChatSession",
    "This is a base model: it continues text rather than answering it. The chat is given to "
    "it as a transcript to continue, so its replies may wander; Continue writing in the "
    "writing mode suits it best.",
)


def as_chat(branch: Iterable[Message]) -> list[ChatMessage]:
    """A stored branch as the model reads it: a reply's reasoning goes with it (the template
    decides whether to show it again), and a reply that called tools becomes the rounds it
    took: the calls, their results, then the answer."""
    chat: list[ChatMessage] = []
    for message in branch:
        if message.role == "assistant" and message.tool_uses:
            rounds: dict[int, list[ToolUse]] = {}
            for use in message.tool_uses:
                rounds.setdefault(use.round, []).append(use)
            for uses in rounds.values():
                chat.append(ChatMessage("assistant", "", tool_calls=tuple(use.call for use in uses)))
                chat += [ChatMessage("tool", use.result, tool_call_id=use.call.id, name=use.call.name) for use in uses]
        role = message.role if message.role in ("system", "user", "assistant") else "user"
        chat.append(ChatMessage(role, message.content, reasoning=message.reasoning))  # type: ignore[arg-type]
    return chat


class Turn:
    """A reply being written: records the model's events into the store."""

    def __init__(
        self,
        conversation_id: str,
        request: GenerationRequest,
        reply: StreamingReply,
        grounding: Grounding | None = None,
        documents: DocumentRepository | None = None,
        toolbox: Toolbox | None = None,
    ) -> None:
        self.conversation_id = conversation_id
        self.request = request
        self.reply = reply
        self.grounding = grounding  # the sources the reply was given, numbered for citing
        self._documents = documents
        self.toolbox = toolbox  # the tools the model was offered (None: none)
        self.prepared: PromptPrepared | None = None
        self.message: Message | None = None  # the saved reply, once it is over
        self.calls: tuple[ToolCall, ...] = ()  # the model asked for these: run them, then go_on()
        self.round = 0
        self._asked: Finished | None = None

    @property
    def message_id(self) -> str:
        return self.reply.message_id

    @property
    def text(self) -> str:
        return self.reply.text

    @property
    def over(self) -> bool:
        return self.message is not None

    def record(self, event: object) -> None:
        """Record one event of the request (version 0 only: a chat reply has one version)."""
        if self.over:
            return
        if isinstance(event, PromptPrepared):
            self.prepared = event
        elif isinstance(event, TextChunk) and event.index == 0:
            self.reply.append(event.text)  # saved at least once a second
        elif isinstance(event, ReasoningChunk) and event.index == 0:
            self.reply.append_reasoning(event.text)
        elif isinstance(event, Finished) and event.index == 0:
            if event.tool_calls and self.toolbox is not None:
                self.calls, self._asked = event.tool_calls, event  # the reply goes on after the calls
                self.reply.checkpoint()  # what it wrote so far is saved before any tool runs
                return
            self.message = self.reply.finish_with(event.stats)
            self._keep_sources()

    def go_on(self, uses: Sequence[ToolUse]) -> GenerationRequest:
        """The calls ran (or were refused): keep them with the reply, and the request that
        gives the model their results."""
        assert self._asked is not None and not self.over
        for use in uses:
            self.reply.add_tool_use(use)
        if self.reply.text.strip():
            self.reply.append("\n\n")
        if self.reply.reasoning.strip():
            self.reply.append_reasoning("\n\n")
        self.request = next_request(self.request, self._asked, uses, self.round)
        self.round += 1
        self.calls, self._asked = (), None
        return self.request

    def _keep_sources(self) -> None:
        """The reply's sources, with the ones it cited marked, stored beside it."""
        if self.grounding is None or self._documents is None or not self.grounding.passages:
            return
        try:
            self._documents.save_sources(
                self.reply.message_id, self.grounding.passages, cited(self.reply.text, self.grounding)
            )
        except UserError as exc:  # the disk may be full: the reply itself is saved
            log.error("The reply's sources could not be saved: %s", exc)

    def fail(self) -> None:
        """The model could not answer: keep what was written, marked failed."""
        if not self.over:
            # The disk may be full: then the caller's report of the failure is what matters.
            with contextlib.suppress(UserError):
                self.message = self.reply.finish("failed", finish_reason="error")
                self._keep_sources()

    def abandon(self) -> None:
        """Quitting mid-reply: keep what was written, marked stopped."""
        if not self.over:
            try:
                self.message = self.reply.finish("cancelled", finish_reason="cancelled")
                self._keep_sources()
            except UserError as exc:
                log.error("The partial reply could not be saved: %s", exc)

    def run(self, events: Iterable[object], on_text: Callable[[str], None] | None = None) -> Message | None:
        """Record a whole stream of events (the command line's way); `on_text` sees the text.
        A failure is recorded, then raised as a UserError."""
        for event in events:
            if isinstance(event, Failed):
                self.fail()
                raise UserError(event.message)
            self.record(event)
            if on_text is not None and isinstance(event, TextChunk) and event.index == 0:
                on_text(event.text)
        return self.message


class ChatSession:
    """Conversations as turns: the one place that builds a chat request."""

    def __init__(
        self,
        store: Store,
        default_settings: Callable[[], GenerationSettings],
        library: Retriever | None = None,
        tools: Callable[[], Toolbox | None] | None = None,
    ) -> None:
        self.store = store
        self.default_settings = default_settings
        self.library = library or Retriever(store)  # what answers from the documents searches
        self.tools = tools  # the tools the user turned on and allowed, offered in every chat

    # ---- settings ----

    def settings_for(self, stored: dict[str, Any]) -> GenerationSettings:
        """A chat's stored settings over today's defaults (keys it lacks come from them)."""
        defaults = self.default_settings()
        try:
            return GenerationSettings.from_dict(defaults.to_dict() | stored)
        except (UserError, TypeError, ValueError):
            return defaults

    def new_conversation(self, system_prompt: str, settings: GenerationSettings, model_id: str) -> Conversation:
        return self.store.conversations.create(
            system_prompt=system_prompt, model_id=model_id, settings=settings.to_dict()
        )

    def configure(self, conversation_id: str, system_prompt: str, settings: GenerationSettings) -> None:
        self.store.conversations.configure(conversation_id, system_prompt=system_prompt, settings=settings.to_dict())

    # ---- turns ----

    def send(self, conversation_id: str, text: str, model: ModelRef) -> tuple[Message, Turn]:
        """The user's message at the end of the current branch, and the turn that answers it."""
        text = text.strip()
        if not text:
            raise UserError(translate("Errors", "The message is empty."))
        user = self.store.conversations.add_message(conversation_id, "user", text)
        try:
            return user, self.reply_to(conversation_id, user.id, model)
        except UserError:  # no reply can start (its sources do not fit): the message is not kept
            self.store.conversations.delete_message(user.id)
            raise

    def regenerate(self, message_id: str, model: ModelRef) -> Turn:
        """Another version of a reply, beside the old one."""
        message = self.store.conversations.message(message_id)
        if message.role != "assistant" or message.parent_id is None:
            raise UserError(translate("Errors", "Only a reply can be written again."))
        return self.reply_to(message.conversation_id, message.parent_id, model)

    def edit(self, message_id: str, text: str, model: ModelRef) -> Turn | None:
        """A new version of the user's message (the old one is kept) and its reply; None
        when the text did not change."""
        message = self.store.conversations.message(message_id)
        text = text.strip()
        if not text or text == message.content:
            return None
        edited = self.store.conversations.edit_message(message_id, text)
        return self.reply_to(message.conversation_id, edited.id, model)

    def reply_to(self, conversation_id: str, parent_id: str, model: ModelRef) -> Turn:
        """Write a reply under `parent_id` (a user message) from the branch that ends there."""
        conversations = self.store.conversations
        conversation = conversations.get(conversation_id)
        settings = self.settings_for(conversation.settings)
        if model.base_model:
            settings = replace(settings, stop_sequences=(*settings.stop_sequences, *BASE_MODEL_STOPS))
        branch = conversations.path(conversation_id, parent_id)
        history = as_chat(branch)
        reserve = settings.max_new_tokens + model.count_tokens(conversation.system_prompt)
        grounding = self._ground(conversation_id, history, model, reserve)
        system_prompt = "\n\n".join(
            text for text in (conversation.system_prompt, grounding.system_prompt() if grounding else "") if text
        )
        system = [ChatMessage("system", system_prompt)] if system_prompt else []
        # Tools for a local model that follows a chat (a model server's API is not told of them).
        local = not model.provider.startswith("remote:")
        offered = self.tools is not None and local and not model.base_model and not settings.beam_search
        toolbox = self.tools() if offered and self.tools is not None else None
        tools = toolbox.definitions() if toolbox else ()
        request = GenerationRequest(messages=tuple(system + history), settings=settings, tools=tools)
        reply = conversations.start_reply(
            conversation_id,
            parent_id,
            model_id=model.model_id,
            provider=model.provider,
            settings=settings.to_dict(),
        )
        return Turn(conversation_id, request, reply, grounding, self.store.documents, toolbox or None)

    def _ground(
        self, conversation_id: str, history: list[ChatMessage], model: ModelRef, reserved: int
    ) -> Grounding | None:
        """Sources from the conversation's collections for its last question, or None.
        `reserved`: the reply's tokens and the system prompt's."""
        collections = self.store.documents.attached(conversation_id)
        if not collections or not history:
            return None
        questions = [m.content for m in history if m.role == "user"]
        # The recent turns keep their room (older ones are left out to fit, as in any long chat).
        reserve = sum(model.count_tokens(m.content) + 4 for m in history[-6:]) + reserved
        return ground(
            self.library,
            standalone_query(questions),
            collections,
            model.context_length,
            model.count_tokens,
            reserve,
        )

    # ---- the branch view ----

    def branch_view(self, conversation_id: str, leaf_id: str | None = None) -> BranchView:
        """The current branch (or the one ending at `leaf_id`) with its branch switchers."""
        conversations = self.store.conversations
        everything = conversations.messages(conversation_id)
        by_parent: dict[str | None, list[str]] = {}
        for message in everything:
            by_parent.setdefault(message.parent_id, []).append(message.id)
        branches = {}
        for message in everything:
            place = branch_place(by_parent[message.parent_id], message.id)
            if place is not None:
                branches[message.id] = place
        path = conversations.path(conversation_id, leaf_id)
        last = next((m for m in reversed(path) if m.role == "assistant" and m.prompt_tokens is not None), None)
        used = (last.prompt_tokens or 0) + (last.generated_tokens or 0) if last else 0
        return BranchView(path, branches, used)

    def branches_of(self, message_id: str) -> Branches | None:
        return branch_place([m.id for m in self.store.conversations.siblings(message_id)], message_id)
