"""Rendering a model's own Jinja chat template (the one it was trained with)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from desktop_app.core.chat import ChatMessage
from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate

# For models that ship without a template: a neutral transcript format.
FALLBACK_TEMPLATE = (
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ message['content'] }}\n\n"
    "{% elif message['role'] == 'user' %}User: {{ message['content'] }}\n\n"
    "{% else %}Assistant: {{ message['content'] }}\n\n{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}"
)


def _raise_exception(message: str) -> None:
    raise TemplateError(message)


def _tojson(value: Any, indent: int | None = None, ensure_ascii: bool = False, **_: Any) -> str:
    return json.dumps(value, indent=indent, ensure_ascii=ensure_ascii)


@lru_cache(maxsize=8)
def _compile(source: str) -> Any:
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
    try:
        return env.from_string(source)
    except TemplateError as exc:
        raise UserError(
            translate("Errors", "The model's chat template is invalid: {error}.").format(error=exc)
        ) from None


class ChatTemplate:
    def __init__(self, source: str | None, special_tokens: dict[str, Any]) -> None:
        self.source = source or FALLBACK_TEMPLATE
        self._tokens = {
            "bos_token": special_tokens.get("bos_token") or "",
            "eos_token": special_tokens.get("eos_token") or "",
        }
        self._template = _compile(self.source)

    def render(self, messages: Sequence[ChatMessage], add_generation_prompt: bool = True, **variables: Any) -> str:
        """The prompt; `variables` are the template's own switches (`enable_thinking`,
        `tools`), passed only when they are not None."""
        extra = {name: value for name, value in variables.items() if value is not None}
        try:
            return str(
                self._template.render(
                    messages=[m.as_dict() for m in messages],
                    add_generation_prompt=add_generation_prompt,
                    **self._tokens,
                    **extra,
                )
            )
        except TemplateError as exc:
            raise UserError(
                translate("Errors", "The model's chat template refused this conversation: {error}.").format(error=exc)
            ) from None
