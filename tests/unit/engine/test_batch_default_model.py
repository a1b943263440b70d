"""Batched decoding on the real default model (SmolLM2-135M-Instruct, GGUF route).

Inkwell's operators give each row of a pass the bits it has when decoded alone (attention
computes each query row alone; the products give a row the same bits with up to K_MAX + 1
rows), so rows decoded together write exactly what each writes alone, with or without
proposals checked, and a lone row matches Engine.generate exactly.
"""

from __future__ import annotations

import threading
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from desktop_app.core.chat import ChatMessage
from desktop_app.core.generation import GenerationSettings
from desktop_app.engine import Finished, GenerationRequest, load_engine
from desktop_app.engine.batch import BatchDecoder
from desktop_app.engine.speculation import SpeculationSettings
from tests.unit.engine.test_speculation import PASSAGES

pytestmark = pytest.mark.slow

QUESTIONS = ["What is the capital of France?", "Write a haiku about the sea.", "Hi", "Name three colours."]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from desktop_app.models.prepare import prepare_default

    folder: Path = prepare_default(tmp_path_factory.mktemp("default-model"))
    engine = load_engine(folder, "cpu")
    engine.speculation = SpeculationSettings("off")  # plain decoding, unless a test asks
    return engine


def chat(question: str, tokens: int = 24) -> GenerationRequest:
    return GenerationRequest((ChatMessage("user", question),), GenerationSettings(temperature=0, max_new_tokens=tokens))


def test_a_lone_row_writes_exactly_what_engine_generate_writes(engine) -> None:  # type: ignore[no-untyped-def]
    request = chat(QUESTIONS[0])
    want = next(e for e in engine.generate(request) if isinstance(e, Finished))
    batch = BatchDecoder(engine, 4)
    sequence = batch.add(request, threading.Event())
    while batch.active:
        batch.step()
    assert sequence.first is not None and sequence.first.text == want.text
    assert "Paris" in want.text


def test_rows_decoded_together_agree_with_each_alone(engine) -> None:  # type: ignore[no-untyped-def]
    forced = [next(e for e in engine.generate(chat(q, 30)) if isinstance(e, Finished)).text for q in QUESTIONS]
    batch = BatchDecoder(engine, len(QUESTIONS))
    batch._kv.reserve(256)  # what add() does for a request
    streams = []
    for row, (question, answer) in enumerate(zip(QUESTIONS, forced, strict=True)):
        prompt = engine.build_prompt(chat(question)).token_ids
        streams.append((prompt, engine.tokenizer.encode(answer)))
        batch._kv.run_row(row, prompt)
    steps = min(len(answer) for _, answer in streams)
    assert steps >= 5
    together = np.zeros((len(streams), steps), dtype=np.int64)
    for step in range(steps):
        rows = [
            SimpleNamespace(row=r, next_token=answer[step], logits=None, proposal=[])
            for r, (_, answer) in enumerate(streams)
        ]
        batch._forward(rows)  # type: ignore[arg-type]
        together[:, step] = [int(np.argmax(r.logits)) for r in rows]
    single = np.zeros_like(together)
    for r, (prompt, answer) in enumerate(streams):
        cache = engine.model.empty_cache()
        logits, cache = engine.model.forward(prompt, cache)
        for step in range(steps):
            logits, cache = engine.model.forward([answer[step]], cache)
            single[r, step] = int(np.argmax(logits))
    assert (together == single).all()


def test_rows_speculating_together_write_plain_decodings_text(engine) -> None:  # type: ignore[no-untyped-def]
    """The co-writer's kind of request, several at once through the batch (as the API server
    runs them), with lookup: the same tokens as each decoded plainly alone."""
    requests = [
        GenerationRequest(
            (ChatMessage("user", f"Correct the grammar and spelling. Reply with the corrected text only.\n\n{p}"),),
            GenerationSettings(temperature=0, repetition_penalty=1.0, max_new_tokens=60),
        )
        for p in PASSAGES
    ]
    plain = [next(e for e in engine.generate(r) if isinstance(e, Finished)) for r in requests]
    engine.speculation = SpeculationSettings("lookup")
    try:
        batch = BatchDecoder(engine, 4)
        sequences = [batch.add(r, threading.Event()) for r in requests]
        while batch.active:
            batch.step()
    finally:
        engine.speculation = SpeculationSettings("off")
    for sequence, want in zip(sequences, plain, strict=True):
        assert sequence.first is not None and sequence.first.token_ids == want.token_ids
    assert sum(s.first.stats.accepted_tokens for s in sequences if s.first is not None) > 0
