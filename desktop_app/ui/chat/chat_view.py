"""The conversation as rendered Markdown, with a streaming reply updated in place."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices, QTextCursor
from PySide6.QtWidgets import QTextBrowser, QWidget

from desktop_app.core.citations import replace_citations
from desktop_app.core.records import Message
from desktop_app.session.chat import Branches
from desktop_app.transcripts.render import CodeHeader, SourceRow, markdown_to_html
from desktop_app.ui.chat.message_actions import MessageAction, MessageRequest

SPEAKERS = {"user": "You", "assistant": "Inkwell", "system": "System"}
NOTES = {"interrupted": " (interrupted)", "cancelled": " (stopped)", "failed": " (failed)"}


ACTION_SCHEME = "inkwell"
# Opening a chat renders its last messages only (2,000 would take about two seconds);
# a link at the top shows the earlier ones, a page at a time.
PAGE_SIZE = 100


def _link(action: MessageAction, message_id: str, label: str, block: int | None = None) -> str:
    href = f"{ACTION_SCHEME}:{MessageRequest(action, message_id, block).link()}"
    return f"<a href='{href}' style='color:#6e7781;text-decoration:none'>{label}</a>"


def _code_header(message_id: str) -> CodeHeader:
    def header(index: int, language: str) -> str:
        label = html.escape(language or "code")
        link = _link(MessageAction.COPY_CODE, message_id, "Copy", index)
        return f"<p style='margin:6px 0 0 0; font-size:small; color:#6e7781'>{label} · {link}</p>"

    return header


def _sources_html(message_id: str, cited: Sequence[SourceRow]) -> str:
    links = [_link(MessageAction.SOURCE, message_id, f"[{n}] {html.escape(p.label)}", n) for n, p, _c in cited]
    return f"<p style='margin:4px 0 0 0; font-size:small; color:#6e7781'>Sources: {' · '.join(links)}</p>"


def message_html(
    role: str,
    content: str,
    status: str = "complete",
    message_id: str | None = None,
    branches: Branches | None = None,
    sources: Sequence[SourceRow] = (),
) -> str:
    colour = "#2f6feb" if role == "user" else "#8250df"
    speaker = html.escape(SPEAKERS.get(role, role) + NOTES.get(status, ""))
    actions = ""
    if message_id is not None:
        links = [_link(MessageAction.COPY, message_id, "Copy")]
        links.append(
            _link(MessageAction.EDIT, message_id, "Edit")
            if role == "user"
            else _link(MessageAction.REGENERATE, message_id, "Regenerate")
        )
        if role == "assistant":
            links.append(_link(MessageAction.TO_DRAFT, message_id, "To draft"))
        links.append(_link(MessageAction.DELETE, message_id, "Delete"))
        if branches is not None and branches.count > 1:
            back = _link(MessageAction.BRANCH, branches.previous_id, "‹") if branches.previous_id else "‹"
            forward = _link(MessageAction.BRANCH, branches.next_id, "›") if branches.next_id else "›"
            links.append(f"{back} {branches.position}/{branches.count} {forward}")
        actions = f"<p style='margin:2px 0 0 0; font-size:small'>{' · '.join(links)}</p>"
    anchor = f"<a name='m-{message_id}'></a>" if message_id else ""
    cited = [row for row in sources if row[2]]
    if message_id and cited:  # each [n] the reply cites opens its passage
        href = f"{ACTION_SCHEME}:{MessageAction.SOURCE.value}/{message_id}/"
        content = replace_citations(content, {n for n, _p, _c in cited}, lambda n: f"[\\[{n}\\]]({href}{n})")
        actions = _sources_html(message_id, cited) + actions
    body = markdown_to_html(content, _code_header(message_id) if message_id else None)
    # Qt's rich text takes table borders from attributes, not CSS.
    body = body.replace("<table>", "<table border='1' cellspacing='0' cellpadding='4' style='border-color:#8c959f'>")
    return f"<p style='margin-top:14px'>{anchor}<b style='color:{colour}'>{speaker}</b></p>{body}{actions}"


class ChatView(QTextBrowser):
    """Read-only transcript. Links open in the browser only when clicked."""

    action_requested = Signal(object)  # MessageRequest

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setAccessibleName("Conversation")
        self.anchorClicked.connect(self._on_anchor_clicked)
        self._stream_start: int | None = None
        self._follow = True
        self._messages: list[Message] = []
        self._branches: dict[str, Branches] = {}
        self._shown = 0
        self.sources_of: Callable[[str], Sequence[SourceRow]] = lambda _message_id: ()  # a reply's sources
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)

    def show_messages(
        self, messages: list[Message], branches: dict[str, Branches] | None = None, include: str | None = None
    ) -> None:
        """Show the last PAGE_SIZE messages (more if needed to include message `include`)."""
        self._messages = messages
        self._branches = branches or {}
        self._shown = min(len(messages), PAGE_SIZE)
        if include is not None:
            position = next((i for i, m in enumerate(messages) if m.id == include), None)
            if position is not None:
                self._shown = max(self._shown, len(messages) - position)
        self._render()
        self._scroll_to_end()

    def _render(self) -> None:
        self._stream_start = None
        hidden = len(self._messages) - self._shown
        parts = []
        if hidden > 0:
            more = min(hidden, PAGE_SIZE)
            parts.append(
                f"<p align='center'><a href='{ACTION_SCHEME}:more/'>Show {more} earlier message"
                f"{'s' if more != 1 else ''}</a> ({hidden} not shown)</p>"
            )
        parts += [self._html(m, self._branches.get(m.id)) for m in self._messages[hidden:]]
        self.setHtml("".join(parts))

    def _html(self, m: Message, branches: Branches | None = None) -> str:
        sources = self.sources_of(m.id) if m.role == "assistant" else ()
        return message_html(m.role, m.content, m.status, m.id, branches, sources)

    @property
    def shown_count(self) -> int:
        return self._shown

    def show_earlier(self) -> None:
        """Render one more page of older messages, keeping the reader's place."""
        bar = self.verticalScrollBar()
        from_bottom = bar.maximum() - bar.value()
        self._shown = min(len(self._messages), self._shown + PAGE_SIZE)
        self._render()
        bar.setValue(bar.maximum() - from_bottom)

    def scroll_to_message(self, message_id: str) -> None:
        self._follow = False
        self.scrollToAnchor(f"m-{message_id}")

    def append_message(self, message: Message) -> None:
        """Add a new message at the end without re-rendering the rest of the chat."""
        cursor = self.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        if self._messages or self._shown:
            cursor.insertBlock()
        cursor.insertHtml(self._html(message))
        self._messages = [*self._messages, message]
        self._shown += 1
        self._scroll_to_end()

    def begin_stream(self) -> None:
        cursor = self.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertBlock()
        self._stream_start = cursor.position()
        self._follow = True

    def update_stream(self, text: str, status: str = "complete") -> None:
        """Re-render just the reply being written (the rest of the transcript stays)."""
        if self._stream_start is None:
            self.begin_stream()
        assert self._stream_start is not None
        cursor = self.textCursor()
        cursor.setPosition(self._stream_start)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertHtml(message_html("assistant", text or "…", status))
        if self._follow:
            self._scroll_to_end()

    def end_stream(self, message: Message | None = None, branches: Branches | None = None) -> None:
        """Stop streaming; given the saved message, show it in place of the stream with its
        action links (re-rendering only the reply, not the whole chat)."""
        if message is not None and self._stream_start is not None:
            cursor = self.textCursor()
            cursor.setPosition(self._stream_start)
            cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
            cursor.insertHtml(self._html(message, branches))
            self._messages = [*self._messages, message]
            self._shown += 1
            if self._follow:
                self._scroll_to_end()
        self._stream_start = None

    def _scroll_to_end(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _on_scrolled(self, value: int) -> None:
        # Follow the reply unless the user scrolled up to read something.
        self._follow = value >= self.verticalScrollBar().maximum() - 4

    def _on_anchor_clicked(self, url: QUrl) -> None:
        if url.scheme() == ACTION_SCHEME:
            if url.path().startswith("more/"):
                self.show_earlier()
                return
            request = MessageRequest.parse(url.path())
            if request is not None:
                self.action_requested.emit(request)
        elif url.scheme() in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)
