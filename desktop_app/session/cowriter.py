"""The co-writer's requests: from an action on a draft's text to the request for the model.

The prompts themselves are pure text rules in core/cowriter.py; this module decides the
sampling, the versions and how much of the draft fits the model's context.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from desktop_app.core.budget import prompt_budget
from desktop_app.core.cowriter import ACTIONS, build_messages, fit_passage
from desktop_app.core.errors import UserError
from desktop_app.core.generation import GenerationSettings
from desktop_app.core.i18n import translate
from desktop_app.engine import GenerationRequest
from desktop_app.session.grounding import Grounding

COWRITER_SETTINGS = GenerationSettings(temperature=0.7, top_p=0.9, max_new_tokens=400, repetition_penalty=1.1)


@dataclass(frozen=True)
class CowriterRequest:
    """An action on text[start:end], ready to submit; `clipped` when only the text near the
    selection fitted the context."""

    action_id: str
    start: int
    end: int
    original: str
    language: str
    instruction: str
    versions: int
    request: GenerationRequest
    clipped: bool
    grounding: Grounding | None = None  # the sources "Ask about my documents" answered from


def cowriter_request(
    action_id: str,
    text: str,
    start: int,
    end: int,
    count_tokens: Callable[[str], int],
    context_length: int,
    language: str = "",
    instruction: str = "",
    versions: int = 1,
    base_model: bool = False,
    grounding: Grounding | None = None,
    beams: int = 1,
) -> CowriterRequest:
    """The request for `action_id` on the selection text[start:end] (Continue writes from
    `end`, the cursor). UserError when the selection is missing or too long. A base model
    (one that only continues text) gets the text before the cursor as it is, and can do
    nothing else. With `beams` above 1, the precise actions (Fix grammar, Shorten,
    Translate) of one version search for the likeliest text with that many beams."""
    action = ACTIONS[action_id]
    if action.id == "continue":
        start = end  # continue from the cursor (the end of any selection)
    # Several versions need some randomness to differ; one version follows the action.
    temperature = max(action.temperature, 0.8) if versions > 1 else action.temperature
    settings = dataclasses.replace(COWRITER_SETTINGS, temperature=temperature, num_alternatives=versions)
    if action.precise and versions == 1 and beams > 1:
        # No penalty for repeats: a correction or a translation repeats much of its passage.
        settings = dataclasses.replace(settings, num_beams=beams, temperature=0.0, repetition_penalty=1.0)
    budget = prompt_budget(context_length, settings.max_new_tokens)
    if base_model:
        return _continuation(action_id, text, end, count_tokens, budget, settings, versions)
    if action.id == "docs" and grounding is None:
        raise UserError(translate("CoWriter", "Choose the documents to answer from."))
    sources = grounding.system_prompt() if grounding is not None else ""
    passage = fit_passage(text, start, end, count_tokens, budget - count_tokens(sources))
    messages = build_messages(action, passage, language, instruction, sources)
    return CowriterRequest(
        action_id,
        start,
        end,
        text[start:end],
        language,
        instruction,
        versions,
        GenerationRequest(tuple(messages), settings),
        passage.clipped_before or passage.clipped_after,
        grounding,
    )


def _continuation(
    action_id: str,
    text: str,
    cursor: int,
    count_tokens: Callable[[str], int],
    budget: int,
    settings: GenerationSettings,
    versions: int,
) -> CowriterRequest:
    """For a base model: the end of the text before the cursor, to be continued as it is."""
    if action_id != "continue":
        action = translate("CoWriter", ACTIONS[action_id].label)
        raise UserError(
            translate("CoWriter", "This model is a base model: it continues text, and cannot do “{action}”.").format(
                action=action
            ),
            hint=translate("CoWriter", "Use Continue writing, or choose an instruct (chat) model in Settings."),
        )
    passage = fit_passage(text, cursor, cursor, count_tokens, budget)
    if not passage.before.strip():
        raise UserError(translate("CoWriter", "There is no text before the cursor to continue from."))
    request = GenerationRequest(prompt=passage.before, settings=settings)
    return CowriterRequest(action_id, cursor, cursor, "", "", "", versions, request, passage.clipped_before)
