"""Speculative decoding on the real default model (SmolLM2-135M-Instruct, GGUF route).

Its 4-bit products round activations to int8, and ONNX Runtime's attention computes a lone
query (plain decoding: one token a pass) in another order than several (a checked proposal,
or a prompt): logits of one position differ between the two by up to about one logit. So
where plain decoding meets a near-tie, the two can part; anywhere else they must agree
(test_speculation.py asks the tiny float32 model for exact equality). Here: wherever the
texts part, plain decoding's own two best logits were within that noise; and lookup pays
where the reply repeats the prompt.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from desktop_app.core.chat import ChatMessage
from desktop_app.core.generation import GenerationSettings
from desktop_app.engine import Finished, GenerationRequest, load_engine
from desktop_app.engine.speculation import SpeculationSettings
from desktop_app.session.cowriter import cowriter_request

pytestmark = pytest.mark.slow

# The largest gap between the two best logits at which the two groupings may choose
# differently: the noise measured here is up to ~1.1 logits a position (2026-12-03).
NEAR_TIE = 3.0
PASSAGE = (
    "The quick brown fox jump over the lazy dog every mornings, and the farmer dont like it because it "
    "scare his chickens. He have tried many thing to stop the fox, but nothing have worked so far. "
    "Yesterday he buyed a new fence, which he hope will keep the fox out of the yard for good."
)


@pytest.fixture(scope="module")
def engine(default_model_dir):  # type: ignore[no-untyped-def]
    return load_engine(default_model_dir, "cpu", threads=2)


def greedy(engine, request: GenerationRequest, mode: str) -> Finished:  # type: ignore[no-untyped-def]
    engine.speculation = SpeculationSettings(mode)
    engine.reset_cache()
    return next(e for e in engine.generate(request) if isinstance(e, Finished))


def requests(engine) -> list[GenerationRequest]:  # type: ignore[no-untyped-def]
    settings = GenerationSettings(temperature=0, repetition_penalty=1.0, max_new_tokens=120)
    fix = cowriter_request("grammar", PASSAGE, 0, len(PASSAGE), engine.count_tokens, engine.context_length)
    chats = ["What are three good reasons to learn a second language?", "Write a short thank-you note to a teacher."]
    return [
        replace(fix.request, settings=settings),
        *(GenerationRequest((ChatMessage("user", q),), settings) for q in chats),
    ]


def test_speculation_parts_from_plain_decoding_only_at_near_ties(engine) -> None:  # type: ignore[no-untyped-def]
    for request in requests(engine):
        plain = greedy(engine, request, "off")
        fast = greedy(engine, request, "auto")
        if fast.token_ids == plain.token_ids:
            continue
        at = next(i for i, (a, b) in enumerate(zip(plain.token_ids, fast.token_ids, strict=False)) if a != b)
        prompt = engine.build_prompt(request).token_ids
        logits, _ = engine.model.forward(prompt + list(plain.token_ids[:at]), engine.model.empty_cache())
        # Both choices are within a near-tie of the best logit that one pass over the whole
        # prefix gives (which, at a tie of three, may be a third token: seen on an AVX2 EPYC).
        top = float(logits.max())
        for token in (plain.token_ids[at], fast.token_ids[at]):
            assert top - float(logits[token]) < NEAR_TIE, (at, token, top - float(logits[token]))


def test_lookup_pays_where_the_reply_repeats_the_prompt(engine) -> None:  # type: ignore[no-untyped-def]
    fix = requests(engine)[0]
    done = greedy(engine, fix, "lookup")
    stats = done.stats
    assert "fox" in done.text
    assert stats.accepted_tokens >= 30
    assert stats.accepted_tokens >= 0.4 * stats.proposed_tokens
    assert stats.generated_tokens - stats.accepted_tokens < 0.7 * stats.generated_tokens  # fewer passes
