"""response_format checks, and the grammar constraint stepping through a small vocabulary.

A "model" here is random logits: what the constraint lets the sampler pick must still be
JSON that validates, whatever the logits say.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from desktop_app.core.chat import ChatMessage
from desktop_app.core.errors import UserError
from desktop_app.core.generation import GenerationSettings
from desktop_app.engine import GenerationRequest, supports_response_format
from desktop_app.engine.constraints import GrammarConstraints, TokenConstraint
from desktop_app.engine.response_format import response_format_grammar
from desktop_app.engine.sampling import Sampler, filtered_probabilities
from desktop_app.engine.tokenizer import Tokenizer
from desktop_app.engine.vocabulary import token_bytes
from tests.unit.engine.small_tokenizers import byte_level_bpe, sentencepiece_bpe

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 12},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "colour": {"enum": ["red", "green", "blue"]},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 6}, "maxItems": 3},
    },
    "required": ["name", "age", "colour", "tags"],
    "additionalProperties": False,
}


def schema_format(schema: dict[str, Any], strict: bool | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"name": "reply", "schema": schema}
    if strict is not None:
        spec["strict"] = strict
    return {"type": "json_schema", "json_schema": spec}


def constraint(tokenizer: Tokenizer, response_format: dict[str, Any], stop: int) -> TokenConstraint:
    grammar = response_format_grammar(response_format)
    assert grammar is not None
    return GrammarConstraints(tokenizer, [stop]).compile(grammar)()


def test_the_engine_says_it_supports_response_format() -> None:
    assert supports_response_format is True


@pytest.mark.parametrize(
    ("response_format", "message"),
    [
        ("json", "must be an object"),
        ({"type": "xml"}, "type must be one of text, json_object, json_schema"),
        ({"type": "json_schema"}, 'needs a "json_schema" object'),
        ({"type": "json_schema", "json_schema": {"schema": {}}}, "name must be"),
        ({"type": "json_schema", "json_schema": {"name": "a b", "schema": {}}}, "name must be"),
        ({"type": "json_schema", "json_schema": {"name": "a", "schema": []}}, "must be a JSON Schema object"),
        ({"type": "json_schema", "json_schema": {"name": "a", "strict": "yes"}}, "strict must be true or false"),
        (schema_format({"type": "strin"}), "cannot be enforced: Invalid type: strin"),
        (schema_format({"type": "integer", "minimum": 5, "maximum": 1}), "cannot be enforced: Unsatisfiable"),
        (schema_format({"$ref": "#/$defs/missing"}), "cannot be enforced"),
        (schema_format({"type": "string", "format": "no-such-format"}, strict=True), "Unknown format"),
        (schema_format({"type": "string", "pattern": "(?=a)b"}), "look-around"),
    ],
)
def test_a_bad_response_format_is_a_user_error(response_format: Any, message: str) -> None:
    with pytest.raises(UserError, match="Invalid response_format") as raised:
        GenerationRequest(prompt="x", response_format=response_format)
    assert message in str(raised.value)


def test_free_text_and_valid_formats_are_accepted() -> None:
    assert response_format_grammar(None) is None
    assert response_format_grammar({"type": "text"}) is None
    for response_format in ({"type": "json_object"}, schema_format(PERSON, strict=True)):
        request = GenerationRequest(messages=(ChatMessage("user", "hi"),), response_format=response_format)
        assert request.response_format == response_format
    # Not strict: keywords the library does not implement are ignored, the rest enforced.
    assert response_format_grammar(schema_format({"type": "string", "format": "no-such-format"}, strict=False))


def test_a_json_text_passes_token_by_token_and_the_end_comes_only_after_it(tmp_path: Path) -> None:
    tokenizer = byte_level_bpe(tmp_path)
    stop = tokenizer.token_to_id("<|im_end|>")
    assert stop is not None
    text = json.dumps({"name": "Zoë", "age": 42, "colour": "red", "tags": ["a👋", "b"]}, ensure_ascii=False)
    ids = tokenizer.encode(text)
    step = constraint(tokenizer, schema_format(PERSON), stop)
    logits = np.zeros(tokenizer.vocab_size, dtype=np.float32)
    for position, token in enumerate(ids):
        allowed = step.allowed(logits)
        assert np.isfinite(allowed[token]), f"token {position} of {text!r} was refused"
        assert not np.isfinite(allowed[stop]), "the end was allowed before the JSON was complete"
        assert not step.done
        step.advance(token)
    assert step.done


def test_the_first_token_must_open_an_object_and_special_tokens_never_come(tmp_path: Path) -> None:
    tokenizer = byte_level_bpe(tmp_path)
    vocabulary = token_bytes(tokenizer)
    step = constraint(tokenizer, {"type": "json_object"}, stop=vocabulary.special_ids[-1])
    allowed = np.flatnonzero(np.isfinite(step.allowed(np.zeros(len(vocabulary), dtype=np.float32))))
    assert len(allowed) > 0
    assert all(vocabulary.tokens[i].startswith(b"{") for i in allowed)
    assert not set(allowed) & set(vocabulary.special_ids)
    # Logits wider than the vocabulary (padded embeddings) get nothing beyond it.
    wide = step.allowed(np.zeros(len(vocabulary) + 64, dtype=np.float32))
    assert wide.shape == (len(vocabulary) + 64,) and not np.isfinite(wide[len(vocabulary) :]).any()


def run_noise_model(tokenizer: Tokenizer, response_format: dict[str, Any], seed: int, steps: int = 400) -> str:
    """Sample from random logits through the constraint until it ends; the text produced."""
    stop = tokenizer.token_to_id("<|im_end|>") or tokenizer.token_to_id("</s>")
    assert stop is not None
    step = constraint(tokenizer, response_format, stop)
    sampler = Sampler(GenerationSettings(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, seed=seed), seed)
    rng = np.random.default_rng(seed)
    produced: list[int] = []
    for _ in range(steps):
        logits = rng.normal(0, 3, tokenizer.vocab_size).astype(np.float32)
        token = sampler(step.allowed(logits), produced)
        if token == stop:
            break
        step.advance(token)
        produced.append(token)
        if step.done:
            break
    else:
        pytest.fail(f"no end after {steps} tokens: {tokenizer.decode(produced)!r}")
    return tokenizer.decode(produced)


@pytest.mark.parametrize("build", [byte_level_bpe, sentencepiece_bpe])
@pytest.mark.parametrize("seed", range(6))
def test_noise_under_the_constraint_is_valid_json(tmp_path: Path, build, seed: int) -> None:  # type: ignore[no-untyped-def]
    tokenizer = build(tmp_path)
    reply = json.loads(run_noise_model(tokenizer, schema_format(PERSON), seed))
    jsonschema.validate(reply, PERSON)


def test_penalties_that_ban_every_allowed_token_give_way_to_the_grammar() -> None:
    logits = np.full(8, -np.inf, dtype=np.float32)
    logits[3] = 1.0  # the one token a grammar allows, already said once
    for temperature in (0.0, 1.0):
        settings = GenerationSettings(temperature=temperature, no_repeat_ngram_size=1, repetition_penalty=1.3)
        assert Sampler(settings, seed=0)(logits, [3]) == 3
    # Without a grammar, the ban still holds.
    open_logits = np.zeros(8, dtype=np.float32)
    open_logits[3] = 5.0
    assert Sampler(GenerationSettings(temperature=0.0, no_repeat_ngram_size=1), seed=0)(open_logits, [3]) != 3


def test_top_k_over_masked_logits_ranks_the_allowed_tokens_only() -> None:
    rng = np.random.default_rng(0)
    logits = np.full(5000, -np.inf, dtype=np.float32)
    allowed = rng.choice(5000, 300, replace=False)
    logits[allowed] = rng.normal(0, 2, 300)
    settings = GenerationSettings(temperature=1.0, top_k=40, top_p=1.0, min_p=0.0)
    ids, probs = filtered_probabilities(logits, settings)
    expected = allowed[np.argsort(-logits[allowed])[:40]]
    assert list(ids) == list(expected) and np.isclose(probs.sum(), 1.0)
