"""The token loop on a tiny random Llama exported by our own pipeline."""

from __future__ import annotations

import json
import threading
import weakref
from dataclasses import replace

import numpy as np
import pytest

from desktop_app.core.chat import ChatMessage
from desktop_app.core.errors import ContextOverflowError, UserError
from desktop_app.core.generation import FinishReason, GenerationSettings
from desktop_app.engine import Finished, GenerationRequest, PromptPrepared, TextChunk
from desktop_app.engine.onnx_model import KVCache
from tests.conftest import TINY_CONTEXT

GREEDY = GenerationSettings(temperature=0.0, repetition_penalty=1.0, max_new_tokens=12)


def ask(text: str, settings: GenerationSettings = GREEDY, system: str | None = None) -> GenerationRequest:
    messages = ([ChatMessage("system", system)] if system else []) + [ChatMessage("user", text)]
    return GenerationRequest(messages=tuple(messages), settings=settings)


def run(engine, request, cancel=None):  # type: ignore[no-untyped-def]
    events = list(engine.generate(request, cancel))
    finished = [e for e in events if isinstance(e, Finished)]
    return events, finished


@pytest.fixture
def endless(tiny_engine):  # type: ignore[no-untyped-def]
    """The tiny model may pick its stop token at random; some tests need it never to stop."""
    tiny_engine.stop_token_ids = frozenset()
    return tiny_engine


def test_greedy_with_kv_cache_matches_recomputing_without_it(endless) -> None:  # type: ignore[no-untyped-def]
    request = ask("Paris is the capital of")
    plan = endless.build_prompt(request)
    _, [done] = run(endless, request)
    cached_ids = endless.tokenizer.encode(done.text)

    ids = list(plan.token_ids)
    expected = []
    for _ in range(GREEDY.max_new_tokens):
        logits, _ = endless.model.forward(ids, KVCache.empty(endless.model.kv))
        expected.append(int(np.argmax(logits)))
        ids.append(expected[-1])
    assert endless.tokenizer.decode(expected) == done.text
    assert done.stats.generated_tokens == GREEDY.max_new_tokens
    assert len(cached_ids) > 0


def test_events_and_stats(endless) -> None:  # type: ignore[no-untyped-def]
    events, [done] = run(endless, ask("Hello"))
    assert isinstance(events[0], PromptPrepared)
    chunks = [e.text for e in events if isinstance(e, TextChunk)]
    assert "".join(chunks) == done.text
    stats = done.stats
    assert stats.finish_reason is FinishReason.LENGTH
    assert stats.prompt_tokens == events[0].prompt_tokens > 0
    assert stats.ttft_ms > 0 and stats.tokens_per_s > 0


def test_stop_token_ends_the_reply(tiny_engine) -> None:  # type: ignore[no-untyped-def]
    request = ask("Hello")
    plan = tiny_engine.build_prompt(request)
    logits, _ = tiny_engine.model.forward(plan.token_ids, KVCache.empty(tiny_engine.model.kv))
    tiny_engine.stop_token_ids = frozenset({int(np.argmax(logits))})  # whatever greedy picks first
    _, [done] = run(tiny_engine, request)
    assert done.stats.finish_reason is FinishReason.STOP_TOKEN
    assert done.text == "" and done.stats.generated_tokens == 0


def test_same_seed_gives_same_text_and_another_seed_differs(endless) -> None:  # type: ignore[no-untyped-def]
    sampled = GenerationSettings(temperature=1.0, top_k=0, top_p=1.0, min_p=0.0, seed=7, max_new_tokens=24)
    first = run(endless, ask("Tell me a story", sampled))[1][0]
    endless.reset_cache()
    second = run(endless, ask("Tell me a story", sampled))[1][0]
    third = run(endless, ask("Tell me a story", replace(sampled, seed=8)))[1][0]
    assert first.text == second.text and first.stats.seed == 7
    assert third.text != first.text


def test_alternatives_are_several_seeded_versions(endless) -> None:  # type: ignore[no-untyped-def]
    settings = GenerationSettings(temperature=1.0, top_k=0, seed=100, num_alternatives=3, max_new_tokens=16)
    events, finished = run(endless, ask("Rewrite this", settings))
    assert [f.index for f in finished] == [0, 1, 2]
    assert [f.stats.seed for f in finished] == [100, 101, 102]
    assert len({f.text for f in finished}) == 3
    for f in finished:
        assert "".join(e.text for e in events if isinstance(e, TextChunk) and e.index == f.index) == f.text
    single = run(endless, ask("Rewrite this", replace(settings, seed=101, num_alternatives=1)))[1][0]
    assert single.text == finished[1].text


def test_cancel_takes_effect_within_one_token(endless) -> None:  # type: ignore[no-untyped-def]
    cancel = threading.Event()
    settings = replace(GREEDY, max_new_tokens=100)
    received = []
    for event in endless.generate(ask("Go on", settings), cancel):
        if isinstance(event, (TextChunk, Finished)):
            received.append(event)
        if isinstance(event, TextChunk):
            cancel.set()
    done = received[-1]
    assert isinstance(done, Finished)
    assert done.stats.finish_reason is FinishReason.CANCELLED
    assert done.stats.generated_tokens <= 2  # the token in flight, at most one more


def test_cancel_before_start_generates_nothing(endless) -> None:  # type: ignore[no-untyped-def]
    cancel = threading.Event()
    cancel.set()
    _, [done] = run(endless, ask("Hi"), cancel)
    assert done.stats.finish_reason is FinishReason.CANCELLED and done.text == ""


def test_stop_sequence_cuts_the_text(endless) -> None:  # type: ignore[no-untyped-def]
    settings = replace(GREEDY, max_new_tokens=30)
    full = run(endless, ask("Say something", settings))[1][0].text
    assert len(full) > 8
    stop = full[5:8]
    cut = run(endless, ask("Say something", replace(settings, stop_sequences=(stop,))))[1][0]
    assert cut.stats.finish_reason is FinishReason.STOP_SEQUENCE
    assert cut.text == full[: full.index(stop)]


def test_second_turn_reuses_the_prefix_and_matches_a_cold_run(endless) -> None:  # type: ignore[no-untyped-def]
    first = run(endless, ask("First question", system="Be kind"))[1][0]
    turns = (
        ChatMessage("system", "Be kind"),
        ChatMessage("user", "First question"),
        ChatMessage("assistant", first.text),
        ChatMessage("user", "Second one"),
    )
    warm_events, [warm] = run(endless, GenerationRequest(messages=turns, settings=GREEDY))
    prepared = warm_events[0]
    assert prepared.reused_tokens > prepared.prompt_tokens // 2
    endless.reset_cache()
    cold_events, [cold] = run(endless, GenerationRequest(messages=turns, settings=GREEDY))
    assert cold_events[0].reused_tokens == 0
    assert warm.text == cold.text


def test_identical_prompt_twice_reuses_all_but_one_token(endless) -> None:  # type: ignore[no-untyped-def]
    run(endless, ask("Same prompt"))
    events, _ = run(endless, ask("Same prompt"))
    assert events[0].reused_tokens == events[0].prompt_tokens - 1


def test_long_conversation_drops_oldest_turns_but_keeps_system(endless) -> None:  # type: ignore[no-untyped-def]
    turns = [ChatMessage("system", "SYSTEM RULES")]
    for i in range(12):
        turns.append(ChatMessage("user", f"question number {i} about the quick brown fox"))
        turns.append(ChatMessage("assistant", f"answer {i}"))
    turns.append(ChatMessage("user", "LAST QUESTION"))
    request = GenerationRequest(messages=tuple(turns), settings=replace(GREEDY, max_new_tokens=8))
    plan = endless.build_prompt(request)
    assert plan.dropped_messages > 0
    assert len(plan.token_ids) <= endless.prompt_budget(request.settings)
    prompt = endless.tokenizer.decode(plan.token_ids, skip_special_tokens=False)
    assert "SYSTEM RULES" in prompt and "LAST QUESTION" in prompt
    assert "question number 0 " not in prompt
    events, [done] = run(endless, request)
    assert events[0].dropped_messages == plan.dropped_messages == done.stats.dropped_messages


def test_a_full_context_keeps_its_cut_so_the_next_turns_reuse_the_prefix(endless) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.engine.generate import TRIM_TARGET

    settings = replace(GREEDY, max_new_tokens=8)
    turns = [ChatMessage("system", "SYSTEM RULES")]
    for i in range(12):
        turns += [
            ChatMessage("user", f"question {i} about the quick brown fox"),
            ChatMessage("assistant", f"answer {i}"),
        ]
    turns.append(ChatMessage("user", "first new question"))
    first_events, [first] = run(endless, GenerationRequest(messages=tuple(turns), settings=settings))
    budget = endless.prompt_budget(settings)
    assert first_events[0].dropped_messages > 0
    assert first_events[0].prompt_tokens <= budget * TRIM_TARGET  # room left for later turns
    turns += [ChatMessage("assistant", first.text), ChatMessage("user", "second new question")]
    second_events, _ = run(endless, GenerationRequest(messages=tuple(turns), settings=settings))
    prepared = second_events[0]
    assert prepared.dropped_messages == first_events[0].dropped_messages  # the same cut
    assert prepared.reused_tokens >= first_events[0].prompt_tokens - 1  # only the new turns prefilled
    assert prepared.prompt_tokens <= budget


def test_a_single_message_too_long_is_a_clear_error(endless) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ContextOverflowError, match="too long"):
        list(endless.generate(ask("the quick brown fox " * 100)))


def test_generation_stops_when_the_context_is_full(endless) -> None:  # type: ignore[no-untyped-def]
    settings = replace(GREEDY, max_new_tokens=1000)  # budget for the prompt: half the context
    events, [done] = run(endless, ask("fox " * 20, settings))
    assert done.stats.finish_reason is FinishReason.CONTEXT_FULL
    assert events[0].prompt_tokens + done.stats.generated_tokens == TINY_CONTEXT


def test_raw_prompt_skips_the_chat_template(endless) -> None:  # type: ignore[no-untyped-def]
    request = GenerationRequest(prompt="Once upon a time", settings=GREEDY)
    assert endless.build_prompt(request).token_ids == endless.tokenizer.encode("Once upon a time")
    assert run(endless, request)[1][0].stats.generated_tokens == GREEDY.max_new_tokens


@pytest.mark.parametrize("quantization", ["q4", "fp16"])
def test_quantized_variants_generate(tiny_engine_factory, quantization: str) -> None:  # type: ignore[no-untyped-def]
    engine = tiny_engine_factory(quantization)
    assert engine.variant.quantization == quantization
    engine.stop_token_ids = frozenset()
    _, [done] = run(engine, ask("Hello"))
    assert done.stats.generated_tokens == GREEDY.max_new_tokens


def test_fp16_logits_agree_with_fp32(tiny_engine_factory) -> None:  # type: ignore[no-untyped-def]
    fp32, fp16 = tiny_engine_factory("fp32"), tiny_engine_factory("fp16")
    ids = fp32.tokenizer.encode("The quick brown fox")
    a, _ = fp32.model.forward(ids, KVCache.empty(fp32.model.kv))
    b, _ = fp16.model.forward(ids, KVCache.empty(fp16.model.kv))
    assert int(np.argmax(a)) == int(np.argmax(b))
    np.testing.assert_allclose(a, b, atol=0.05 * float(np.abs(a).max()))


def test_request_needs_messages_or_prompt() -> None:
    with pytest.raises(UserError):
        GenerationRequest()


def test_in_place_kv_buffers_grow_without_changing_the_text(endless, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.engine import onnx_model

    assert endless.model.in_place_kv  # the tiny model's attention is fused: GQA appends in place
    assert endless.model.logits_buffer is not None  # and its logits are written into one buffer
    settings = replace(GREEDY, max_new_tokens=40)
    expected = run(endless, ask("The quick brown fox", settings))[1][0].text
    monkeypatch.setattr(onnx_model._SharedBuffers, "GROWTH", 8)  # grow every few tokens
    endless.reset_cache()
    grown = run(endless, ask("The quick brown fox", settings))[1][0]
    assert grown.text == expected
    assert endless.cache.buffers.capacity >= grown.stats.prompt_tokens + 39


def test_a_prompt_and_its_reply_get_their_room_at_once(endless, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.engine import onnx_model

    monkeypatch.setattr(onnx_model._SharedBuffers, "GROWTH", 8)
    monkeypatch.setattr("desktop_app.engine.generate.PREFILL_CHUNK", 8)  # the prompt runs in chunks
    allocated: list[int] = []
    previous: list[weakref.ref] = []  # type: ignore[type-arg]
    previous_alive: list[bool] = []
    original = onnx_model._SharedBuffers.reserve

    def reserve(self, needed: int, keep: int):  # type: ignore[no-untyped-def]
        before = self.capacity
        if before == 0:
            previous_alive.extend(ref() is not None for ref in previous)
        binding = original(self, needed, keep)
        if self.capacity != before:
            allocated.append(self.capacity)
        return binding

    monkeypatch.setattr(onnx_model._SharedBuffers, "reserve", reserve)
    endless.reset_cache()
    first = run(
        endless, GenerationRequest(prompt="The quick brown fox " * 6, settings=replace(GREEDY, max_new_tokens=20))
    )[1][0]
    assert first.stats.prompt_tokens > 16 and first.stats.generated_tokens == 20
    assert len(allocated) == 1 and allocated[0] >= first.stats.prompt_tokens + 20  # no regrowth, no copies
    # A new conversation lets go of the old buffers (nothing to reuse) before it makes its own.
    previous.append(weakref.ref(endless.cache.buffers))
    run(endless, GenerationRequest(prompt="Zebras graze", settings=GREEDY))
    assert previous_alive == [False]


def test_unfused_models_copy_the_cache(tiny_model_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    import json
    import shutil

    from desktop_app.engine import load_engine
    from desktop_app.engine.onnx_model import KVCache

    copy = tmp_path / "m"
    shutil.copytree(tiny_model_dir, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["extra"]["attention"] = "unfused"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    engine = load_engine(copy, provider="cpu", quantization="fp32", threads=1)
    assert not engine.model.in_place_kv
    assert isinstance(engine.model.empty_cache(), KVCache)


def test_a_response_format_is_enforced_not_ignored(tiny_engine) -> None:  # type: ignore[no-untyped-def]
    # The tiny model writes noise; under the constraint the noise is JSON of the schema, and
    # the reply ends where the JSON does.
    schema = {"type": "object", "properties": {"kind": {"enum": ["a", "b"]}}, "required": ["kind"]}
    schema["additionalProperties"] = False
    response_format = {"type": "json_schema", "json_schema": {"name": "kind", "schema": schema}}
    settings = GenerationSettings(temperature=1.0, top_k=0, seed=3, num_alternatives=2, max_new_tokens=40)
    _, finished = run(tiny_engine, replace(ask("Hello", settings), response_format=response_format))
    for done in finished:
        assert json.loads(done.text) in ({"kind": "a"}, {"kind": "b"}), done.text
        assert done.stats.finish_reason is FinishReason.STOP_TOKEN
    _, [free] = run(tiny_engine, ask("Hello", replace(settings, num_alternatives=1)))
    assert free.text not in ('{"kind": "a"}', '{"kind": "b"}')  # the same model left alone


def test_openai_penalties_count_the_reply_and_not_the_prompt(endless, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.engine import generate, sampling

    seen: list[tuple[int, dict[int, int]]] = []

    class Recording(sampling.Sampler):
        def __call__(self, logits, history):  # type: ignore[no-untyped-def]
            choice = super().__call__(logits, history)
            seen.append((self._prompt_length, dict(self._counts)))
            return choice

    monkeypatch.setattr(generate, "Sampler", Recording)
    settings = replace(GREEDY, frequency_penalty=0.5, presence_penalty=0.5)
    events, finished = run(endless, ask("the quick brown fox", settings))
    prepared = next(e for e in events if isinstance(e, PromptPrepared))
    assert {length for length, _ in seen} == {prepared.prompt_tokens}
    # Before each choice the counts hold exactly the reply so far: none at first, then one more each step.
    assert [sum(counts.values()) for _, counts in seen] == list(range(finished[0].stats.generated_tokens))
