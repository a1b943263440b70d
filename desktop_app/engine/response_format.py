"""`response_format` as OpenAI's API spells it, checked and turned into a grammar.

`{"type": "text"}` (or none) leaves the reply free; `{"type": "json_object"}` asks for any
JSON object; `{"type": "json_schema", "json_schema": {"name": ..., "schema": {...},
"strict": ...}}` for JSON that validates against the schema. The grammar is llguidance's
(its JSON Schema compiler). A schema it cannot enforce (a bad type, an empty range, a
dangling $ref) is refused here with its reason. Keywords it does not implement (`if`,
`not`, an unknown `format`) are refused under `strict: true`; otherwise, as OpenAI's
non-strict mode promises no more, they are ignored and the rest is enforced.
"""

from __future__ import annotations

import json
import re
from typing import Any

import llguidance

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate

RESPONSE_FORMAT_TYPES = ("text", "json_object", "json_schema")
_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")  # what OpenAI accepts as a schema's name

# Compact JSON, spaced as json.dumps spaces it: models write it naturally, and whitespace
# the grammar allowed freely would let a sampled model pad a reply with blank lines until
# it runs out of tokens. Applied over any "x-guidance" options in the client's schema.
_LAYOUT: dict[str, Any] = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}


def _bad(message: str) -> UserError:
    return UserError(
        message,
        hint=translate(
            "Errors",
            'Use {"type": "json_object"}, or {"type": "json_schema", "json_schema": {"name": ..., "schema": {...}}}.',
        ),
    )


def response_format_schema(response_format: dict[str, Any] | None) -> tuple[dict[str, Any], bool] | None:
    """The JSON Schema the reply must match and whether it is strict; None for free text."""
    if response_format is None:
        return None
    if not isinstance(response_format, dict):
        raise _bad(
            translate("Errors", "Invalid response_format: it must be an object, not {kind}.").format(
                kind=type(response_format).__name__
            )
        )
    kind = response_format.get("type")
    if kind not in RESPONSE_FORMAT_TYPES:
        raise _bad(
            translate("Errors", "Invalid response_format: type must be one of {types} (got {kind}).").format(
                types=", ".join(RESPONSE_FORMAT_TYPES), kind=repr(kind)
            )
        )
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "object"}, True
    spec = response_format.get("json_schema")
    if not isinstance(spec, dict):
        raise _bad(
            translate(
                "Errors",
                'Invalid response_format: type "json_schema" needs a "json_schema" object with a name and a schema.',
            )
        )
    name = spec.get("name")
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise _bad(
            translate(
                "Errors",
                "Invalid response_format: json_schema.name must be 1 to 64 letters, digits, underscores or dashes.",
            )
        )
    schema = spec.get("schema", {"type": "object"})
    if not isinstance(schema, dict):
        raise _bad(
            translate(
                "Errors", "Invalid response_format: json_schema.schema must be a JSON Schema object, not {kind}."
            ).format(kind=type(schema).__name__)
        )
    strict = spec.get("strict", False)
    if strict is not None and not isinstance(strict, bool):
        raise _bad(translate("Errors", "Invalid response_format: json_schema.strict must be true or false."))
    return schema, bool(strict)


def response_format_grammar(response_format: dict[str, Any] | None) -> str | None:
    """llguidance's grammar for the reply, or None for free text; UserError if it is invalid."""
    found = response_format_schema(response_format)
    if found is None:
        return None
    schema, strict = found
    overrides = {**_LAYOUT, "lenient": not strict}
    try:
        grammar = llguidance.LLMatcher.grammar_from_json_schema(
            json.dumps(schema),
            overrides=overrides,  # type: ignore[arg-type]  # the stub's TypedDict wants every key Optional
        )
    except (ValueError, TypeError) as exc:
        raise _bad(
            translate("Errors", "Invalid response_format: the schema cannot be read: {error}").format(error=exc)
        ) from None
    error = llguidance.LLMatcher.validate_grammar(grammar)
    if error:
        raise _bad(
            translate("Errors", "Invalid response_format: the schema cannot be enforced: {error}").format(error=error)
        )
    return grammar
