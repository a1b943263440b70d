"""Evaluation runs: each item asked as the app asks it, stored as it is done, resumed after
an interruption without generating any item twice."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from desktop_app.core.cowriter import SYSTEM
from desktop_app.core.errors import UserError
from desktop_app.core.generation import FinishReason, GenerationSettings, GenerationStats
from desktop_app.engine import Finished, GenerationRequest, PromptPrepared
from desktop_app.evaluation.datasets import EvalDataset, load_dataset
from desktop_app.session.evaluation import EVAL_SETTINGS, EvalProgress, EvaluationInterrupted, EvaluationRunner
from desktop_app.store import Store

SETTINGS = GenerationSettings(temperature=0.0, seed=0, max_new_tokens=6)
PROMPTS = ["Hello world", "The quick brown fox", "Paris is the capital", "Writers continue", "Customer service"]


class Counting:
    """The tiny engine, counting what it is asked."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.requests: list[GenerationRequest] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.engine, name)

    def generate(self, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator[object]:
        self.requests.append(request)
        return self.engine.generate(request, cancel)


class Scripted:
    """A model that answers every request with `answer` (a large context, words as tokens)."""

    manifest = type("Manifest", (), {"id": "scripted"})()
    variant = type("Variant", (), {"quantization": "fp32"})()
    provider = type("Provider", (), {"name": "cpu"})()
    context_length = 4096

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.requests: list[GenerationRequest] = []

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def generate(self, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator[object]:
        self.requests.append(request)
        yield PromptPrepared(3, 0, 0, self.context_length)
        stats = GenerationStats(3, 4, 12.0, 50.0, FinishReason.STOP_TOKEN, 0)
        yield Finished(0, self.answer, stats)


def dataset(tmp_path: Path, records: list[dict[str, Any]] | None = None) -> EvalDataset:
    records = records or [{"id": f"i{n}", "prompt": p, "reference": p + " again"} for n, p in enumerate(PROMPTS)]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    return load_dataset(path)


def prompts(engine: Counting) -> list[str]:
    return [r.messages[-1].content for r in engine.requests]


def test_an_interrupted_run_resumes_without_repeating_an_item(store: Store, tiny_engine: Any, tmp_path: Path) -> None:
    data = dataset(tmp_path)
    engine = Counting(tiny_engine)
    heard: list[EvalProgress] = []

    def interrupt_after_two(p: EvalProgress) -> None:
        heard.append(p)
        if p.done == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        EvaluationRunner(store, data, interrupt_after_two).run(engine, SETTINGS)
    [run] = store.evaluations.runs()
    assert run.status == "interrupted" and run.items_done == 2
    assert [(p.done, p.total, p.item_id) for p in heard] == [(0, 5, ""), (1, 5, "i0"), (2, 5, "i1")]

    resumed = EvaluationRunner(store, data).run(engine, SETTINGS)  # the same data, model and settings
    assert resumed.id == run.id and resumed.status == "finished" and resumed.items_done == 5
    assert prompts(engine) == PROMPTS  # each item generated once, in order
    results = store.evaluations.results(run.id)
    assert [r.item_id for r in results] == [f"i{n}" for n in range(5)]
    assert all(r.generated_tokens is not None and r.finish_reason for r in results)
    assert set(resumed.corpus_scores) >= {"bleu", "chrf", "rouge1", "rouge2", "rougeL", "exact_match", "tokens_per_s"}
    assert resumed.metric_info["signatures"]["bleu"].startswith("nrefs:1|")

    # Run again (as after an interrupted run of several models): the finished run is reused.
    counted = Counting(tiny_engine)
    assert EvaluationRunner(store, data).run(counted, SETTINGS).id == run.id and counted.requests == []
    # Measured afresh (--fresh), greedy and seeded: one uninterrupted run writes the same texts.
    again = EvaluationRunner(store, data).run(Counting(tiny_engine), SETTINGS, fresh=True)
    assert again.id != run.id
    assert [r.output for r in store.evaluations.results(again.id)] == [r.output for r in results]
    assert again.corpus_scores["bleu"] == resumed.corpus_scores["bleu"]


def test_cancel_stops_between_items_and_resume_continues_that_run(
    store: Store, tiny_engine: Any, tmp_path: Path
) -> None:
    data = dataset(tmp_path)
    cancel = threading.Event()
    engine = Counting(tiny_engine)

    def cancel_after_three(p: EvalProgress) -> None:
        if p.done == 3:
            cancel.set()

    with pytest.raises(EvaluationInterrupted) as stopped:
        EvaluationRunner(store, data, cancel_after_three, cancel).run(engine, SETTINGS)
    run_id = stopped.value.run.id
    assert (stopped.value.done, stopped.value.total) == (3, 5)
    assert store.evaluations.get(run_id).status == "interrupted"

    other = EvaluationRunner(store, data).run(Counting(tiny_engine), EVAL_SETTINGS)  # other settings: a new run
    assert other.id != run_id
    done = EvaluationRunner(store, data).run(engine, SETTINGS, resume=run_id[:20])
    assert done.id == run_id and done.status == "finished" and prompts(engine) == PROMPTS


def test_resuming_is_refused_on_another_data_set_or_other_settings(
    store: Store, tiny_engine: Any, tmp_path: Path
) -> None:
    data = dataset(tmp_path)
    run = EvaluationRunner(store, data.limited(1)).run(tiny_engine, SETTINGS)
    with pytest.raises(UserError, match="covers 1 items, not 5"):
        EvaluationRunner(store, data).run(tiny_engine, SETTINGS, resume=run.id)
    with pytest.raises(UserError, match="other generation settings"):
        EvaluationRunner(store, data.limited(1)).run(tiny_engine, EVAL_SETTINGS, resume=run.id)
    (tmp_path / "other").mkdir()
    changed = dataset(tmp_path / "other", [{"prompt": "Something else", "reference": "x"}])
    with pytest.raises(UserError, match="another data set"):
        EvaluationRunner(store, changed).run(tiny_engine, SETTINGS, resume=run.id)


def test_a_run_running_in_another_process_is_not_run_twice(tmp_path: Path) -> None:
    from desktop_app.store import open_store

    data = dataset(tmp_path)
    first, second = open_store(tmp_path / "inkwell.db"), open_store(tmp_path / "inkwell.db")  # two processes' stores
    try:
        seen: list[str] = []

        def try_beside(p: EvalProgress) -> None:  # while the first store runs it, the second asks for the same run
            if p.done == 1 and not seen:
                with pytest.raises(UserError, match="running in another Inkwell process") as refused:
                    EvaluationRunner(second, data).run(Scripted("Hello world again"), SETTINGS)
                seen.append(refused.value.hint)

        run = EvaluationRunner(first, data, try_beside).run(Scripted("Hello world again"), SETTINGS)
        assert run.status == "finished" and seen == ["Wait for it to finish, or start a new run with --fresh."]
        assert len(second.evaluations.runs()) == 1  # the refusal made no run of its own
        fresh = EvaluationRunner(second, data).run(Scripted("Hello world again"), SETTINGS, fresh=True)
        assert fresh.id != run.id and fresh.status == "finished"
    finally:
        first.close()
        second.close()


def test_an_item_too_long_for_the_model_is_kept_with_its_reason(store: Store, tiny_engine: Any, tmp_path: Path) -> None:
    data = dataset(
        tmp_path,
        [{"id": "long", "prompt": "word " * 400, "reference": "x"}, {"id": "ok", "prompt": "Hi", "reference": "Hello"}],
    )
    run = EvaluationRunner(store, data).run(tiny_engine, SETTINGS)
    long, ok = store.evaluations.results(run.id)
    assert long.output == "" and "too long" in long.error and long.scores["bleu"] == 0.0
    assert ok.error == "" and run.status == "finished"


def test_rewrites_go_through_the_cowriter_with_the_runs_settings_and_its_clean_up(store: Store, tmp_path: Path) -> None:
    records = [
        {"id": "g", "task": "rewrite", "action": "grammar", "prompt": "Teh cat sat.", "reference": "The cat sat."},
        {"id": "s", "task": "summarise", "prompt": "A long story about a cat.", "reference": "The cat sat."},
        {"id": "t", "task": "rewrite", "action": "translate", "language": "French", "prompt": "Hi", "reference": "x"},
        {"id": "c", "task": "continue", "prompt": "Once upon a", "reference": "time"},
        {
            "id": "m",
            "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
            "reference": "x",
        },
    ]
    engine = Scripted('Here is the corrected text:\n"The cat sat."')
    settings = GenerationSettings(temperature=0.0, seed=3, max_new_tokens=20, repetition_penalty=1.3)
    run = EvaluationRunner(store, dataset(tmp_path, records)).run(engine, settings)
    grammar, summary, translation, cont, chat = engine.requests
    assert all(r.settings == settings for r in engine.requests)
    assert grammar.messages[0].content == SYSTEM and "Teh cat sat." in grammar.messages[-1].content
    assert "Correct the grammar" in grammar.messages[-1].content and "Summarise" in summary.messages[-1].content
    assert "French" in translation.messages[-1].content
    assert (cont.prompt, cont.messages) == ("Once upon a", ())
    assert [m.content for m in chat.messages] == ["Be brief.", "Hi"]
    outputs = {r.item_id: r.output for r in store.evaluations.results(run.id)}
    assert outputs["g"] == outputs["s"] == "The cat sat."  # what the co-writer would show
    assert outputs["c"] == outputs["m"] == 'Here is the corrected text:\n"The cat sat."'  # chat replies as they are
    assert store.evaluations.results(run.id)[0].scores["exact_match"] == 1.0
    assert (run.model_id, run.quantization, run.provider, run.seed) == ("scripted", "fp32", "cpu", 3)


class Failing(Scripted):
    """A server that goes away after `answers` replies."""

    def __init__(self, answers: int) -> None:
        super().__init__("fine")
        self.answers = answers

    def generate(self, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator[object]:
        if len(self.requests) >= self.answers:
            raise UserError("Cannot reach the server.")
        return super().generate(request, cancel)


def test_a_text_too_long_for_the_cowriter_scores_zero_but_a_lost_server_stops_the_run(
    store: Store, tmp_path: Path
) -> None:
    records = [
        {"id": "ok", "prompt": "Hi", "reference": "fine"},
        {"id": "huge", "task": "rewrite", "action": "shorter", "prompt": "word " * 5000, "reference": "x"},
        {"id": "lost", "prompt": "Hi again", "reference": "fine"},
    ]
    data = dataset(tmp_path, records)
    run = EvaluationRunner(store, data).run(Scripted("fine"), SETTINGS)
    ok, huge, lost = store.evaluations.results(run.id)
    assert (
        huge.output == "" and "too long" in huge.error and ok.scores["exact_match"] == 1.0 == lost.scores["exact_match"]
    )

    with pytest.raises(UserError, match="Cannot reach the server"):
        EvaluationRunner(store, data).run(Failing(answers=1), EVAL_SETTINGS)
    [stopped] = [r for r in store.evaluations.runs() if r.id != run.id]
    assert stopped.status == "interrupted" and [r.item_id for r in store.evaluations.results(stopped.id)] == [
        "ok",
        "huge",
    ]
