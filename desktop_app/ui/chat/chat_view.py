"""The conversation as rendered Markdown in a centred, readable column, with a streaming
reply updated in place and the actions of the message under the pointer."""

from __future__ import annotations

import bisect
import html
from collections.abc import Callable, Sequence

from PySide6.QtCore import QCoreApplication, QEvent, QPoint, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QContextMenuEvent, QDesktopServices, QMouseEvent, QResizeEvent, QTextCursor
from PySide6.QtWidgets import QTextBrowser, QWidget

from desktop_app.core.citations import replace_citations
from desktop_app.core.records import Message, ToolUse
from desktop_app.session.chat import Branches
from desktop_app.transcripts.render import CodeHeader, SourceRow, markdown_to_html
from desktop_app.ui.chat.action_bar import MessageActionBar, add_message_actions
from desktop_app.ui.chat.folds import ACTION_SCHEME, reasoning_html, tools_html
from desktop_app.ui.chat.message_actions import MessageAction, MessageRequest
from desktop_app.ui.theme import LIGHT, Colours, colours_for

# Opening a chat renders its last messages only (2,000 would take about two seconds);
# a link at the top shows the earlier ones, a page at a time.
PAGE_SIZE = 100
# The column's width in average characters: lines of about 70-80 characters read best.
COLUMN_CHARS = 76
THINKING_DOTS_MS = 400


def _speaker(role: str, status: str) -> str:
    name = {
        "user": QCoreApplication.translate("ChatView", "You"),
        "assistant": QCoreApplication.translate("ChatView", "Inkwell"),
        "system": QCoreApplication.translate("ChatView", "System"),
    }.get(role, role)
    note = {
        "interrupted": QCoreApplication.translate("ChatView", "(interrupted)"),
        "cancelled": QCoreApplication.translate("ChatView", "(stopped)"),
        "failed": QCoreApplication.translate("ChatView", "(failed)"),
    }.get(status)
    return f"{name} {note}" if note else name


def _link(action: MessageAction, message_id: str, label: str, colours: Colours, block: int | None = None) -> str:
    href = f"{ACTION_SCHEME}:{MessageRequest(action, message_id, block).link()}"
    return f"<a href='{href}' style='color:{colours.muted};text-decoration:none'>{label}</a>"


def _code_header(message_id: str, colours: Colours) -> CodeHeader:
    def header(index: int, language: str) -> str:
        label = html.escape(language or QCoreApplication.translate("ChatView", "code"))
        link = _link(
            MessageAction.COPY_CODE,
            message_id,
            html.escape(QCoreApplication.translate("ChatView", "Copy")),
            colours,
            index,
        )
        return (
            f"<table width='100%' cellspacing='0' cellpadding='4' bgcolor='{colours.border}' style='margin-top:8px'>"
            f"<tr><td><span style='font-size:small; color:{colours.text}'>{label}</span></td>"
            f"<td align='right'><span style='font-size:small'>{link}</span></td></tr></table>"
        )

    return header


def _footer(message_id: str, branches: Branches | None, cited: Sequence[SourceRow], colours: Colours) -> str:
    """The versions switcher (‹ 2/3 ›) and the cited sources under a message."""
    parts = []
    if cited:
        links = [
            _link(MessageAction.SOURCE, message_id, f"[{n}] {html.escape(p.label)}", colours, n) for n, p, _c in cited
        ]
        parts.append(html.escape(QCoreApplication.translate("ChatView", "Sources:")) + " " + " · ".join(links))
    if branches is not None and branches.count > 1:
        back = _link(MessageAction.BRANCH, branches.previous_id, "‹", colours) if branches.previous_id else "‹"
        forward = _link(MessageAction.BRANCH, branches.next_id, "›", colours) if branches.next_id else "›"
        parts.append(f"{back} {branches.position}/{branches.count} {forward}")
    if not parts:
        return ""
    return f"<p style='margin:4px 0 0 0; font-size:small; color:{colours.muted}'>{' &nbsp; '.join(parts)}</p>"


def message_html(
    role: str,
    content: str,
    status: str = "complete",
    message_id: str | None = None,
    branches: Branches | None = None,
    sources: Sequence[SourceRow] = (),
    colours: Colours = LIGHT,
    thinking: str = "",
) -> str:
    """A message; `thinking` is its reasoning's HTML (reasoning_html), shown above the answer."""
    speaker = html.escape(_speaker(role, status))
    anchor = f"<a name='m-{message_id}'></a>" if message_id else ""
    cited = [row for row in sources if row[2]]
    if message_id and cited:  # each [n] the reply cites opens its passage
        href = f"{ACTION_SCHEME}:{MessageAction.SOURCE.value}/{message_id}/"
        content = replace_citations(content, {n for n, _p, _c in cited}, lambda n: f"[\\[{n}\\]]({href}{n})")
    header = _code_header(message_id, colours) if message_id else None
    body = markdown_to_html(content, header, dark=colours.dark)
    # Qt's rich text takes table borders from attributes, not CSS.
    body = body.replace(
        "<table>", f"<table border='1' cellspacing='0' cellpadding='4' style='border-color:{colours.border}'>"
    )
    footer = _footer(message_id, branches, cited, colours) if message_id else ""
    name_colour = colours.muted if role == "user" else colours.accent_text
    title = f"<p style='margin:0 0 4px 0'>{anchor}<b style='color:{name_colour}; font-size:small'>{speaker}</b></p>"
    if role == "user":  # the user's words in a tinted block, the replies on the page itself
        return (
            f"<table width='100%' cellspacing='0' cellpadding='10' bgcolor='{colours.soft}' style='margin-top:18px'>"
            f"<tr><td>{title}{body}{footer}</td></tr></table>"
        )
    return f"<div style='margin-top:18px'>{title}{thinking}{body}{footer}</div>"


def thinking_html(dots: int, colours: Colours = LIGHT) -> str:
    """What the reply shows before its first word arrives."""
    text = html.escape(QCoreApplication.translate("ChatView", "Thinking")) + "." * (1 + dots % 3)
    title = f"<b style='color:{colours.accent_text}; font-size:small'>{html.escape(QCoreApplication.translate('ChatView', 'Inkwell'))}</b>"
    return f"<div style='margin-top:18px'><p>{title}</p><p><i style='color:{colours.muted}'>{text}</i></p></div>"


class ChatView(QTextBrowser):
    """Read-only transcript. Links open in the browser only when clicked."""

    action_requested = Signal(object)  # MessageRequest

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chat-view")
        self.setOpenLinks(False)
        self.setAccessibleName(QCoreApplication.translate("ChatView", "Conversation"))
        self.anchorClicked.connect(self._on_anchor_clicked)
        self._stream_start: int | None = None
        self._follow = True
        self._messages: list[Message] = []
        self._branches: dict[str, Branches] = {}
        self._shown = 0
        self._starts: list[int] = []  # the first block of each message shown, in order
        self._ids: list[str] = []
        self._thinking = QTimer(self)
        self._thinking.setInterval(THINKING_DOTS_MS)
        self._thinking.timeout.connect(self._on_thinking_timeout)
        self._dots = 0
        self._restyle_pending = False
        self._open_reasoning: set[str] = set()  # replies whose reasoning the user unfolded
        self.sources_of: Callable[[str], Sequence[SourceRow]] = lambda _message_id: ()  # a reply's sources
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.action_bar = MessageActionBar(self.viewport())
        self.action_bar.action_requested.connect(self.action_requested)
        self.viewport().setMouseTracking(True)
        # A caret the arrow keys move, so the Menu key reaches any message's actions.
        self.setTextInteractionFlags(self.textInteractionFlags() | Qt.TextInteractionFlag.TextSelectableByKeyboard)

    @property
    def colours(self) -> Colours:
        return colours_for(self.palette())

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
        self._thinking.stop()
        hidden = len(self._messages) - self._shown
        parts = []
        if hidden > 0:
            more = min(hidden, PAGE_SIZE)
            text = (
                QCoreApplication.translate("ChatView", "Show {count} earlier messages")
                if more != 1
                else QCoreApplication.translate("ChatView", "Show 1 earlier message")
            )
            rest = QCoreApplication.translate("ChatView", "({count} not shown)").format(count=hidden)
            parts.append(
                f"<p align='center'><a href='{ACTION_SCHEME}:more/'>{html.escape(text.format(count=more))}</a> "
                f"{html.escape(rest)}</p>"
            )
        parts += [self._html(m, self._branches.get(m.id)) for m in self._messages[hidden:]]
        self.setHtml("".join(parts))
        self._apply_column()
        self._index_messages()
        self._restyle_pending = False

    def _html(self, m: Message, branches: Branches | None = None) -> str:
        sources = self.sources_of(m.id) if m.role == "assistant" else ()
        thinking = ""
        if m.reasoning:
            thinking = reasoning_html(m.reasoning, m.reasoning_ms, m.id, m.id in self._open_reasoning, self.colours)
        thinking += tools_html(m.tool_uses, m.id, self._open_reasoning, self.colours)
        return message_html(m.role, m.content, m.status, m.id, branches, sources, self.colours, thinking)

    def toggle_reasoning(self, key: str) -> None:
        """Unfold (or fold) a reply's reasoning (`key`: its id) or one of its tool calls
        (`id/number`), keeping the reader's place."""
        self._open_reasoning ^= {key}
        if self._stream_start is None:
            self._rerender_in_place()

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
        self._index_messages()
        self._scroll_to_end()

    def begin_stream(self) -> None:
        self.hide_action_bar()  # the message under it may be the one being replaced
        cursor = self.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertBlock()
        self._stream_start = cursor.position()
        self._follow = True

    def update_stream(
        self, text: str, status: str = "complete", reasoning: str = "", tools: Sequence[ToolUse] = ()
    ) -> None:
        """Re-render just the reply being written (the rest of the transcript stays); before
        its first word, a "Thinking…" that moves, or the reasoning as it comes, and the
        tools it called so far."""
        if self._stream_start is None:
            self.begin_stream()
        if text or reasoning or tools:
            self._thinking.stop()
            thinking = reasoning_html(reasoning, None, None, False, self.colours, live=not text) if reasoning else ""
            thinking += tools_html(tools, None, set(), self.colours)
            self._replace_stream(message_html("assistant", text, status, colours=self.colours, thinking=thinking))
        else:
            self._dots = 0
            self._replace_stream(thinking_html(self._dots, self.colours))
            self._thinking.start()

    def _replace_stream(self, fragment: str) -> None:
        assert self._stream_start is not None
        cursor = self.textCursor()
        cursor.setPosition(self._stream_start)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertHtml(fragment)
        if self._follow:
            self._scroll_to_end()

    def _on_thinking_timeout(self) -> None:
        if self._stream_start is None:
            self._thinking.stop()
            return
        self._dots += 1
        self._replace_stream(thinking_html(self._dots, self.colours))

    @property
    def thinking(self) -> bool:
        """Whether the reply is waiting for its first word."""
        return self._thinking.isActive()

    def end_stream(self, message: Message | None = None, branches: Branches | None = None) -> None:
        """Stop streaming; given the saved message, show it in place of the stream with its
        actions (re-rendering only the reply, not the whole chat)."""
        self._thinking.stop()
        if message is not None and self._stream_start is not None:
            self._replace_stream(self._html(message, branches))
            self._messages = [*self._messages, message]
            self._shown += 1
        elif self._stream_start is not None:  # failed before a word: no "Thinking" left behind
            cursor = self.textCursor()
            cursor.setPosition(self._stream_start)
            cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
        self._stream_start = None
        self._index_messages()
        if self._restyle_pending:  # the theme changed while the reply was written
            self._rerender_in_place()

    # ---- the column and the messages' places ----

    def _apply_column(self) -> None:
        """Centre a column of about COLUMN_CHARS characters: wider windows get wider margins."""
        width = self.viewport().width()
        column = self.fontMetrics().averageCharWidth() * COLUMN_CHARS + 40
        side = max(16, (width - column) // 2)
        frame = self.document().rootFrame()
        fmt = frame.frameFormat()
        if fmt.leftMargin() != side:
            fmt.setLeftMargin(side)
            fmt.setRightMargin(side)
            fmt.setTopMargin(8)
            fmt.setBottomMargin(28)
            frame.setFrameFormat(fmt)

    def _index_messages(self) -> None:
        """Where each message starts (its anchor's block), for the actions under the pointer;
        the floating actions go, since what they pointed at may have moved or gone."""
        self.hide_action_bar()
        starts, ids = [], []
        block = self.document().begin()
        while block.isValid():
            fragments = block.begin()
            while not fragments.atEnd():
                for name in fragments.fragment().charFormat().anchorNames():
                    if name.startswith("m-"):
                        starts.append(block.blockNumber())
                        ids.append(name[2:])
                fragments += 1
            block = block.next()
        self._starts, self._ids = starts, ids

    def message_at(self, point: QPoint) -> Message | None:
        """The message shown at `point` (viewport coordinates), if any."""
        cursor = self.cursorForPosition(point)
        if not self._starts or (self._stream_start is not None and cursor.position() >= self._stream_start):
            return None  # the reply being written has no actions yet
        block = cursor.blockNumber()
        position = bisect.bisect_right(self._starts, block) - 1
        if position < 0:
            return None
        wanted = self._ids[position]
        return next((m for m in reversed(self._messages) if m.id == wanted), None)

    def _place_action_bar(self, message: Message) -> None:
        self.action_bar.show_for(message.id, message.role)
        block = self.document().findBlockByNumber(self._starts[self._ids.index(message.id)])
        top = int(self.document().documentLayout().blockBoundingRect(block).top()) - self.verticalScrollBar().value()
        margin = int(self.document().rootFrame().frameFormat().rightMargin())
        x = self.viewport().width() - margin - self.action_bar.width()
        self.action_bar.move(max(0, x), max(0, top + 10))
        self.action_bar.show()
        self.action_bar.raise_()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        super().mouseMoveEvent(event)
        message = self.message_at(event.position().toPoint())
        if message is None:
            self.action_bar.hide()
        elif message.id != self.action_bar.message_id or not self.action_bar.isVisible():
            self._place_action_bar(message)

    def leaveEvent(self, event: QEvent) -> None:
        if not self.action_bar.underMouse():
            self.action_bar.hide()
        super().leaveEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._apply_column()
        self.action_bar.hide()

    def hide_action_bar(self) -> None:
        self.action_bar.hide()
        self.action_bar.message_id = None

    def menu_message(self, event: QContextMenuEvent) -> Message | None:
        """The message a context menu is for: under the pointer, or from the keyboard, the one
        at the caret (the arrow keys move it) when the caret is in view, else the last one in view."""
        if event.reason() == QContextMenuEvent.Reason.Mouse:
            return self.message_at(event.pos())
        caret = self.cursorRect().center()
        if self.viewport().rect().contains(caret):
            return self.message_at(caret)
        bottom = self.viewport().rect().bottomLeft() + QPoint(self.viewport().width() // 2, -8)
        return self.message_at(bottom)

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        """The usual Copy/Select all, then the message's own actions (the keyboard's way to them)."""
        menu = self.createStandardContextMenu(event.pos())
        message = self.menu_message(event)
        if message is not None:
            add_message_actions(menu, message.role, message.id, self.action_requested)
        menu.exec(event.globalPos())
        menu.deleteLater()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.action_bar.refresh_icons()
            if self._stream_start is not None:
                self._restyle_pending = True  # after the reply: re-rendering would cut it off
            elif self._messages:
                self._rerender_in_place()

    def _rerender_in_place(self) -> None:
        """Render again in the current theme's colours, keeping the reader's place."""
        bar = self.verticalScrollBar()
        from_bottom = bar.maximum() - bar.value()
        self._render()
        bar.setValue(bar.maximum() - from_bottom)

    def _scroll_to_end(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _on_scrolled(self, value: int) -> None:
        # Follow the reply unless the user scrolled up to read something.
        self._follow = value >= self.verticalScrollBar().maximum() - 4
        self.action_bar.hide()

    def _on_anchor_clicked(self, url: QUrl) -> None:
        if url.scheme() == ACTION_SCHEME:
            if url.path().startswith("more/"):
                self.show_earlier()
                return
            for fold in ("reasoning/", "tool/"):
                if url.path().startswith(fold):
                    self.toggle_reasoning(url.path().removeprefix(fold))
                    return
            request = MessageRequest.parse(url.path())
            if request is not None:
                self.action_requested.emit(request)
        elif url.scheme() in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)
