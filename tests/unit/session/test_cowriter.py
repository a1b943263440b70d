"""The co-writer's requests: budget, versions and sampling."""

from __future__ import annotations

import pytest

from desktop_app.core.budget import prompt_budget
from desktop_app.core.errors import UserError
from desktop_app.session.cowriter import COWRITER_SETTINGS, cowriter_request


def words(text: str) -> int:
    return len(text.split())


def test_a_rewrite_takes_the_selection_and_one_budget_rule() -> None:
    text = "Dear Sam. The parcel is late. Best wishes."
    made = cowriter_request("shorter", text, 10, 29, words, 2048)
    assert (made.original, made.start, made.end, made.versions) == ("The parcel is late.", 10, 29, 1)
    assert "The parcel is late." in made.request.messages[-1].content and not made.clipped
    assert made.request.settings.max_new_tokens == COWRITER_SETTINGS.max_new_tokens


def test_continue_writes_from_the_cursor_and_versions_sample_warmer() -> None:
    made = cowriter_request("continue", "Once upon a time", 0, 9, words, 2048)
    assert (made.start, made.end, made.original) == (9, 9, "")
    three = cowriter_request("grammar", "Teh cat sat.", 0, 12, words, 2048, versions=3)
    assert three.request.settings.num_alternatives == 3 and three.request.settings.temperature >= 0.8


def test_only_the_text_near_a_selection_fits_a_small_context() -> None:
    text = "word " * 2000 + "THE PART " + "word " * 2000
    start = text.index("THE PART")
    made = cowriter_request("clearer", text, start, start + 8, words, 1024)
    assert made.clipped
    assert words(made.request.messages[-1].content) <= prompt_budget(1024, COWRITER_SETTINGS.max_new_tokens)


def test_a_selection_longer_than_the_context_is_refused() -> None:
    with pytest.raises(UserError, match="too long"):
        cowriter_request("clearer", "word " * 900, 0, 4500, words, 1024)


def test_a_base_model_continues_the_text_itself_and_declines_other_actions() -> None:
    made = cowriter_request("continue", "Once upon a time there", 0, 22, words, 2048, base_model=True)
    assert made.request.prompt == "Once upon a time there" and not made.request.messages
    with pytest.raises(UserError, match="base model"):
        cowriter_request("shorter", "Once upon a time", 0, 16, words, 2048, base_model=True)


def test_ask_about_my_documents_answers_from_the_sources_at_the_cursor() -> None:
    from desktop_app.core.records import Passage
    from desktop_app.session.grounding import Grounding

    passage = Passage("d", "/docs/returns.md", "Shop", "Returns", "Returns within 45 days.", None, None, 1, 3, 1.0)
    grounding = Grounding((passage,), whole=True)
    text = "Dear Anna,\n\nAbout your parcel: "
    request = cowriter_request(
        "docs", text, len(text), len(text), lambda t: len(t.split()), 2048, instruction="How long for returns?",
        grounding=grounding,
    )  # fmt: skip
    system, user = request.request.messages
    assert "[1] returns.md, lines 1-3 — Returns\nReturns within 45 days." in system.content
    assert user.content.endswith("How long for returns?") and "About your parcel:" in user.content
    assert request.grounding is grounding and request.start == request.end == len(text)
    with pytest.raises(UserError, match="Choose the documents"):
        cowriter_request("docs", text, 0, 0, len, 2048, instruction="x")
    with pytest.raises(UserError, match="know from your documents"):
        cowriter_request("docs", text, 0, 0, len, 2048, grounding=grounding)


@pytest.mark.parametrize("action", ["grammar", "shorter", "translate"])
def test_the_precise_actions_search_with_beams_when_asked(action: str) -> None:
    made = cowriter_request(action, "Teh cat sat.", 0, 12, words, 2048, language="French", beams=4)
    settings = made.request.settings
    assert (settings.num_beams, settings.temperature, settings.repetition_penalty) == (4, 0.0, 1.0)
    sampled = cowriter_request(action, "Teh cat sat.", 0, 12, words, 2048, language="French", beams=1)
    assert sampled.request.settings.num_beams == 1 and sampled.request.settings.temperature > 0


def test_other_actions_and_several_versions_sample_even_with_beams() -> None:
    for action in ("clearer", "continue", "summarise", "friendly"):
        made = cowriter_request(action, "Teh cat sat.", 0, 12, words, 2048, beams=4)
        assert made.request.settings.num_beams == 1, action
    three = cowriter_request("grammar", "Teh cat sat.", 0, 12, words, 2048, versions=3, beams=4)
    assert three.request.settings.num_beams == 1 and three.request.settings.num_alternatives == 3
