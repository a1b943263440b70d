"""Conversations and drafts as Markdown, plain text and self-contained HTML."""

from __future__ import annotations

import html
import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

from desktop_app.core.citations import replace_citations
from desktop_app.core.records import Conversation, Draft, Message, Passage

ROLE_NAMES = {"user": "You", "assistant": "Assistant", "system": "System"}
STATUS_NOTES = {"interrupted": "interrupted", "cancelled": "stopped", "failed": "failed"}


SourceRow = tuple[int, Passage, bool]  # (number, passage, cited): a reply's sources, as stored


@dataclass(frozen=True)
class Transcript:
    """One conversation as exported: the current branch, oldest message first, and the
    sources of the replies that answered from the user's documents (by message id)."""

    conversation: Conversation
    messages: Sequence[Message]
    sources: Mapping[str, Sequence[SourceRow]] = field(default_factory=dict)
    reasoning: bool = False  # a thinking model's reasoning goes in too (asked for by the user)


def _tool_lines(m: Message) -> list[str]:
    """A reply's tool calls, one line each: name(arguments) → result."""
    lines = []
    for use in m.tool_uses:
        result = use.result if len(use.result) <= 300 else use.result[:300] + "…"
        lines.append(f"{use.call.name}({use.call.arguments}) → {'error: ' if use.error else ''}{result}")
    return lines


def _cited(t: Transcript, m: Message) -> list[SourceRow]:
    return [row for row in t.sources.get(m.id, ()) if row[2]]


def _footnote_mark(reply: int) -> Callable[[int], str]:
    return lambda n: f"[^{reply}-{n}]"


def _anchor_mark(reply: int) -> Callable[[int], str]:
    return lambda n: f"[\\[{n}\\]](#src-{reply}-{n})"


def _snippet(passage: Passage, words: int = 40) -> str:
    parts = passage.text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def _link(passage: Passage) -> str:
    """The file, at its page for a PDF (viewers honour #page=N)."""
    try:
        uri = Path(passage.path).as_uri()
    except ValueError:
        return ""
    return uri + (f"#page={passage.page}" if passage.page is not None else "")


def _speaker(message: Message) -> str:
    name = ROLE_NAMES.get(message.role, message.role)
    if message.role == "assistant" and message.model_id:
        name += f" ({message.model_id})"
    note = STATUS_NOTES.get(message.status)
    return f"{name}, {note}" if note else name


def _when(timestamp: str) -> str:
    return timestamp[:16].replace("T", " ")


def transcript_markdown(transcripts: Sequence[Transcript]) -> str:
    parts = []
    replies = itertools.count(1)  # footnote labels are unique in the whole file
    for t in transcripts:
        c = t.conversation
        lines = [f"# {c.title or 'Untitled chat'}", "", f"*Created {_when(c.created)} UTC*", ""]
        if c.system_prompt:
            lines += ["> **System prompt:** " + c.system_prompt.replace("\n", "\n> "), ""]
        for m in t.messages:
            cited = _cited(t, m)
            number = next(replies)
            content = replace_citations(m.content, {n for n, _p, _c in cited}, _footnote_mark(number))
            lines += [f"**{_speaker(m)}** · {_when(m.created)}", ""]
            if t.reasoning and m.reasoning:
                lines += ["<details><summary>Thinking</summary>", "", m.reasoning.strip(), "", "</details>", ""]
            lines += [f"> Tool: `{line}`" for line in _tool_lines(m)] + ([""] if m.tool_uses else [])
            lines += [content, ""]
            for n, passage, _c in cited:  # Markdown footnotes: rendered under the text by most readers
                lines += [f'[^{number}-{n}]: {passage.label}: "{_snippet(passage)}"', ""]
        parts.append("\n".join(lines).rstrip() + "\n")
    return "\n---\n\n".join(parts)


def transcript_text(transcripts: Sequence[Transcript]) -> str:
    parts = []
    for t in transcripts:
        c = t.conversation
        title = c.title or "Untitled chat"
        lines = [title, "=" * len(title), f"Created {_when(c.created)} UTC", ""]
        if c.system_prompt:
            lines += [f"System prompt: {c.system_prompt}", ""]
        for m in t.messages:
            lines.append(f"{_speaker(m)} [{_when(m.created)}]:")
            if t.reasoning and m.reasoning:
                lines += ["(Thinking)", m.reasoning.strip(), "(Answer)"]
            lines += [f"Tool: {line}" for line in _tool_lines(m)]
            lines += [m.content, ""]
            cited = _cited(t, m)
            if cited:
                lines += ["Sources:", *(f"[{n}] {p.label}: {_snippet(p)}" for n, p, _c in cited), ""]
        parts.append("\n".join(lines).rstrip() + "\n")
    return "\n\n".join(parts)


def _markdown(dark: bool = False) -> MarkdownIt:
    # html=False: raw HTML in a message is shown as text, never run as markup.
    highlight_code = _highlight_dark if dark else _highlight_code
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "highlight": highlight_code}).enable("table")
    md.enable("strikethrough")
    return md


def _highlight_code(code: str, language: str, _attrs: str, dark: bool = False) -> str:
    try:
        lexer = get_lexer_by_name(language) if language else TextLexer()
    except ClassNotFound:
        lexer = TextLexer()
    # Inline styles, so the file needs no stylesheet; Pygments escapes the code. Starting
    # with <pre> tells markdown-it not to wrap it in a second one.
    style, colours = ("monokai", "background: #1a1b1f; color: #e6e7ea") if dark else ("default", LIGHT_CODE)
    spans = highlight(code, lexer, HtmlFormatter(noclasses=True, nowrap=True, style=style))
    return f'<pre style="{colours}; padding: 8px">{spans}</pre>'


LIGHT_CODE = "background: #f6f8fa; color: #1f2328"


def _highlight_dark(code: str, language: str, attrs: str) -> str:
    return _highlight_code(code, language, attrs, dark=True)


CodeHeader = Callable[[int, str], str]


def markdown_to_html(text: str, code_header: CodeHeader | None = None, dark: bool = False) -> str:
    """HTML for Markdown text. `code_header(index, language)`, when given, is put before
    each code block (the chat view uses it for the blocks' Copy links); `dark`: code is
    coloured for a dark background."""
    md = _markdown(dark)
    if code_header is not None:
        counter = itertools.count()
        for rule in ("fence", "code_block"):
            default = md.renderer.rules[rule]  # type: ignore[attr-defined]
            md.add_render_rule(rule, _with_header(default, code_header, counter))
    return str(md.render(text))


def _with_header(default: Any, code_header: CodeHeader, counter: Iterator[int]) -> Any:
    def render(self: Any, tokens: Any, idx: int, options: Any, env: Any) -> str:
        language = tokens[idx].info.strip().split(maxsplit=1)[0] if tokens[idx].info.strip() else ""
        return code_header(next(counter), language) + str(default(tokens, idx, options, env))

    return render


def code_blocks(text: str) -> list[str]:
    """The contents of the code blocks in Markdown text, in order (what Copy copies)."""
    return [t.content for t in _markdown().parse(text) if t.type in ("fence", "code_block")]


HTML_STYLE = """
body { font-family: -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; max-width: 46em;
       margin: 2em auto; padding: 0 1em; line-height: 1.55; color: #1f2328; }
h1 { font-size: 1.6em; } .meta { color: #6a737d; font-size: 0.9em; }
ol.sources { color: #57606a; font-size: 0.88em; border-top: 1px solid #d0d7de; padding-top: 0.4em; }
.message { margin: 1.2em 0; padding: 0.8em 1em; border-radius: 8px; }
.user { background: #eef4ff; } .assistant { background: #f6f8fa; } .system { background: #fff8e6; }
.speaker { font-weight: 600; margin-bottom: 0.3em; }
pre { padding: 0.8em; overflow-x: auto; border-radius: 6px; background: #f8f8f8; }
code { font-family: ui-monospace, "SF Mono", Consolas, monospace; font-size: 0.92em; }
table { border-collapse: collapse; } td, th { border: 1px solid #d0d7de; padding: 0.3em 0.6em; }
hr { border: 0; border-top: 1px solid #d0d7de; margin: 2em 0; }
"""


def html_page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<title>{html.escape(title)}</title>\n<meta name="generator" content="Inkwell">\n'
        f"<style>{HTML_STYLE}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def transcript_html(transcripts: Sequence[Transcript]) -> str:
    sections = []
    replies = itertools.count(1)
    for t in transcripts:
        c = t.conversation
        items = [
            f"<h1>{html.escape(c.title or 'Untitled chat')}</h1>",
            f'<p class="meta">Created {_when(c.created)} UTC</p>',
        ]
        if c.system_prompt:
            items.append(
                f'<div class="message system"><div class="speaker">System prompt</div>{markdown_to_html(c.system_prompt)}</div>'
            )
        for m in t.messages:
            role = m.role if m.role in ROLE_NAMES else "assistant"
            cited = _cited(t, m)
            number = next(replies)
            content = replace_citations(m.content, {n for n, _p, _c in cited}, _anchor_mark(number))
            sources = "".join(
                f'<li id="src-{number}-{n}" value="{n}">{html.escape(p.label)}: “{html.escape(_snippet(p))}”'
                + (f' <a href="{html.escape(_link(p))}">open</a>' if _link(p) else "")
                + "</li>"
                for n, p, _c in cited
            )
            thinking = (
                f"<details><summary>Thinking</summary>{markdown_to_html(m.reasoning)}</details>"
                if t.reasoning and m.reasoning
                else ""
            )
            tools = "".join(f'<p class="meta">Tool: <code>{html.escape(line)}</code></p>' for line in _tool_lines(m))
            items.append(
                f'<div class="message {role}"><div class="speaker">{html.escape(_speaker(m))} '
                f'<span class="meta">{_when(m.created)}</span></div>\n{thinking}{tools}{markdown_to_html(content)}'
                + (f'<ol class="sources">{sources}</ol>' if sources else "")
                + "</div>"
            )
        sections.append("<section>\n" + "\n".join(items) + "\n</section>")
    title = transcripts[0].conversation.title if len(transcripts) == 1 else f"{len(transcripts)} conversations"
    return html_page(title or "Inkwell chat", "\n<hr>\n".join(sections))


def draft_markdown(draft: Draft) -> str:
    body = draft.body.rstrip() + "\n"
    return body if body.lstrip().startswith("# ") else f"# {draft.title}\n\n{body}"


def draft_text(draft: Draft) -> str:
    return f"{draft.title}\n{'=' * len(draft.title)}\n\n{draft.body.rstrip()}\n"


def draft_html(draft: Draft) -> str:
    return html_page(draft.title, markdown_to_html(draft_markdown(draft)))
