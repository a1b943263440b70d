"""Batched decoding on the tiny Llama GGUF (a graph with in-place KV): every row must write
what the same request writes alone through Engine.generate, with proposals checked or not."""

from __future__ import annotations

import json
import threading
from dataclasses import replace

import pytest

from desktop_app.core.errors import ContextOverflowError, UserError
from desktop_app.core.generation import FinishReason, GenerationSettings
from desktop_app.engine import Finished, GenerationRequest, PromptPrepared, TextChunk
from desktop_app.engine.batch import BatchDecoder, BatchSequence, open_batch_decoder
from desktop_app.engine.generate import PREFILL_CHUNK
from desktop_app.engine.speculation import K_MAX, SpeculationSettings, Speculator

GREEDY = GenerationSettings(temperature=0.0, repetition_penalty=1.0, max_new_tokens=12)
PROMPTS = [
    "The quick brown fox",
    "Paris is the capital of France, and Berlin is the capital of",
    "Hello",
    "Writers continue, rewrite, shorten and summarise their drafts. Customer service replies should be",
]


def ask(prompt: str, **changes: object) -> GenerationRequest:
    return GenerationRequest(prompt=prompt, settings=replace(GREEDY, **changes))  # type: ignore[arg-type]


@pytest.fixture(params=["F32", "Q4_0"])
def engine(request: pytest.FixtureRequest, tiny_gguf_engine):  # type: ignore[no-untyped-def]
    made = tiny_gguf_engine(request.param)
    made.stop_token_ids = frozenset()  # the random model may pick its stop token; lengths must hold
    made.speculation = SpeculationSettings("off")  # rows decode one token a pass, as plain decoding
    return made


def alone(engine, request: GenerationRequest) -> list[Finished]:  # type: ignore[no-untyped-def]
    return [e for e in engine.generate(request) if isinstance(e, Finished)]


def drain(batch: BatchDecoder, sequences: list[BatchSequence], limit: int = 1000) -> dict[int, list[object]]:
    events: dict[int, list[object]] = {i: [] for i in range(len(sequences))}
    for _ in range(limit):
        for i, sequence in enumerate(sequences):
            events[i] += sequence.take_events()
        if not batch.active:
            return events
        batch.step()
    raise AssertionError("the batch did not finish")


def finished(events: list[object]) -> list[Finished]:
    return sorted((e for e in events if isinstance(e, Finished)), key=lambda e: e.index)


def test_the_default_model_graph_batches(engine) -> None:  # type: ignore[no-untyped-def]
    assert engine.model.in_place_kv
    assert isinstance(open_batch_decoder(engine, 4), BatchDecoder)
    assert open_batch_decoder(object(), 4) is None


def test_rows_of_different_lengths_write_what_each_writes_alone(engine) -> None:  # type: ignore[no-untyped-def]
    requests = [ask(p, max_new_tokens=n) for p, n in zip(PROMPTS, (5, 17, 9, 30), strict=True)]
    batch = BatchDecoder(engine, 4)
    sequences = [batch.add(r, threading.Event()) for r in requests]
    assert batch.free_rows == 0 and not batch.can_add(requests[0])
    events = drain(batch, sequences)
    for i, request in enumerate(requests):
        [want] = alone(engine, request)
        [got] = finished(events[i])
        assert got.text == want.text and want.text
        assert got.stats.generated_tokens == want.stats.generated_tokens == request.settings.max_new_tokens
        assert got.stats.finish_reason is FinishReason.LENGTH
        assert "".join(e.text for e in events[i] if isinstance(e, TextChunk)) == got.text
        assert isinstance(events[i][0], PromptPrepared) and events[i][0].prompt_tokens == got.stats.prompt_tokens
    assert batch.free_rows == 4


def test_stop_sequences_and_seeded_alternatives_match_the_engine(engine) -> None:  # type: ignore[no-untyped-def]
    [plain] = alone(engine, ask(PROMPTS[1], max_new_tokens=20))
    stop = plain.text[len(plain.text) // 2 :][:3]
    requests = [
        ask(PROMPTS[1], max_new_tokens=20, stop_sequences=(stop,)),
        ask(PROMPTS[0], temperature=0.9, top_k=0, seed=7, num_alternatives=3, max_new_tokens=15),
        ask(PROMPTS[3], max_new_tokens=20, presence_penalty=1.5, frequency_penalty=2.0),
    ]
    batch = BatchDecoder(engine, 5)
    sequences = [batch.add(r, threading.Event()) for r in requests]
    assert batch.free_rows == 0  # one row each alternative
    events = drain(batch, sequences)
    for i, request in enumerate(requests):
        want, got = alone(engine, request), finished(events[i])
        assert [(f.index, f.text, f.stats.finish_reason) for f in got] == [
            (f.index, f.text, f.stats.finish_reason) for f in want
        ]
    assert finished(events[0])[0].stats.finish_reason is FinishReason.STOP_SEQUENCE
    assert len({f.text for f in finished(events[1])}) > 1  # three seeds, three texts


def test_openai_penalties_count_each_rows_reply_and_not_its_prompt(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.engine import batch as batch_module
    from desktop_app.engine.sampling import Sampler

    seen: dict[int, list[tuple[int, int]]] = {}

    class Recording(Sampler):
        def __call__(self, logits, history):  # type: ignore[no-untyped-def]
            seen.setdefault(id(self), []).append((self._prompt_length, sum(self._counts.values())))
            return super().__call__(logits, history)

    monkeypatch.setattr(batch_module, "Sampler", Recording)
    requests = [ask(p, max_new_tokens=6, presence_penalty=0.5, frequency_penalty=0.5) for p in PROMPTS[:2]]
    batch = BatchDecoder(engine, 2)
    sequences = [batch.add(r, threading.Event()) for r in requests]
    drain(batch, sequences)
    lengths = sorted(len(s.plan.token_ids) for s in sequences)
    assert sorted(calls[0][0] for calls in seen.values()) == lengths
    for calls in seen.values():  # counted before each choice: the reply so far, nothing of the prompt
        assert [counted for _, counted in calls] == [0, 0, 1, 2, 3, 4]


KIND = {
    "type": "json_schema",
    "json_schema": {
        "name": "kind",
        "schema": {
            "type": "object",
            "properties": {"kind": {"enum": ["a", "b"]}, "n": {"type": "integer", "minimum": 0, "maximum": 99}},
            "required": ["kind", "n"],
            "additionalProperties": False,
        },
    },
}


def test_a_response_format_is_enforced_in_its_rows_and_only_there(tiny_gguf_engine) -> None:  # type: ignore[no-untyped-def]
    engine = tiny_gguf_engine("F32")  # with its stop token: the grammar's end of reply
    sampled = replace(GREEDY, temperature=1.0, top_k=0, seed=4, num_alternatives=2, max_new_tokens=30)
    constrained = replace(ask(PROMPTS[1]), settings=sampled, response_format=KIND)
    free = ask(PROMPTS[0], max_new_tokens=30)
    batch = BatchDecoder(engine, 3)
    sequences = [batch.add(constrained, threading.Event()), batch.add(free, threading.Event())]
    events = drain(batch, sequences)
    json_rows, free_row = finished(events[0]), finished(events[1])
    for done in json_rows:
        assert json.loads(done.text)["kind"] in ("a", "b"), done.text
        assert done.stats.finish_reason is FinishReason.STOP_TOKEN
    assert [f.text for f in json_rows] == [f.text for f in alone(engine, constrained)]
    assert [f.text for f in free_row] == [f.text for f in alone(engine, free)]  # its neighbour is left free


def test_a_response_format_that_cannot_be_enforced_takes_no_row(engine) -> None:  # type: ignore[no-untyped-def]
    batch = BatchDecoder(engine, 2)  # this engine's stop tokens were taken away: JSON could never end
    with pytest.raises(UserError, match="end-of-reply token"):
        batch.add(replace(ask(PROMPTS[0]), response_format={"type": "json_object"}), threading.Event())
    assert batch.free_rows == 2 and not batch.active


def test_a_sequence_joins_mid_batch_and_a_long_prompt_does_not_stall_the_others(engine) -> None:  # type: ignore[no-untyped-def]
    long_prompt = " ".join(PROMPTS * 4)  # two chunks of prefill
    early = ask(PROMPTS[0], max_new_tokens=40)
    batch = BatchDecoder(engine, 2)
    first = batch.add(early, threading.Event())
    for _ in range(5):
        batch.step()
    late = ask(long_prompt, max_new_tokens=8)
    second = batch.add(late, threading.Event())
    chunks = -(-len(second.plan.token_ids) // PREFILL_CHUNK)
    assert chunks >= 2
    written = len(first.alternatives[0].generated)
    for _ in range(chunks):
        assert second.prefilling
        batch.step()
        assert len(first.alternatives[0].generated) == written + 1  # a token each step, prefill or not
        written += 1
    events = drain(batch, [first, second])
    assert finished(events[0])[0].text == alone(engine, early)[0].text
    assert finished(events[1])[0].text == alone(engine, late)[0].text


def test_cancel_mid_batch_frees_the_row_at_the_next_step(engine) -> None:  # type: ignore[no-untyped-def]
    keep, drop = ask(PROMPTS[1], max_new_tokens=25), ask(PROMPTS[3], max_new_tokens=200)
    cancel = threading.Event()
    batch = BatchDecoder(engine, 2)
    kept, dropped = batch.add(keep, threading.Event()), batch.add(drop, cancel)
    for _ in range(6):
        batch.step()
    written = len(dropped.alternatives[0].generated)
    cancel.set()
    batch.step()
    assert dropped.done and batch.free_rows == 1
    [result] = finished(dropped.take_events())
    assert result.stats.finish_reason is FinishReason.CANCELLED
    assert result.stats.generated_tokens == written
    third = batch.add(ask(PROMPTS[2], max_new_tokens=10), threading.Event())
    events = drain(batch, [kept, third])
    assert finished(events[0])[0].text == alone(engine, keep)[0].text
    assert finished(events[1])[0].text == alone(engine, ask(PROMPTS[2], max_new_tokens=10))[0].text


def test_a_request_cancelled_before_its_prefill_takes_no_step(engine) -> None:  # type: ignore[no-untyped-def]
    cancel = threading.Event()
    cancel.set()
    batch = BatchDecoder(engine, 2)
    sequence = batch.add(ask(PROMPTS[0], num_alternatives=2), cancel)
    batch.step()
    assert sequence.done and batch.free_rows == 2
    assert [f.stats.finish_reason for f in finished(sequence.take_events())] == [FinishReason.CANCELLED] * 2


def test_a_finished_row_keeps_its_prefix_for_the_next_prompt(engine) -> None:  # type: ignore[no-untyped-def]
    request = ask(PROMPTS[3], max_new_tokens=6)
    batch = BatchDecoder(engine, 3)
    drain(batch, [batch.add(request, threading.Event())])
    again = batch.add(request, threading.Event())
    prepared = again.take_events()[0]
    assert isinstance(prepared, PromptPrepared) and prepared.reused_tokens == prepared.prompt_tokens - 1
    assert finished(drain(batch, [again])[0])[0].text == alone(engine, request)[0].text


def test_a_prompt_too_long_is_refused_and_takes_no_row(engine) -> None:  # type: ignore[no-untyped-def]
    batch = BatchDecoder(engine, 2)
    with pytest.raises(ContextOverflowError):
        batch.add(ask(" ".join(PROMPTS * 200)), threading.Event())
    assert batch.free_rows == 2 and batch.active == 0


def test_a_burst_of_short_prompts_starts_in_one_step(engine) -> None:  # type: ignore[no-untyped-def]
    batch = BatchDecoder(engine, 4)
    sequences = [batch.add(ask(p), threading.Event()) for p in PROMPTS]
    assert sum(len(s.plan.token_ids) for s in sequences) < PREFILL_CHUNK
    batch.step()
    assert all(not s.prefilling and len(s.alternatives[0].generated) == 1 for s in sequences)


def test_each_token_waits_for_its_reader_before_the_next_forward_pass(engine) -> None:  # type: ignore[no-untyped-def]
    """step(sampled) hands over every sampled token before the forward pass that follows
    it, so a stream shows it one pass sooner; the text is the same as without the hook."""
    batch = BatchDecoder(engine, 2)
    sequences = [batch.add(ask(PROMPTS[0]), threading.Event()), batch.add(ask(PROMPTS[1]), threading.Event())]
    passes = 0
    forward = batch._forward

    def counted(running):  # type: ignore[no-untyped-def]
        nonlocal passes
        passes += 1
        forward(running)

    batch._forward = counted  # type: ignore[method-assign]
    seen: list[tuple[int, int]] = []  # (passes so far, chunks handed over at this call)
    texts = ["", ""]

    def sampled() -> None:
        chunks = 0
        for i, sequence in enumerate(sequences):
            for event in sequence.take_events():
                if isinstance(event, TextChunk):
                    texts[i] += event.text
                    chunks += 1
        seen.append((passes, chunks))

    while batch.active:
        batch.step(sampled)
    # The first call follows the prefill, before any decoding pass; then one per pass.
    assert seen[0] == (0, 2)
    assert [p for p, _ in seen] == list(range(len(seen)))
    assert sum(c for _, c in seen) > len(seen)  # text arrived through the hook, pass by pass
    assert texts == [alone(engine, ask(p))[0].text for p in PROMPTS[:2]]


def widths(batch: BatchDecoder) -> list[int]:
    """Record how many rows each forward pass of `batch` spans."""
    seen: list[int] = []
    forward = batch._forward

    def recorded(running):  # type: ignore[no-untyped-def]
        forward(running)
        seen.append(max(alt.row for alt in running) + 1)

    batch._forward = recorded  # type: ignore[method-assign]
    return seen


def test_a_lone_prompt_runs_in_the_lowest_row_and_still_reuses_a_higher_rows_prefix(engine) -> None:  # type: ignore[no-untyped-def]
    batch = BatchDecoder(engine, 4)
    requests = [ask(p, max_new_tokens=4) for p in PROMPTS]
    sequences = [batch.add(r, threading.Event()) for r in requests]
    assert [s.rows for s in sequences] == [[0], [1], [2], [3]]
    drain(batch, sequences)
    passes = widths(batch)
    again = batch.add(requests[3], threading.Event())  # its prefix is kept in row 3
    prepared = again.take_events()[0]
    assert isinstance(prepared, PromptPrepared) and prepared.reused_tokens == prepared.prompt_tokens - 1
    assert again.rows == [0]
    assert finished(drain(batch, [again])[0])[0].text == alone(engine, requests[3])[0].text
    assert passes and set(passes) == {1}


def test_a_sequence_moves_down_when_the_rows_below_it_finish(engine) -> None:  # type: ignore[no-untyped-def]
    batch = BatchDecoder(engine, 3)
    short, middle, long = (
        ask(PROMPTS[0], max_new_tokens=2),
        ask(PROMPTS[2], max_new_tokens=6),
        ask(PROMPTS[1], max_new_tokens=20),
    )
    sequences = [batch.add(r, threading.Event()) for r in (short, middle, long)]
    passes = widths(batch)
    events = drain(batch, sequences)
    assert passes[0] == 3 and passes[-1] == 1 and passes == sorted(passes, reverse=True)
    assert sequences[2].rows == [0] and sequences[2].alternatives[0].row == 0  # moved down from row 2
    for i, request in enumerate((short, middle, long)):
        assert finished(events[i])[0].text == alone(engine, request)[0].text
    assert batch.free_rows == 3


def test_a_kept_prompt_takes_no_forward_pass_of_its_own(engine) -> None:  # type: ignore[no-untyped-def]
    """When a kept prefix holds all of a prompt but its last token, that token runs in the
    batched pass beside the rows already decoding; every alternative still writes what it
    writes alone."""
    batch = BatchDecoder(engine, 4)
    kept = [batch.add(ask(p, max_new_tokens=3), threading.Event()) for p in (PROMPTS[0], PROMPTS[3])]
    drain(batch, kept)
    running = batch.add(ask(PROMPTS[1], max_new_tokens=30), threading.Event())  # in row 0
    for _ in range(3):
        batch.step()
    prefills = 0
    run_row = batch._kv.run_row

    def counted(row, token_ids):  # type: ignore[no-untyped-def]
        nonlocal prefills
        prefills += 1
        return run_row(row, token_ids)

    batch._kv.run_row = counted  # type: ignore[method-assign]
    again = ask(PROMPTS[3], temperature=0.9, top_k=0, seed=11, num_alternatives=2, max_new_tokens=10)
    joined = batch.add(again, threading.Event())
    prepared = joined.take_events()[0]
    assert isinstance(prepared, PromptPrepared) and prepared.reused_tokens == prepared.prompt_tokens - 1
    batch.step()
    assert prefills == 0 and not joined.prefilling
    events = drain(batch, [running, joined])
    assert prefills == 0
    want = alone(engine, again)
    assert [(f.index, f.text) for f in finished(events[1])] == [(f.index, f.text) for f in want]
    assert finished(events[0])[0].text == alone(engine, ask(PROMPTS[1], max_new_tokens=30))[0].text


def test_an_unrelated_prompt_moves_a_kept_prompt_aside_rather_than_erase_it(engine) -> None:  # type: ignore[no-untyped-def]
    batch = BatchDecoder(engine, 3)
    kept = ask(PROMPTS[3], max_new_tokens=3)
    drain(batch, [batch.add(kept, threading.Event())])  # row 0 keeps it
    other = batch.add(ask(PROMPTS[1], max_new_tokens=20), threading.Event())  # row 0: the lowest free row
    assert other.rows == [0]
    again = batch.add(kept, threading.Event())
    prepared = again.take_events()[0]
    assert isinstance(prepared, PromptPrepared) and prepared.reused_tokens == prepared.prompt_tokens - 1
    events = drain(batch, [other, again])
    assert finished(events[1])[0].text == alone(engine, kept)[0].text
    assert finished(events[0])[0].text == alone(engine, ask(PROMPTS[1], max_new_tokens=20))[0].text


def test_reasoning_budgets_and_tool_calls_come_out_of_a_row_as_out_of_the_engine(tiny_gguf_engine) -> None:  # type: ignore[no-untyped-def]
    from desktop_app.core.chat import ChatMessage
    from desktop_app.engine.chat_template import ChatTemplate
    from desktop_app.engine.reasoning import thinking_syntax

    engine = tiny_gguf_engine("F32")  # with its stop token: the grammar's end of reply
    source = "{# tools <tool_call> #}{% for m in messages %}{{ m['content'] }}{% endfor %}<think>\n"
    engine.template, engine.thinking = ChatTemplate(source, {}), thinking_syntax(source)
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
    chat = (ChatMessage("user", "Hi"),)
    thinking = GenerationRequest(messages=chat, settings=replace(GREEDY, reasoning_budget=4, max_new_tokens=20))
    calling = GenerationRequest(
        messages=chat, settings=replace(GREEDY, max_new_tokens=60), tools=(tool,), tool_choice="required"
    )
    batch = BatchDecoder(engine, 2)
    sequences = [batch.add(thinking, threading.Event()), batch.add(calling, threading.Event())]
    events = drain(batch, sequences)
    [reasoned], [called] = finished(events[0]), finished(events[1])
    [reasoned_alone], [called_alone] = alone(engine, thinking), alone(engine, calling)
    assert (reasoned.reasoning, reasoned.text, reasoned.token_ids) == (
        reasoned_alone.reasoning,
        reasoned_alone.text,
        reasoned_alone.token_ids,
    )
    assert reasoned.stats.reasoning_tokens == reasoned_alone.stats.reasoning_tokens
    # (a random model's near ties may break apart in a batch: each call is checked, not compared)
    for done in (called, called_alone):
        assert [(c.name, c.arguments) for c in done.tool_calls] == [("f", "{}")], done


def test_rows_check_proposals_and_write_what_plain_decoding_writes(engine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Each row proposes the plain reply's next tokens with every third one wrong: accepted
    runs and rejections at every place, in rows of different lengths, and the texts stay.
    A reply's stop token ends it with proposals left in its row, which the row drops."""
    requests = [ask(p, max_new_tokens=n) for p, n in zip(PROMPTS, (5, 17, 9, 30), strict=True)]
    stop = alone(engine, requests[3])[0].token_ids[20]
    engine.stop_token_ids = frozenset({stop})  # the longest reply ends at its token 20 or before
    plain = [alone(engine, r)[0] for r in requests]  # the fixture's engine decodes plainly
    prompts = [tuple(engine.build_prompt(r).token_ids) for r in requests]
    limits = {p: r.settings.max_new_tokens for p, r in zip(prompts, requests, strict=True)}
    # What each reply's row is proposed: the reply, its stop token and more after it.
    replies = {p: (*f.token_ids, stop, *[7] * 30) for p, f in zip(prompts, plain, strict=True)}
    made = 0

    def propose(self, history, room):  # type: ignore[no-untyped-def]
        nonlocal made
        prompt = next(p for p in replies if tuple(history[: len(p)]) == p)
        done = len(history) - len(prompt)
        assert done + room < limits[prompt]  # nothing proposed past the reply's longest
        proposal = list(replies[prompt][done : done + room])
        for i in range(len(proposal)):
            made += 1
            if made % 3 == 0 and done + i < len(replies[prompt]) - 31:  # the reply's tokens only
                proposal[i] = (proposal[i] + 1) % 300
        self.proposed += len(proposal)
        return proposal

    monkeypatch.setattr(Speculator, "propose", propose)
    engine.speculation = SpeculationSettings("lookup")
    batch = BatchDecoder(engine, 4)
    passes: list[tuple[int, int]] = []
    checked = batch._kv.forward_checked

    def counted(tokens, counts):  # type: ignore[no-untyped-def]
        passes.append(tokens.shape)
        return checked(tokens, counts)

    monkeypatch.setattr(batch._kv, "forward_checked", counted)
    sequences = [batch.add(r, threading.Event()) for r in requests]
    events = drain(batch, sequences)
    proposed = accepted = 0
    for i, want in enumerate(plain):
        [got] = finished(events[i])
        assert got.token_ids == want.token_ids and got.text == want.text
        assert "".join(e.text for e in events[i] if isinstance(e, TextChunk)) == got.text
        proposed, accepted = proposed + got.stats.proposed_tokens, accepted + got.stats.accepted_tokens
    assert 0 < accepted < proposed
    # Each row keeps a prompt and its reply, not the proposals past the reply's end.
    written = [[*prompt, *f.token_ids] for prompt, f in zip(prompts, plain, strict=True)]
    assert any(f.stats.finish_reason is FinishReason.STOP_TOKEN for f in plain)
    for row in batch._tokens:
        assert any(row == full[: len(row)] for full in written), (row, written)
    assert passes and all(width * n <= K_MAX + 1 for width, n in passes)
    assert {width for width, _ in passes} >= {1, 4}  # checks with every row busy, and with one left


def test_speculation_off_or_a_graph_that_cannot_check_exactly_proposes_nothing(engine) -> None:  # type: ignore[no-untyped-def]
    batch = BatchDecoder(engine, 2)
    [sequence] = [batch.add(ask(PROMPTS[0] * 3, max_new_tokens=20), threading.Event())]
    [done] = finished(drain(batch, [sequence])[0])
    assert done.stats.proposed_tokens == 0  # the fixture turned speculation off
    engine.speculation = SpeculationSettings("lookup")
    engine.checks_exactly = False  # (a graph on ONNX Runtime's 4-bit kernel, or the GPU)
    [sequence] = [batch.add(ask(PROMPTS[0] * 3, max_new_tokens=20), threading.Event())]
    [done] = finished(drain(batch, [sequence])[0])
    assert done.stats.proposed_tokens == 0
