"""Evaluation data sets: JSONL or CSV files of prompts (or chats) and their reference texts.

Every item is checked before anything runs: a bad line is a UserError that names the file,
the line and what is wrong. The file's sha256 is part of a run's identity, so a run is
only ever resumed or compared on exactly the same items.

An item (a JSON object a line, or a CSV row):
  id          text or number (default: its line number)
  prompt      the text; or messages, a chat: [{"role": "user", "content": "..."}, ...]
  references  one or more texts (CSV: a `reference` column, `reference_1`..`reference_n`
              columns, or a JSON list in `references`; JSONL: `reference` for one)
  task        chat (default), continue (the prompt continued as it is), rewrite or
              summarise (the co-writer's actions on the prompt as a selection)
  action      for rewrite: a co-writer action (clearer by default, shorter, grammar,
              translate, ...)
  language    the language to translate into (action translate)
  category    any label, to read the results by
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop_app.core.chat import ChatMessage, Role
from desktop_app.core.cowriter import ACTIONS
from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate

TASKS = ("chat", "continue", "rewrite", "summarise")
# The co-writer's actions that work on a selection alone (no question, no documents).
REWRITE_ACTIONS = tuple(a for a in ACTIONS if a not in ("continue", "custom", "docs"))
DEFAULT_REWRITE = "clearer"
ROLES: tuple[Role, ...] = ("system", "user", "assistant")
MAX_BYTES = 64 * 1024 * 1024
SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv"}
_NUMBERED_REFERENCE = re.compile(r"reference_(\d+)")


@dataclass(frozen=True)
class EvalItem:
    id: str
    line: int
    references: tuple[str, ...]
    prompt: str = ""
    messages: tuple[ChatMessage, ...] = ()
    task: str = "chat"
    action: str = ""  # the co-writer action of a rewrite or summarise item ("" for chat and continue)
    language: str = ""
    category: str = ""

    @property
    def source_text(self) -> str:
        """What the item gives the model, as a person reads it: the prompt, or the chat."""
        if self.prompt:
            return self.prompt
        return "\n\n".join(f"{m.role}: {m.content}" for m in self.messages)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "task": self.task}
        if self.messages:
            data["messages"] = [m.as_dict() for m in self.messages]
        else:
            data["prompt"] = self.prompt
        data["references"] = list(self.references)
        data.update({k: v for k, v in (("action", self.action), ("language", self.language)) if v})
        if self.category:
            data["category"] = self.category
        return data


@dataclass(frozen=True)
class EvalDataset:
    path: str
    sha256: str
    items: tuple[EvalItem, ...] = field(default=())

    @property
    def name(self) -> str:
        return Path(self.path).name

    def limited(self, limit: int | None) -> EvalDataset:
        """The first `limit` items (all of them for None)."""
        if limit is None:
            return self
        if limit < 1:
            raise UserError(translate("Errors", "--limit must be at least 1."))
        return EvalDataset(self.path, self.sha256, self.items[:limit])


def load_dataset(path: Path) -> EvalDataset:
    """Read and check a .jsonl or .csv data set; UserError (nothing run) when any item is bad."""
    path = path.expanduser()
    kind = SUFFIXES.get(path.suffix.lower())
    if kind is None:
        raise UserError(
            translate("Errors", "Cannot read {file} as an evaluation data set.").format(file=path.name),
            hint=translate("Errors", "Use a .jsonl file (one JSON object a line) or a .csv file with a header row."),
        )
    try:
        if path.stat().st_size > MAX_BYTES:
            raise UserError(
                translate("Errors", "{file} is larger than an evaluation data set may be (64 MB).").format(
                    file=path.name
                )
            )
        data = path.read_bytes()
    except OSError as exc:
        raise UserError(
            translate("Errors", "{path} cannot be read: {error}.").format(path=path, error=exc.strerror or exc)
        ) from None
    return parse_dataset(data, str(path.resolve()), kind)


def parse_dataset(data: bytes, path: str, kind: str) -> EvalDataset:
    """The data set in `data` (the bytes of a `kind` file, "jsonl" or "csv", read from `path`)."""
    name = Path(path).name
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise _bad(name, line, translate("Errors", "not UTF-8 text")) from None
    records = _jsonl_records(text, name) if kind == "jsonl" else _csv_records(text, name)
    items: list[EvalItem] = []
    seen: dict[str, int] = {}
    for line, record in records:
        item = _item(record, line, name)
        if item.id in seen:
            why = translate("Errors", "the id {id} was already used on line {first}").format(
                id=repr(item.id), first=seen[item.id]
            )
            raise _bad(name, line, why)
        seen[item.id] = line
        items.append(item)
    if not items:
        raise UserError(translate("Errors", "{file} has no items to evaluate.").format(file=name))
    return EvalDataset(path, hashlib.sha256(data).hexdigest(), tuple(items))


def _bad(file: str, line: int, why: str) -> UserError:
    return UserError(
        translate("Errors", "{file}, line {line}: {problem}. Nothing was run.").format(
            file=file, line=line, problem=why
        ),
        hint=translate("Errors", "Fix that line (see README: inkwell eval) and run again."),
    )


def _jsonl_records(text: str, file: str) -> Iterator[tuple[int, dict[str, Any]]]:
    # Lines end at \n only: U+2028 and its kin are legal, unescaped, inside JSON strings.
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except ValueError as exc:
            raise _bad(file, number, translate("Errors", "not valid JSON ({error})").format(error=exc)) from None
        if not isinstance(record, dict):
            raise _bad(file, number, translate("Errors", "expected a JSON object ({...})"))
        yield number, record


def _csv_records(text: str, file: str) -> Iterator[tuple[int, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        return
    except csv.Error as exc:
        raise _bad(file, 1, str(exc)) from None
    duplicate = next((h for h in header if h and header.count(h) > 1), None)
    if duplicate:
        raise _bad(file, 1, translate("Errors", "the column {column} appears twice").format(column=duplicate))
    ended = reader.line_num
    while True:
        start = ended + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise _bad(file, start, str(exc)) from None
        ended = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            why = translate("Errors", "{cells} cells, but the header has {columns} columns")
            raise _bad(file, start, why.format(cells=len(row), columns=len(header)))
        yield start, _csv_record(dict(zip(header, row, strict=False)), file, start)


def _csv_record(row: Mapping[str, str], file: str, line: int) -> dict[str, Any]:
    """A CSV row as the JSON object it stands for: empty cells left out, JSON where a column holds it."""
    record: dict[str, Any] = {k: v for k, v in row.items() if k and v.strip() and not _NUMBERED_REFERENCE.fullmatch(k)}
    for column in ("messages", "references"):
        if column in record:
            try:
                record[column] = json.loads(record[column])
            except ValueError as exc:
                why = translate("Errors", "the {column} column is not valid JSON ({error})")
                raise _bad(file, line, why.format(column=column, error=exc)) from None
    single = record.get("reference", "")
    if isinstance(single, str) and single.lstrip().startswith("["):
        try:
            parsed = json.loads(single)
        except ValueError:
            parsed = None  # a text that starts with a bracket
        if isinstance(parsed, list):
            record["reference"] = parsed
    numbered = sorted(
        (int(m.group(1)), value)
        for key, value in row.items()
        if (m := _NUMBERED_REFERENCE.fullmatch(key)) and value.strip()
    )
    if numbered:
        if "reference" in record or "references" in record:
            raise _bad(file, line, translate("Errors", "give the references in one way: reference or reference_1.."))
        record["references"] = [value for _, value in numbered]
    return record


def _text(record: Mapping[str, Any], key: str, file: str, line: int) -> str:
    value = record.get(key, "")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _bad(file, line, translate("Errors", "{field} must be text").format(field=key))
    return str(value)


def _item(record: Mapping[str, Any], line: int, file: str) -> EvalItem:
    item_id = record.get("id")
    if item_id is None or (isinstance(item_id, str) and not item_id.strip()):
        item_id = str(line)
    elif isinstance(item_id, bool) or not isinstance(item_id, (str, int)):
        raise _bad(file, line, translate("Errors", "id must be text or a whole number"))
    task = _text(record, "task", file, line).strip().lower() or "chat"
    if task not in TASKS:
        why = translate("Errors", "unknown task {task} (use one of: {tasks})")
        raise _bad(file, line, why.format(task=repr(task), tasks=", ".join(TASKS)))
    prompt = _text(record, "prompt", file, line)
    messages = _messages(record.get("messages"), file, line)
    if messages and prompt:
        raise _bad(file, line, translate("Errors", "give either a prompt or messages, not both"))
    if not messages and not prompt.strip():
        raise _bad(file, line, translate("Errors", "no prompt (or messages)"))
    if messages and task != "chat":
        why = translate("Errors", "a {task} item works on a text: give it a prompt, not messages")
        raise _bad(file, line, why.format(task=task))
    action = _text(record, "action", file, line).strip().lower()
    language = _text(record, "language", file, line).strip()
    action = _action(task, action, language, file, line)
    return EvalItem(
        id=str(item_id).strip(),
        line=line,
        references=_references(record, file, line),
        prompt=prompt,
        messages=messages,
        task=task,
        action=action,
        language=language,
        category=_text(record, "category", file, line).strip(),
    )


def _action(task: str, action: str, language: str, file: str, line: int) -> str:
    if task in ("chat", "continue"):
        if action:
            why = translate("Errors", "an action is for rewrite items, not {task} items")
            raise _bad(file, line, why.format(task=task))
        return ""
    if task == "summarise":
        if action not in ("", "summarise"):
            raise _bad(file, line, translate("Errors", "a summarise item takes no other action"))
        return "summarise"
    action = action or DEFAULT_REWRITE
    if action not in REWRITE_ACTIONS:
        why = translate("Errors", "unknown action {action} (use one of: {actions})")
        raise _bad(file, line, why.format(action=repr(action), actions=", ".join(REWRITE_ACTIONS)))
    if action == "translate" and not language:
        raise _bad(file, line, translate("Errors", "a translate item needs a language"))
    return action


def _messages(value: Any, file: str, line: int) -> tuple[ChatMessage, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not value:
        raise _bad(file, line, translate("Errors", "messages must be a list of {role, content} objects"))
    messages = []
    for number, message in enumerate(value, start=1):
        role = message.get("role") if isinstance(message, dict) else None
        content = message.get("content") if isinstance(message, dict) else None
        if role not in ROLES or not isinstance(content, str):
            why = translate("Errors", "message {number} needs a role (system, user or assistant) and a text content")
            raise _bad(file, line, why.format(number=number))
        messages.append(ChatMessage(role, content))
    if messages[-1].role != "user":
        raise _bad(file, line, translate("Errors", "the last message must be the user's"))
    return tuple(messages)


def _references(record: Mapping[str, Any], file: str, line: int) -> tuple[str, ...]:
    if "reference" in record and "references" in record:
        raise _bad(file, line, translate("Errors", "give either reference or references, not both"))
    value = record.get("references", record.get("reference"))
    values = value if isinstance(value, list) else [value] if value is not None else []
    if not values:
        raise _bad(file, line, translate("Errors", "no reference text"))
    if not all(isinstance(v, str) and v.strip() for v in values):
        raise _bad(file, line, translate("Errors", "every reference must be a text that is not empty"))
    return tuple(values)
