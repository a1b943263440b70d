from __future__ import annotations

import pytest

from desktop_app.core.chat import ChatMessage
from desktop_app.core.errors import UserError
from desktop_app.engine.chat_template import ChatTemplate
from tests.conftest import CHATML


def test_renders_chatml_with_generation_prompt() -> None:
    template = ChatTemplate(CHATML, {})
    text = template.render([ChatMessage("system", "Be brief."), ChatMessage("user", "Hi")])
    assert text == "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"


def test_fallback_template_for_models_without_one() -> None:
    text = ChatTemplate(None, {}).render([ChatMessage("user", "Hi")])
    assert text.endswith("User: Hi\n\nAssistant:")


def test_template_errors_are_user_errors() -> None:
    template = ChatTemplate("{{ raise_exception('roles must alternate') }}", {})
    with pytest.raises(UserError, match="roles must alternate"):
        template.render([ChatMessage("user", "Hi")])


def test_bos_and_eos_are_available_to_templates() -> None:
    template = ChatTemplate(
        "{{ bos_token }}{{ messages[0]['content'] }}{{ eos_token }}", {"bos_token": "<s>", "eos_token": "</s>"}
    )
    assert template.render([ChatMessage("user", "x")]) == "<s>x</s>"
