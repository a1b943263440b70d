"""Speculative decoding on the real default model (SmolLM2-135M-Instruct, GGUF route).

A checked proposal's logits are, bit for bit, those of decoding its token alone (Inkwell's
attention computes each query row alone; its products give a row the same bits with up to
K_MAX + 1 rows; test_speculation.py checks that property), so the co-writer's fix and open
chat answers come out token for token as plain decoding writes them, and lookup pays where
the reply repeats the prompt.
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


def test_speculation_writes_plain_decodings_tokens(engine) -> None:  # type: ignore[no-untyped-def]
    proposed = 0
    for request in requests(engine):
        plain = greedy(engine, request, "off")
        fast = greedy(engine, request, "auto")
        assert fast.token_ids == plain.token_ids
        proposed += fast.stats.proposed_tokens
    assert proposed > 0


def test_lookup_pays_where_the_reply_repeats_the_prompt(engine) -> None:  # type: ignore[no-untyped-def]
    fix = requests(engine)[0]
    done = greedy(engine, fix, "lookup")
    stats = done.stats
    assert "fox" in done.text
    assert stats.accepted_tokens >= 30
    assert stats.accepted_tokens >= 0.4 * stats.proposed_tokens
    assert stats.generated_tokens - stats.accepted_tokens < 0.7 * stats.generated_tokens  # fewer passes
