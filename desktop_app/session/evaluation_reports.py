"""Stored evaluation runs as reports, and two runs compared with a paired bootstrap."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.evaluation.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED, Difference, paired_bootstrap
from desktop_app.evaluation.metrics import METRICS, CorpusStatistics
from desktop_app.evaluation.reports import ItemOutput, Report, ReportItem, SystemReport
from desktop_app.session.evaluation import score_run
from desktop_app.store import Store
from desktop_app.store.evaluations import EvalResult, EvalRun

EXAMPLES = 3


def system_report(run: EvalRun, results: Sequence[EvalResult]) -> SystemReport:
    """One run as a report shows it; an unfinished run is scored on the items it has."""
    corpus = run.corpus_scores if run.status == "finished" or not results else score_run(results, with_info=False)[0]
    return SystemReport(
        run_id=run.id,
        name=run.label,
        model=run.model_id,
        provider=run.provider,
        quantization=run.quantization,
        seed=run.seed,
        settings=run.settings,
        status=run.status,
        created=run.created,
        corpus=corpus,
        outputs={
            r.item_id: ItemOutput(
                r.output, r.scores, r.generated_tokens, r.tokens_per_s, r.ttft_ms, r.finish_reason, r.error
            )
            for r in results
        },
        categories=category_scores(results),
    )


def category_scores(results: Sequence[EvalResult]) -> dict[str, dict[str, float]]:
    """The scores of each category's items, scored as a run of their own (where items have
    categories, and more than one)."""
    groups: dict[str, list[EvalResult]] = {}
    for r in results:
        groups.setdefault(str(r.item.get("category", "")), []).append(r)
    if len(groups) < 2 or "" in groups:
        return {}
    return {category: score_run(group, with_info=False)[0] for category, group in sorted(groups.items())}


def report_for(store: Store, run_ids: Sequence[str]) -> Report:
    """The runs side by side (they must share a data set); items in the data set's order."""
    runs = [store.evaluations.get(run_id) for run_id in run_ids]
    _same_dataset(runs)
    results = {run.id: store.evaluations.results(run.id) for run in runs}
    items: dict[str, tuple[int, ReportItem]] = {}
    for run in runs:
        for r in results[run.id]:
            items.setdefault(r.item_id, (r.ord, ReportItem(r.item_id, r.item)))
    info: dict[str, Any] = next((run.metric_info for run in runs if run.metric_info), {})
    if not info and any(results.values()):
        info = dict(score_run(next(r for r in results.values() if r))[1])
    return Report(
        dataset_path=runs[0].dataset_path,
        dataset_sha256=runs[0].dataset_sha256,
        items=[item for _, item in sorted(items.values(), key=lambda pair: pair[0])],
        systems=[system_report(run, results[run.id]) for run in runs],
        metrics=info,
    )


def _same_dataset(runs: Sequence[EvalRun]) -> None:
    first = runs[0]
    other = next((run for run in runs[1:] if run.dataset_sha256 != first.dataset_sha256), None)
    if other is not None:
        raise UserError(
            translate("Errors", "The runs {first} and {other} were made on different data sets ({a} and {b}).").format(
                first=first.id, other=other.id, a=first.dataset_path, b=other.dataset_path
            ),
            hint=translate("Errors", "Only runs on the same data set (the same file, unchanged) can be compared."),
        )


@dataclass(frozen=True)
class Comparison:
    a: EvalRun
    b: EvalRun
    items: int  # the items both runs have, which are compared
    differing: int  # of them, those whose outputs differ
    examples: list[dict[str, str]]
    differences: list[Difference]
    resamples: int
    seed: int
    only_a: int = 0  # items only one run has (an unfinished run, or another --limit)
    only_b: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "a": {"run": self.a.id, "name": self.a.label, "status": self.a.status},
            "b": {"run": self.b.id, "name": self.b.label, "status": self.b.status},
            "dataset": {"path": self.a.dataset_path, "sha256": self.a.dataset_sha256},
            "items_compared": self.items,
            "items_only_in_a": self.only_a,
            "items_only_in_b": self.only_b,
            "outputs_differ": self.differing,
            "examples": self.examples,
            "bootstrap": {"resamples": self.resamples, "seed": self.seed, "interval": 0.95},
            "scores": [d.as_dict() for d in self.differences],
        }


def compare(
    store: Store, run_a: str, run_b: str, resamples: int = DEFAULT_RESAMPLES, seed: int = DEFAULT_SEED
) -> Comparison:
    """B against A on the items both have: how many outputs differ, and for each score B − A
    with its 95% paired-bootstrap interval."""
    if resamples < 1:
        raise UserError(translate("Errors", "--resamples must be at least 1."))
    a, b = store.evaluations.get(run_a), store.evaluations.get(run_b)
    _same_dataset([a, b])
    results_a = {r.item_id: r for r in store.evaluations.results(a.id)}
    results_b = {r.item_id: r for r in store.evaluations.results(b.id)}
    shared = [item_id for item_id in results_a if item_id in results_b]
    if not shared:
        raise UserError(
            translate("Errors", "The runs {a} and {b} have no items done in common.").format(a=a.id, b=b.id),
            hint=translate("Errors", "Finish them first (inkwell eval run --resume RUN)."),
        )
    pairs = [(results_a[i], results_b[i]) for i in shared]
    differing = [(x, y) for x, y in pairs if x.output.strip() != y.output.strip()]
    examples = [{"item": x.item_id, "a": _clip(x.output), "b": _clip(y.output)} for x, y in differing[:EXAMPLES]]
    references = [list(x.item.get("references", [])) for x, _ in pairs]
    scores_a = [_with_speed(x) for x, _ in pairs]
    scores_b = [_with_speed(y) for _, y in pairs]
    differences = paired_bootstrap(
        scores_a,
        scores_b,
        [m.key for m in METRICS],
        CorpusStatistics([x.output for x, _ in pairs], references),
        CorpusStatistics([y.output for _, y in pairs], references),
        resamples,
        seed,
        lower_is_better=[m.key for m in METRICS if not m.higher_is_better],
    )
    notes = []
    if a.status != "finished" or b.status != "finished":
        notes.append(translate("Evaluation", "A run is not finished: only the items both have are compared."))
    return Comparison(
        a,
        b,
        len(pairs),
        len(differing),
        examples,
        differences,
        resamples,
        seed,
        len(results_a) - len(pairs),
        len(results_b) - len(pairs),
        notes,
    )


def _with_speed(result: EvalResult) -> dict[str, float]:
    scores = dict(result.scores)
    if not result.error and result.tokens_per_s is not None and result.ttft_ms is not None:
        scores["tokens_per_s"], scores["ttft_ms"] = result.tokens_per_s, result.ttft_ms
    return scores


def _clip(text: str, limit: int = 200) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
