"""What folds under a reply: a thinking model's reasoning and the tools it called, each one
line that opens on a click (the chat view keeps which are open)."""

from __future__ import annotations

import html
from collections.abc import Sequence

from PySide6.QtCore import QCoreApplication

from desktop_app.core.records import ToolUse
from desktop_app.ui.theme import Colours

ACTION_SCHEME = "inkwell"


def reasoning_html(
    reasoning: str, ms: float | None, message_id: str | None, expanded: bool, colours: Colours, live: bool = False
) -> str:
    """A reply's reasoning: while it streams, "Thinking…" over its latest lines; after, one
    folded line with its length and time that opens (and closes) on a click."""
    style = f"color:{colours.muted}; font-size:small"
    if live:
        tail = "\n".join(reasoning.strip().splitlines()[-3:])[-400:]
        return (
            f"<p style='margin:0 0 6px 0; {style}'><i>{html.escape(QCoreApplication.translate('ChatView', 'Thinking…'))}</i><br>"
            f"{html.escape(tail).replace(chr(10), '<br>')}</p>"
        )
    words = len(reasoning.split())
    label = (
        QCoreApplication.translate("ChatView", "Thought for {seconds} s · {words} words").format(
            seconds=f"{ms / 1000:.0f}", words=words
        )
        if ms
        else QCoreApplication.translate("ChatView", "Thought · {words} words").format(words=words)
    )
    arrow = "▾" if expanded else "▸"
    head = html.escape(f"{arrow} {label}")
    if message_id is not None:
        head = f"<a href='{ACTION_SCHEME}:reasoning/{message_id}' style='{style}; text-decoration:none'>{head}</a>"
    body = ""
    if expanded:
        body = (
            f"<table width='100%' cellspacing='0' cellpadding='6' style='margin:2px 0 6px 0'><tr>"
            f"<td bgcolor='{colours.soft}'><span style='{style}'>"
            f"{html.escape(reasoning.strip()).replace(chr(10), '<br>')}</span></td></tr></table>"
        )
    return f"<p style='margin:0 0 6px 0; {style}'>{head}</p>{body}"


def tools_html(uses: Sequence[ToolUse], message_id: str | None, opened: set[str], colours: Colours) -> str:
    """A reply's tool calls as folded cards: the tool and how it went; a click opens the
    arguments and the result."""
    style = f"color:{colours.muted}; font-size:small"
    parts = []
    for number, use in enumerate(uses):
        key = f"{message_id}/{number}"
        outcome = (
            QCoreApplication.translate("ChatView", "failed")
            if use.error
            else QCoreApplication.translate("ChatView", "done")
        )
        where = QCoreApplication.translate("ChatView", "built in") if use.server == "builtin" else use.server
        label = QCoreApplication.translate("ChatView", "Called {tool} ({where}): {outcome}").format(
            tool=use.call.name, where=where, outcome=outcome
        )
        head = html.escape(f"{'▾' if key in opened else '▸'} {label}")
        if message_id is not None:
            head = f"<a href='{ACTION_SCHEME}:tool/{key}' style='{style}; text-decoration:none'>{head}</a>"
        parts.append(f"<p style='margin:0 0 2px 0; {style}'>{head}</p>")
        if key in opened:
            result = use.result if len(use.result) <= 4000 else use.result[:4000] + "…"
            body = (
                html.escape(QCoreApplication.translate("ChatView", "Arguments:"))
                + f"<br><code>{html.escape(use.call.arguments)}</code><br>"
                + html.escape(QCoreApplication.translate("ChatView", "Result:"))
                + "<br>"
                + html.escape(result).replace("\n", "<br>")
            )
            parts.append(
                f"<table width='100%' cellspacing='0' cellpadding='6' style='margin:2px 0 6px 0'><tr>"
                f"<td bgcolor='{colours.soft}'><span style='{style}'>{body}</span></td></tr></table>"
            )
    return "".join(parts)
