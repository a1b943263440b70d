"""Evaluation runs: a model over a data set, each item generated as the user would get it,
scored and stored as soon as it is done, resumable after an interruption.

An item is asked the way its task is asked in the app: a chat item as a chat (its
messages, or the prompt as one user message), a continue item as raw text to continue,
and rewrite and summarise items through the co-writer's own request builder (its prompt
and its clean-up of the answer), but with the run's settings, so that beams, temperature
and the token limit apply. No Qt: `inkwell eval` drives it, and so could the window.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from desktop_app.core.chat import ChatMessage
from desktop_app.core.cowriter import clean_result
from desktop_app.core.errors import ContextOverflowError, UserError
from desktop_app.core.generation import FinishReason, GenerationSettings
from desktop_app.core.i18n import translate
from desktop_app.engine import Finished, GenerationRequest
from desktop_app.evaluation.datasets import EvalDataset, EvalItem
from desktop_app.evaluation.metrics import corpus_scores, item_scores, metric_info
from desktop_app.session.cowriter import cowriter_request
from desktop_app.store import Store
from desktop_app.store.evaluations import EvalResult, EvalRun

# Greedy, seeded and bounded: the same model and settings give the same texts, run after run.
EVAL_SETTINGS = GenerationSettings(temperature=0.0, seed=0, max_new_tokens=256)


class LoadedEngine(Protocol):
    """What a run needs of a model: engine.Engine, remote.RemoteEngine (tests pass wrappers)."""

    @property
    def manifest(self) -> Any: ...

    @property
    def variant(self) -> Any: ...

    @property
    def provider(self) -> Any: ...

    @property
    def context_length(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def generate(self, request: GenerationRequest, cancel: threading.Event | None = None) -> Iterator[object]: ...


@dataclass(frozen=True)
class EvalProgress:
    run_id: str
    label: str
    done: int  # items with a result, those of earlier sessions included
    total: int
    item_id: str  # the item just done ("" before the first)
    elapsed_s: float  # in this session
    eta_s: float | None  # None until an item has been generated in this session
    error: str = ""  # why the item just done has no output


ProgressCallback = Callable[[EvalProgress], None]


class EvaluationInterrupted(Exception):
    """The run was cancelled between items; what was done is kept."""

    def __init__(self, run: EvalRun, done: int, total: int) -> None:
        super().__init__(f"evaluation run {run.id} interrupted after {done} of {total} items")
        self.run, self.done, self.total = run, done, total


class _CannotAsk(UserError):
    """The item does not fit this model."""


def eval_request(item: EvalItem, engine: LoadedEngine, settings: GenerationSettings) -> GenerationRequest:
    """The request for one item, as the app would make it, with the run's settings;
    _CannotAsk (a UserError) when the model cannot be asked it."""
    if item.task == "chat":
        messages = item.messages or (ChatMessage("user", item.prompt),)
        return GenerationRequest(messages=tuple(messages), settings=settings)
    if item.task == "continue":
        return GenerationRequest(prompt=item.prompt, settings=settings)
    try:
        built = cowriter_request(
            item.action, item.prompt, 0, len(item.prompt), engine.count_tokens, engine.context_length, item.language
        )
    except UserError as exc:  # the text is too long for the co-writer, or a base model cannot rewrite
        raise _CannotAsk(exc.message, exc.hint) from exc
    return dataclasses.replace(built.request, settings=settings)


def default_name(model_id: str, quantization: str, settings: GenerationSettings) -> str:
    """ "model q4", and what the settings change from the evaluation's defaults ("num_beams 4")."""
    defaults, chosen = EVAL_SETTINGS.to_dict(), settings.to_dict()
    changed = [f"{key} {value}" for key, value in chosen.items() if defaults.get(key) != value]
    return ", ".join([f"{model_id} {quantization}".strip(), *changed])


def cleaned(item: EvalItem, text: str) -> str:
    """The text the user would be given: the co-writer strips what small models add around it."""
    return clean_result(text) if item.task in ("rewrite", "summarise") else text


class EvaluationRunner:
    """Runs one data set; `progress` hears of each item (from the calling thread); setting
    `cancel` stops the run between items, and stops the item in progress."""

    def __init__(
        self,
        store: Store,
        dataset: EvalDataset,
        progress: ProgressCallback | None = None,
        cancel: threading.Event | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.dataset = dataset
        self.progress = progress or (lambda _p: None)
        self.cancel = cancel or threading.Event()
        self.clock = clock

    def open_run(
        self,
        engine: LoadedEngine,
        settings: GenerationSettings,
        resume: str | None = None,
        name: str = "",
        fresh: bool = False,
    ) -> EvalRun:
        """The run these settings continue: `resume` (checked to match), else the run of the
        same data set, model, variant, settings and provider (an unfinished one first; a
        finished one is reused as it is, so re-running several models after an interruption
        generates nothing twice), else a new one; always a new one when `fresh`."""
        runs = self.store.evaluations
        model_id, quantization = str(engine.manifest.id), str(engine.variant.quantization)
        if resume is not None:
            run = runs.get(resume)
            self._check_resumable(run, model_id, quantization, settings)
            return run
        found = runs.find_matching(
            self.dataset.sha256,
            len(self.dataset.items),
            model_id,
            quantization,
            settings.to_dict(),
            str(engine.provider.name),
        )
        if found is not None and not fresh:
            return found
        return runs.create_run(
            dataset_path=self.dataset.path,
            dataset_sha256=self.dataset.sha256,
            item_count=len(self.dataset.items),
            model_id=model_id,
            provider=str(engine.provider.name),
            quantization=quantization,
            seed=settings.seed,
            settings=settings.to_dict(),
            name=name or default_name(model_id, quantization, settings),
        )

    def _check_resumable(self, run: EvalRun, model_id: str, quantization: str, settings: GenerationSettings) -> None:
        if run.dataset_sha256 != self.dataset.sha256:
            raise UserError(
                translate("Errors", "The run {run} was made on another data set ({path}).").format(
                    run=run.id, path=run.dataset_path
                ),
                hint=translate("Errors", "Resume it with the same data file, unchanged."),
            )
        if run.item_count != len(self.dataset.items):
            raise UserError(
                translate("Errors", "The run {run} covers {count} items, not {asked}.").format(
                    run=run.id, count=run.item_count, asked=len(self.dataset.items)
                ),
                hint=translate("Errors", "Resume it with the same --limit as it was started with."),
            )
        if (run.model_id, run.quantization) != (model_id, quantization):
            raise UserError(
                translate("Errors", "The run {run} was made with {model} ({variant}), not {asked}.").format(
                    run=run.id, model=run.model_id, variant=run.quantization, asked=f"{model_id} ({quantization})"
                )
            )
        if GenerationSettings.from_dict(run.settings) != settings:
            raise UserError(
                translate("Errors", "The run {run} was made with other generation settings.").format(run=run.id)
            )

    def run(
        self,
        engine: LoadedEngine,
        settings: GenerationSettings,
        resume: str | None = None,
        name: str = "",
        fresh: bool = False,
    ) -> EvalRun:
        """Generate every item the run has no result for, then score the run. On an
        interruption (Ctrl+C, `cancel`, a failure) the run is marked interrupted and keeps
        the items done; EvaluationInterrupted is raised when `cancel` stopped it."""
        run = self.open_run(engine, settings, resume, name, fresh)
        runs = self.store.evaluations
        done = runs.done_items(run.id)
        items = self.dataset.items
        if run.status == "finished" and len(done) >= len(items):
            return run
        if not runs.claim(run.id):  # running now in another process (or window)
            raise UserError(
                translate("Errors", "The run {run} is running in another Inkwell process.").format(run=run.id),
                hint=translate("Errors", "Wait for it to finish, or start a new run with --fresh."),
            )
        started, generated = self.clock(), 0
        self.progress(EvalProgress(run.id, run.label, len(done), len(items), "", 0.0, None))
        try:
            for order, item in enumerate(items):
                if item.id in done:
                    continue
                if self.cancel.is_set():
                    raise EvaluationInterrupted(run, len(done), len(items))
                result = self._generate(item, order, engine, settings)
                if result is None:  # cancelled mid-item: nothing of it is kept
                    raise EvaluationInterrupted(run, len(done), len(items))
                runs.add_result(run.id, result)
                done.add(item.id)
                generated += 1
                elapsed = self.clock() - started
                eta = elapsed / generated * (len(items) - len(done))
                self.progress(
                    EvalProgress(run.id, run.label, len(done), len(items), item.id, elapsed, eta, result.error)
                )
        except BaseException:
            runs.set_status(run.id, "interrupted")
            raise
        corpus, info = score_run(runs.results(run.id))
        runs.set_status(run.id, "finished", corpus, info)
        return runs.get(run.id)

    def _generate(
        self, item: EvalItem, order: int, engine: LoadedEngine, settings: GenerationSettings
    ) -> EvalResult | None:
        # An item that cannot be asked of this model (too long for the co-writer or for the
        # context) scores 0 and says why; any other failure (a server gone) stops the run.
        finished = None
        try:
            request = eval_request(item, engine, settings)
            for event in engine.generate(request, self.cancel):
                if isinstance(event, Finished) and event.index == 0:
                    finished = event
        except (_CannotAsk, ContextOverflowError) as exc:
            return EvalResult(item.id, order, item.as_dict(), "", item_scores("", item.references), error=exc.message)
        if finished is None or finished.stats.finish_reason is FinishReason.CANCELLED:
            return None
        text = cleaned(item, finished.text)
        stats = finished.stats
        return EvalResult(
            item_id=item.id,
            ord=order,
            item=item.as_dict(),
            output=text,
            scores=item_scores(text, item.references),
            generated_tokens=stats.generated_tokens,
            tokens_per_s=stats.tokens_per_s,
            ttft_ms=stats.ttft_ms,
            finish_reason=stats.finish_reason.value,
        )


def score_run(results: Sequence[EvalResult], with_info: bool = True) -> tuple[dict[str, float], dict[str, object]]:
    """The run's scores (corpus BLEU and chrF, the means of the rest) and how they were made."""
    references = [list(r.item.get("references", [])) for r in results]
    speeds = [
        {"tokens_per_s": float(r.tokens_per_s), "ttft_ms": float(r.ttft_ms)}
        for r in results
        if not r.error and r.tokens_per_s is not None and r.ttft_ms is not None
    ]
    corpus = corpus_scores([r.output for r in results], references, [r.scores for r in results], speeds)
    return corpus, metric_info(references) if with_info else {}
