"""Templates for instruct GGUFs that carry none; base models get none."""

from __future__ import annotations

import pytest

from desktop_app.core.chat import ChatMessage
from desktop_app.engine.chat_template import ChatTemplate
from desktop_app.models.chat_templates import instruct_template, says_instruct

CHAT = [
    ChatMessage("system", "Be brief."),
    ChatMessage("user", "Hi"),
    ChatMessage("assistant", "Hello!"),
    ChatMessage("user", "Bye"),
]


@pytest.mark.parametrize(
    ("vocabulary", "family", "expected"),
    [
        (["<|im_start|>", "<|im_end|>"], "ChatML", "<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n"),
        (
            ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"],
            "Llama 3",
            "<|start_header_id|>assistant<|end_header_id|>\n\n",
        ),
        (
            ["<start_of_turn>", "<end_of_turn>"],
            "Gemma",
            "<start_of_turn>user\nBye<end_of_turn>\n<start_of_turn>model\n",
        ),
        (["<|user|>", "<|assistant|>", "<|end|>"], "Phi-3", "<|user|>\nBye<|end|>\n<|assistant|>\n"),
        (["<s>", "</s>"], "[INST]", "[INST] Bye [/INST]"),
    ],
)
def test_an_instruct_file_gets_its_family_template(vocabulary: list[str], family: str, expected: str) -> None:
    chosen = instruct_template(vocabulary, {"general.name": "Tiny Model 1B Instruct"})
    assert chosen is not None and chosen[1] == family
    text = ChatTemplate(chosen[0], {"bos_token": "<s>", "eos_token": "</s>"}).render(CHAT)
    assert text.endswith(expected) and "Be brief." in text and "Hello!" in text


def test_a_base_model_gets_no_template() -> None:
    assert instruct_template(["<|im_start|>", "<|im_end|>"], {"general.name": "Tiny Model 1B"}) is None
    assert says_instruct({"general.finetune": "it"}) and says_instruct({"general.name": "Qwen2.5 7B Chat"})
    assert not says_instruct({"general.name": "Mistral 7B v0.1", "general.type": "model"})
