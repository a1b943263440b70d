"""What the store keeps: conversations (message trees), messages, drafts and revisions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from desktop_app.core.chat import ToolCall

MessageStatus = Literal["complete", "streaming", "interrupted", "cancelled", "failed"]


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    created: str
    updated: str
    pinned: bool = False
    archived: bool = False
    deleted_at: str | None = None
    system_prompt: str = ""
    model_id: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    current_leaf_id: str | None = None
    title_is_auto: bool = True


@dataclass(frozen=True)
class Message:
    id: str
    conversation_id: str
    parent_id: str | None
    role: str
    content: str
    created: str
    status: MessageStatus = "complete"
    model_id: str | None = None
    provider: str | None = None
    settings: dict[str, Any] | None = None
    seed: int | None = None
    prompt_tokens: int | None = None
    generated_tokens: int | None = None
    ttft_ms: float | None = None
    tokens_per_s: float | None = None
    finish_reason: str | None = None
    reasoning: str = ""  # a thinking model's, apart from the answer in `content`
    reasoning_ms: float | None = None
    tool_uses: tuple[ToolUse, ...] = ()  # the tools the reply called, in order, with their results


@dataclass(frozen=True)
class ToolUse:
    """A tool the model called while writing a reply, and what came back (`error`: the
    result is an error message: the tool failed, timed out or was not allowed)."""

    call: ToolCall
    result: str
    error: bool = False
    server: str = ""  # the MCP server's name, or "builtin"
    round: int = 0  # the model's turn that called it: calls of one round were asked for together

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.call.id,
            "name": self.call.name,
            "arguments": self.call.arguments,
            "result": self.result,
            "error": self.error,
            "server": self.server,
            "round": self.round,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ToolUse:
        call = ToolCall(str(data.get("id", "")), str(data.get("name", "")), str(data.get("arguments", "")))
        return cls(
            call,
            str(data.get("result", "")),
            bool(data.get("error", False)),
            str(data.get("server", "")),
            int(data.get("round", 0)),
        )


@dataclass(frozen=True)
class Draft:
    id: str
    title: str
    body: str
    created: str
    updated: str
    deleted_at: str | None = None


@dataclass(frozen=True)
class DraftRevision:
    id: str
    draft_id: str
    title: str
    body: str
    created: str


@dataclass(frozen=True)
class SearchHit:
    kind: Literal["conversation", "message", "draft"]
    title: str
    snippet: str  # matches wrapped in SearchHit.MARK_START / MARK_END
    rank: float
    conversation_id: str | None = None
    message_id: str | None = None
    draft_id: str | None = None

    MARK_START = "\x02"
    MARK_END = "\x03"

    def plain_snippet(self, start: str = "[", end: str = "]") -> str:
        return self.snippet.replace(self.MARK_START, start).replace(self.MARK_END, end)


@dataclass(frozen=True)
class LibraryDocument:
    """A file in the document library: read where it is, never copied."""

    id: str
    collection: str
    path: str
    kind: str
    size: int
    status: Literal["indexed", "failed", "pending"]  # pending: added, not read yet
    reason: str  # why it failed, for the user
    chunks: int
    indexed: str


@dataclass(frozen=True)
class Passage:
    """A passage of a library document, as retrieval ranks it (`score`: higher is better)."""

    document_id: str
    path: str
    collection: str
    heading: str
    text: str
    page: int | None
    page_end: int | None
    line_start: int | None
    line_end: int | None
    score: float
    chunk: int = 0  # the passage's number in the library (0 for a passage kept with a reply)

    @property
    def where(self) -> str:
        """Where in the file: "page 3", "pages 3-4", "lines 10-24", or ""."""
        if self.page is not None:
            if self.page_end is not None and self.page_end != self.page:
                return f"pages {self.page}-{self.page_end}"
            return f"page {self.page}"
        if self.line_start is not None:
            if self.line_end is not None and self.line_end != self.line_start:
                return f"lines {self.line_start}-{self.line_end}"
            return f"line {self.line_start}"
        return ""

    @property
    def label(self) -> str:
        """How a source is named to the model and the user: `file name, page 3 — heading`."""
        name = self.path.replace("\\", "/").rsplit("/", 1)[-1]
        where = f", {self.where}" if self.where else ""
        heading = f" — {self.heading}" if self.heading else ""
        return f"{name}{where}{heading}"
