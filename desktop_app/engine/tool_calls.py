"""Tool calls: how a model writes them, read from its template, and held to the tools' schemas.

Each model family writes a call its own way (`TOOL_CALL_FORMATS`, one declared table):
Hermes, Qwen 2.5/3 and SmolLM3 wrap a JSON object in `<tool_call>` tags; Mistral writes
`[TOOL_CALLS]` and a JSON list; Phi-4-mini wraps a list in `<|tool_call|>` tags; Llama 3.x
answers with a bare JSON object whose arguments are "parameters". A template that names
none of them gets the Hermes format, explained in the system prompt, and its history of
calls and results is written out as text (`plain_history`): such a template has no place
for tools of its own.

The calls are held to the tools' JSON Schemas by the same grammar library as
response_format (llguidance): from the first token when a call is required, and from the
call's opening marker on when the model may choose (`tool_choice` "auto"), so a reply of
plain text costs nothing extra. `ToolCallStream` keeps the calls' text out of the
streamed reply and reads the calls at the end.
"""

from __future__ import annotations

import json
import re
import secrets
import string
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import llguidance

from desktop_app.core.chat import ChatMessage, ToolCall
from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate

_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # OpenAI's rule for a function's name
MAX_PARALLEL = 8  # calls in one reply: a small model may otherwise repeat a call until the reply is full
# The grammar writes JSON as json.dumps spaces it (see response_format.py).
_LAYOUT = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}


@dataclass(frozen=True)
class ToolCallFormat:
    name: str
    start: str  # what opens the calls ("" : the reply is the JSON itself)
    end: str  # what closes one call ("" : nothing)
    as_list: bool  # the calls are one JSON list (else one object per call)
    arguments_key: str  # "arguments", or Llama's "parameters"
    signs: tuple[str, ...]  # what in a template says it uses this format


TOOL_CALL_FORMATS = (
    ToolCallFormat("hermes", "<tool_call>", "</tool_call>", False, "arguments", ("<tool_call>",)),
    ToolCallFormat("mistral", "[TOOL_CALLS]", "", True, "arguments", ("[TOOL_CALLS]",)),
    ToolCallFormat("phi4", "<|tool_call|>", "<|/tool_call|>", True, "arguments", ("<|tool_call|>",)),
    ToolCallFormat("llama3", "", "", False, "parameters", ("<|python_tag|>", "ipython")),
)
HERMES = TOOL_CALL_FORMATS[0]


def tool_call_format(template: str | None) -> tuple[ToolCallFormat, bool]:
    """The model's call format, and whether its template writes the tools itself."""
    source = template or ""
    for fmt in TOOL_CALL_FORMATS:
        if any(sign in source for sign in fmt.signs):
            return fmt, "tools" in source
    return HERMES, False


# ---- the client's tools and choice, checked ----


def _bad(message: str) -> UserError:
    return UserError(message, hint=translate("Errors", "Tools are OpenAI's: {example}.").format(example=_EXAMPLE))


_EXAMPLE = '{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", ...}}}'


def check_tools(tools: Any) -> tuple[dict[str, Any], ...]:
    """OpenAI's `tools`, each {"type": "function", "function": {name, description,
    parameters}}; a UserError names what is wrong."""
    if tools is None:
        return ()
    if not isinstance(tools, list | tuple):
        raise _bad(translate("Errors", "Invalid tools: a list of tools is expected."))
    checked, names = [], set()
    for i, tool in enumerate(tools):
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type") != "function" or not isinstance(function, dict):
            raise _bad(
                translate(
                    "Errors", 'Invalid tools[{index}]: it must be {{"type": "function", "function": {{...}}}}.'
                ).format(index=i)
            )
        name = function.get("name")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise _bad(
                translate(
                    "Errors", "Invalid tools[{index}]: the name must be 1 to 64 letters, digits, underscores or dashes."
                ).format(index=i)
            )
        if name in names:
            raise _bad(translate("Errors", "Invalid tools: {name} is given twice.").format(name=name))
        names.add(name)
        parameters = function.get("parameters", {"type": "object", "properties": {}})
        if not isinstance(parameters, dict):
            raise _bad(
                translate("Errors", "Invalid tools[{index}]: parameters must be a JSON Schema object.").format(index=i)
            )
        error = llguidance.LLMatcher.validate_grammar(_schema_grammar(parameters))
        if error:
            raise _bad(
                translate(
                    "Errors", "Invalid tools[{index}]: the parameters' schema cannot be enforced: {error}"
                ).format(index=i, error=error)
            )
        description = function.get("description", "")
        if not isinstance(description, str):
            raise _bad(translate("Errors", "Invalid tools[{index}]: the description must be text.").format(index=i))
        checked.append(
            {"type": "function", "function": {"name": name, "description": description, "parameters": parameters}}
        )
    return tuple(checked)


def check_tool_choice(choice: Any, tools: Sequence[dict[str, Any]]) -> str:
    """ "auto", "none", "required", or the one function's name that must be called."""
    if choice is None:
        return "auto" if tools else "none"
    if choice in ("auto", "none", "required"):
        if choice != "none" and not tools:
            raise _bad(translate("Errors", "Invalid tool_choice: {choice} needs tools.").format(choice=choice))
        return str(choice)
    function = choice.get("function") if isinstance(choice, dict) else None
    name = function.get("name") if isinstance(function, dict) else None
    if not isinstance(choice, dict) or choice.get("type") != "function" or not isinstance(name, str):
        raise _bad(
            translate(
                "Errors",
                'Invalid tool_choice: use "auto", "none", "required" or {{"type": "function", "function": {{"name": ...}}}}.',
            ).format()
        )
    if name not in {t["function"]["name"] for t in tools}:
        raise _bad(translate("Errors", "Invalid tool_choice: there is no tool named {name}.").format(name=name))
    return name


# ---- grammars ----


def _schema_grammar(schema: dict[str, Any]) -> str:
    return llguidance.grammar_from("lark", "start: %json " + json.dumps({**schema, "x-guidance": _LAYOUT}))


def _call_schema(fmt: ToolCallFormat, tools: Sequence[dict[str, Any]], only: str | None) -> dict[str, Any]:
    """One call to any of `tools` (or to `only`): {"name": ..., "arguments": {...}}."""
    options = [
        {
            "type": "object",
            "properties": {"name": {"const": t["function"]["name"]}, fmt.arguments_key: t["function"]["parameters"]},
            "required": ["name", fmt.arguments_key],
            "additionalProperties": False,
        }
        for t in tools
        if only is None or t["function"]["name"] == only
    ]
    return options[0] if len(options) == 1 else {"anyOf": options}


def call_grammar(
    fmt: ToolCallFormat, tools: Sequence[dict[str, Any]], choice: str, opened: bool = False, parallel: bool = True
) -> str:
    """llguidance's grammar for the calls: the whole reply (`opened` False: a call is
    required), or what follows the opening marker the model wrote itself. `parallel`
    allows several calls in one reply."""
    only = None if choice in ("auto", "required") else choice
    call = _call_schema(fmt, tools, only)
    body = {"type": "array", "items": call, "minItems": 1} if fmt.as_list else call
    if fmt.as_list:
        body["maxItems"] = 1 if only is not None or not parallel else MAX_PARALLEL
    rules = ["body: %json " + json.dumps({**body, "x-guidance": _LAYOUT})]
    start, end = json.dumps(fmt.start), json.dumps(fmt.end) if fmt.end else None
    closed = f'"\\n"? body "\\n"? {end}' if end else "body"
    parallel_blocks = fmt.start and not fmt.as_list and only is None and parallel  # one block after another
    more = f'("\\n"? {start} {closed})~0..{MAX_PARALLEL - 1}' if parallel_blocks else ""
    first = closed if opened else (f"{start} {closed}" if fmt.start else closed)
    rules.insert(0, f"start: {first} {more}".rstrip())
    return llguidance.grammar_from("lark", "\n".join(rules))


# ---- the stream ----


class ToolCallStream:
    """Between the model's answer and the reply shown: text before a call goes on, the
    calls' text is kept back and read at the end."""

    def __init__(self, fmt: ToolCallFormat, names: set[str] | None = None) -> None:
        self.fmt = fmt
        self.names = names  # the tools offered: a bare JSON reply naming another is an answer
        self._held = ""
        self._calls = ""  # the text from the opening marker on
        self.opened = False  # the model began its calls
        self._undecided = not fmt.start  # a bare-JSON format: is the reply JSON?
        self._shown = False

    @property
    def after_marker(self) -> str:
        """What followed the opening marker so far (the grammar starts after it)."""
        return self._calls[len(self.fmt.start) :] if self.opened else ""

    def feed(self, text: str) -> str:
        if self.opened:
            self._calls += text
            return ""
        self._held += text
        if self._undecided:
            stripped = self._held.lstrip()
            if not stripped:
                return ""
            if stripped.startswith("{") and not self._shown:
                self._calls, self._held, self.opened = stripped, "", True
                self._undecided = False
                return ""
            self._undecided = False
        if not self.fmt.start:
            shown, self._held = self._held, ""
            self._shown = self._shown or bool(shown.strip())
            return shown
        at = self._held.find(self.fmt.start)
        if at >= 0:
            shown, self._calls, self._held = self._held[:at], self._held[at:], ""
            self.opened = True
            return shown
        keep = next(
            (
                n
                for n in range(min(len(self.fmt.start) - 1, len(self._held)), 0, -1)
                if self.fmt.start.startswith(self._held[-n:])
            ),
            0,
        )
        shown, self._held = self._held[: len(self._held) - keep], self._held[len(self._held) - keep :]
        return shown

    def finish(self) -> tuple[str, tuple[ToolCall, ...]]:
        """What is left to show, and the calls. Calls that cannot be read (a model that was
        not held to the grammar) are shown as the text they are, never lost."""
        tail, self._held = self._held, ""
        if not self.opened:
            return tail, ()
        calls, unread = parse_calls(self.fmt, self._calls)
        if not self.fmt.start and self.names is not None and any(c.name not in self.names for c in calls):
            return tail + self._calls, ()  # JSON that names no tool offered: the model's answer
        return tail + unread, calls


def _call_id() -> str:
    """9 letters and digits: what Mistral's templates require, and fine for every other."""
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(9))


def parse_calls(fmt: ToolCallFormat, text: str) -> tuple[tuple[ToolCall, ...], str]:
    """The calls in `text` (from the opening marker on), and what of it is not a call that
    can be read (a call cut short, or text that only looked like one), to show as text."""
    body = text.strip()
    if fmt.start and fmt.end and not fmt.as_list:  # one block per call: each stands or falls alone
        calls: list[ToolCall] = []
        position = 0
        while True:
            rest = body[position:]
            begin = len(rest) - len(rest.lstrip())
            stop = rest.find(fmt.end, begin)
            found = (
                _read(fmt, rest[begin : stop + len(fmt.end)])
                if rest.startswith(fmt.start, begin) and stop >= 0
                else None
            )
            if found is None:
                return tuple(calls), rest.strip()
            calls += found
            position += stop + len(fmt.end)
    found = _read(fmt, body)
    return (tuple(found), "") if found else ((), text)


def _read(fmt: ToolCallFormat, text: str) -> list[ToolCall] | None:
    """The calls of one block (its marker included), or None."""
    piece = text.strip()[len(fmt.start) :].strip()
    if fmt.end:
        if not piece.endswith(fmt.end):
            return None
        piece = piece[: -len(fmt.end)].strip()
    try:
        value = json.loads(piece)
    except ValueError:
        return None
    objects = value if fmt.as_list and isinstance(value, list) else [value]
    calls = []
    for item in objects:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            return None
        arguments = item.get(fmt.arguments_key, item.get("arguments", {}))
        text_arguments = arguments if isinstance(arguments, str) else json.dumps(arguments, ensure_ascii=False)
        calls.append(ToolCall(_call_id(), item["name"], text_arguments))
    return calls or None


# ---- templates without tools ----


def tools_system_prompt(tools: Sequence[dict[str, Any]]) -> str:
    """The tools, and how to call them, for a model whose template has no place for them
    (the Hermes format, which small models pick up from a description)."""
    listed = "\n".join(json.dumps(t, ensure_ascii=False) for t in tools)
    return (
        "You can call functions to help with the user's request. The functions are:\n"
        f"<tools>\n{listed}\n</tools>\n"
        "To call a function, reply with only this, once per call:\n"
        '<tool_call>\n{"name": "the function\'s name", "arguments": {the arguments as JSON}}\n</tool_call>\n'
        "The results come back in <tool_response> tags; then answer the user."
    )


def _arguments(call: ToolCall) -> Any:
    try:
        return call.parsed_arguments()
    except ValueError:
        return call.arguments


def plain_history(messages: Sequence[ChatMessage], tools: Sequence[dict[str, Any]]) -> list[ChatMessage]:
    """The chat for a template that knows no tools: the tools in the system prompt, calls
    and results as text in the Hermes format."""
    result: list[ChatMessage] = []
    for message in messages:
        if message.role == "tool":
            text = f"<tool_response>\n{message.content}\n</tool_response>"
            if result and result[-1].role == "user" and result[-1].content.startswith("<tool_response>"):
                result[-1] = ChatMessage("user", result[-1].content + "\n" + text)
            else:
                result.append(ChatMessage("user", text))
        elif message.tool_calls:
            calls = "\n".join(
                "<tool_call>\n"
                + json.dumps({"name": c.name, "arguments": _arguments(c)}, ensure_ascii=False)
                + "\n</tool_call>"
                for c in message.tool_calls
            )
            result.append(ChatMessage("assistant", (message.content + "\n" if message.content else "") + calls))
        else:
            result.append(message)
    if tools:
        described = tools_system_prompt(tools)
        if result and result[0].role == "system":
            result[0] = ChatMessage("system", result[0].content + "\n\n" + described)
        else:
            result.insert(0, ChatMessage("system", described))
    return result
