"""Import a file of conversations, whichever supported format it is in."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from desktop_app.store import Store
from desktop_app.transcripts.chatgpt import import_chatgpt
from desktop_app.transcripts.json_format import import_json
from desktop_app.transcripts.validate import read_json_file


@dataclass(frozen=True)
class ImportSummary:
    conversation_ids: list[str]
    message: str  # what to tell the user


def import_file(store: Store, path: Path) -> ImportSummary:
    """Inkwell's own JSON or ChatGPT's conversations.json, in one transaction each
    (a malformed file raises ImportRejected and changes nothing)."""
    document = read_json_file(path)
    if isinstance(document, dict) and "format" in document:
        ids = import_json(store, path)
        return ImportSummary(ids, f"Imported {len(ids)} conversation{'s' if len(ids) != 1 else ''} from {path.name}.")
    report = import_chatgpt(store, path)
    skipped = f" ({report.skipped_parts} non-text parts skipped)" if report.skipped_parts else ""
    return ImportSummary(
        report.conversation_ids,
        f"Imported {len(report.conversation_ids)} ChatGPT conversations, {report.messages} messages{skipped}.",
    )
