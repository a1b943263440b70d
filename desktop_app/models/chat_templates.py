"""Chat templates for GGUF files that carry none.

Most instruct GGUFs carry their template (`tokenizer.chat_template`); some, converted by
older tools, do not. When the file's metadata says it is an instruct (chat) model, the
template its family's instruct models use is chosen from the special tokens its
vocabulary has. A file that says nothing of the kind is a base model: it continues text
(ModelManifest.is_base_model), and Inkwell says so instead of pretending it can chat.

The templates are written here in Jinja, following each family's published format.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

CHATML = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
LLAMA3 = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n' + message['content'] | trim + '<|eot_id|>' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}{% endif %}"
)
GEMMA = (
    "{{ bos_token }}{% set system = namespace(text='') %}{% for message in messages %}"
    "{% if message['role'] == 'system' %}{% set system.text = message['content'] + '\\n\\n' %}"
    "{% else %}{% set role = 'model' if message['role'] == 'assistant' else 'user' %}"
    "{{ '<start_of_turn>' + role + '\\n' + (system.text if role == 'user' else '') + message['content'] | trim"
    " + '<end_of_turn>\\n' }}{% if role == 'user' %}{% set system.text = '' %}{% endif %}{% endif %}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<start_of_turn>model\\n' }}{% endif %}"
)
PHI3 = (
    "{% for message in messages %}{{ '<|' + message['role'] + '|>\\n' + message['content'] + '<|end|>\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}"
)
# Llama 2 chat and Mistral instruct: [INST] ... [/INST], the system prompt in the first turn.
INST = (
    "{{ bos_token }}{% set system = namespace(text='') %}{% for message in messages %}"
    "{% if message['role'] == 'system' %}{% set system.text = message['content'] + '\\n\\n' %}"
    "{% elif message['role'] == 'user' %}{{ '[INST] ' + system.text + message['content'] | trim + ' [/INST]' }}"
    "{% set system.text = '' %}{% else %}{{ ' ' + message['content'] | trim + eos_token }}{% endif %}"
    "{% endfor %}"
)


@dataclass(frozen=True)
class Family:
    name: str
    needs: tuple[str, ...]  # tokens the vocabulary must have
    template: str


# The first family whose tokens the vocabulary has wins; [INST] last, as plain text fits any.
FAMILIES = (
    Family("ChatML", ("<|im_start|>", "<|im_end|>"), CHATML),
    Family("Llama 3", ("<|start_header_id|>", "<|eot_id|>"), LLAMA3),
    Family("Gemma", ("<start_of_turn>", "<end_of_turn>"), GEMMA),
    Family("Phi-3", ("<|user|>", "<|assistant|>", "<|end|>"), PHI3),
    Family("[INST]", (), INST),
)
INSTRUCT_WORDS = re.compile(r"(instruct|chat|\bit\b|sft|dpo|rlhf|assistant)", re.IGNORECASE)
INSTRUCT_KEYS = ("general.finetune", "general.name", "general.basename", "general.type")


def says_instruct(metadata: dict[str, object]) -> bool:
    """Whether the file's own description calls it an instruct (chat) model."""
    return any(isinstance(metadata.get(k), str) and INSTRUCT_WORDS.search(str(metadata[k])) for k in INSTRUCT_KEYS)


def instruct_template(vocabulary: Iterable[str], metadata: dict[str, object]) -> tuple[str, str] | None:
    """(template, family) for an instruct model that carries no template; None for a base model."""
    if not says_instruct(metadata):
        return None
    have = set(vocabulary)
    family = next(f for f in FAMILIES if all(token in have for token in f.needs))
    return family.template, family.name
