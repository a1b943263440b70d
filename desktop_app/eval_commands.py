"""The `inkwell eval run | list | show | compare | delete` commands: models (or settings)
run over a data set, scored with BLEU, chrF and ROUGE, stored, and compared.

inkwell eval run [DATA] [--model ID]...   run (or continue) and print the scores per system
inkwell eval list                         the stored runs
inkwell eval show RUN...                  reports of stored runs, side by side
inkwell eval compare RUN_A RUN_B          B − A per score with a paired-bootstrap interval
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from desktop_app.core.errors import UserError
from desktop_app.core.generation import GenerationSettings
from desktop_app.core.i18n import translate
from desktop_app.core.paths import resources_dir
from desktop_app.evaluation.bootstrap import DEFAULT_RESAMPLES, DEFAULT_SEED
from desktop_app.evaluation.datasets import EvalDataset, load_dataset
from desktop_app.evaluation.metrics import SPECS
from desktop_app.evaluation.reports import Report, report_json, write_report
from desktop_app.session.evaluation import (
    EVAL_SETTINGS,
    EvalProgress,
    EvaluationInterrupted,
    EvaluationRunner,
    LoadedEngine,
)
from desktop_app.session.evaluation_reports import Comparison, compare, report_for
from desktop_app.store import Store, open_store
from desktop_app.store.evaluations import EvalRun

SHIPPED_SET = "inkwell-basics.jsonl"
# The columns of the scores table, with short heads so that it fits a terminal.
TABLE = {
    "bleu": "BLEU",
    "chrf": "chrF",
    "rouge1": "ROUGE-1",
    "rouge2": "ROUGE-2",
    "rougeL": "ROUGE-L",
    "exact_match": "Exact",
    "tokens_per_s": "Tokens/s",
    "ttft_ms": "TTFT ms",
}
# The generation flags of `eval run`: (flag, GenerationSettings field, type, help).
SETTING_FLAGS = (
    ("--temperature", "temperature", float, f"0 means greedy (default {EVAL_SETTINGS.temperature:g})"),
    ("--max-new-tokens", "max_new_tokens", int, f"(default {EVAL_SETTINGS.max_new_tokens})"),
    ("--seed", "seed", int, f"(default {EVAL_SETTINGS.seed})"),
    ("--num-beams", "num_beams", int, "beam search with N beams (default 1: none)"),
    ("--length-penalty", "length_penalty", float, "beam search: > 0 favours longer texts (default 1)"),
    (
        "--early-stopping",
        "early_stopping",
        lambda v: {"true": True, "false": False}.get(v, v),
        "beam search: true, false (default) or never",
    ),
    ("--no-repeat-ngram-size", "no_repeat_ngram_size", int, "never repeat an n-gram of this size"),
)


def shipped_dataset() -> Path:
    return resources_dir() / "eval" / SHIPPED_SET


def add_parser(commands: Any) -> None:
    """The `eval` command's arguments (cli.build_parser calls this)."""
    evaluation = commands.add_parser("eval", help="score models on a data set (BLEU, chrF, ROUGE) and compare them")
    actions = evaluation.add_subparsers(dest="eval_command", metavar="ACTION", required=True)
    run = actions.add_parser("run", help="run models over a data set (or continue an unfinished run)")
    run.add_argument(
        "data", nargs="?", type=Path, help=f"a .jsonl or .csv data set (default: the shipped {SHIPPED_SET})"
    )
    run.add_argument(
        "--model", action="append", dest="models", metavar="ID", help="a model (ID, ID:q4 or SERVER:MODEL); repeatable"
    )
    run.add_argument("--quantization", help="the variant for models that name none (q4, q8, fp16, fp32)")
    run.add_argument("--provider", choices=("auto", "cpu", "cuda"), help="default: the setting, else auto")
    run.add_argument("--threads", type=int, help="CPU threads (default: all cores)")
    for flag, name, kind, text in SETTING_FLAGS:
        run.add_argument(flag, dest=name, type=kind, help=text)
    run.add_argument("--limit", type=int, help="only the first N items")
    run.add_argument("--resume", metavar="RUN", help="continue this run (its own model and settings)")
    run.add_argument("--name", default="", help="a name for the run (default: the model and variant)")
    run.add_argument(
        "--fresh", action="store_true", help="new runs even where the same one is stored (to measure again)"
    )
    _report_args(run)
    actions.add_parser("list", help="the stored runs, newest first").add_argument("--json", action="store_true")
    show = actions.add_parser("show", help="the report of stored runs, side by side")
    show.add_argument("runs", nargs="+", metavar="RUN")
    _report_args(show)
    comparing = actions.add_parser("compare", help="B − A per score, with a 95%% paired-bootstrap interval")
    comparing.add_argument("run_a", metavar="RUN_A")
    comparing.add_argument("run_b", metavar="RUN_B")
    comparing.add_argument("--resamples", type=int, default=DEFAULT_RESAMPLES)
    comparing.add_argument("--seed", type=int, default=DEFAULT_SEED, help="the bootstrap's seed")
    comparing.add_argument("--json", action="store_true")
    actions.add_parser("delete", help="forget a stored run").add_argument("run", metavar="RUN")


def _report_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="write a row per item and system")
    parser.add_argument("--html", type=Path, metavar="FILE", help="write a page with a chart and every output")


def run(args: argparse.Namespace) -> int:
    store = open_store()
    try:
        command = args.eval_command
        if command == "run":
            return _run(store, args)
        if command == "list":
            return _list(store, args.json)
        if command == "show":
            return _report(report_for(store, args.runs), args)
        if command == "compare":
            return _compare(compare(store, args.run_a, args.run_b, args.resamples, args.seed), args.json)
        run_record = store.evaluations.get(args.run)
        store.evaluations.delete(run_record.id)
        print(f"Deleted the evaluation run {run_record.id} ({run_record.label}).")
        return 0
    finally:
        store.close()


# ---- run ----


@dataclasses.dataclass(frozen=True)
class System:
    """A model and settings to run: `spec` as the user named it (ID, ID:q4, SERVER:MODEL)."""

    spec: str | None
    settings: GenerationSettings


def _run(store: Store, args: argparse.Namespace) -> int:
    resumed = store.evaluations.get(args.resume) if args.resume else None
    systems = _systems(args, resumed)
    dataset = _dataset(args, resumed)
    loader = _engine_loader(store, args)
    progress = _ProgressPrinter(sys.stderr)
    runner = EvaluationRunner(store, dataset, progress)
    finished: list[EvalRun] = []
    for number, system in enumerate(systems, start=1):
        progress.system = f"[{number}/{len(systems)}] " if len(systems) > 1 else ""
        progress.run_id = ""
        engine = loader(system.spec)
        try:
            finished.append(runner.run(engine, system.settings, args.resume, args.name, args.fresh))
        except (KeyboardInterrupt, EvaluationInterrupted):
            progress.end()
            _interrupted(store, progress.run_id, finished, len(systems))
            return 130
        finally:
            del engine
        progress.end()
    return _report(report_for(store, [r.id for r in finished]), args)


def _dataset(args: argparse.Namespace, resumed: EvalRun | None) -> EvalDataset:
    path = args.data
    if path is None:
        path = Path(resumed.dataset_path) if resumed is not None else shipped_dataset()
    if path == shipped_dataset() and not path.exists():
        raise UserError(
            translate("Errors", "The shipped data set {name} is missing from this installation ({path}).").format(
                name=SHIPPED_SET, path=path
            )
        )
    limit = args.limit if args.limit is not None or resumed is None else resumed.item_count
    return load_dataset(path).limited(limit)


def _systems(args: argparse.Namespace, resumed: EvalRun | None) -> list[System]:
    given = {name: getattr(args, name) for _, name, _, _ in SETTING_FLAGS if getattr(args, name) is not None}
    if resumed is not None:
        if args.models or given or args.quantization:
            raise UserError(
                translate("Errors", "--resume continues a run with its own model, variant and settings."),
                hint=translate("Errors", "Leave out --model, --quantization and the generation settings."),
            )
        spec = resumed.model_id if resumed.quantization == "remote" else f"{resumed.model_id}:{resumed.quantization}"
        return [System(spec, GenerationSettings.from_dict(resumed.settings))]
    settings = dataclasses.replace(EVAL_SETTINGS, **given)  # checks the values (UserError)
    return [System(spec, settings) for spec in (args.models or [None])]


def _engine_loader(store: Store, args: argparse.Namespace) -> Callable[[str | None], LoadedEngine]:
    """What opens each system's model: an added server's (SERVER:MODEL), else an installed one."""
    from desktop_app.engine import load_engine
    from desktop_app.models.registry import default_registry, split_model_setting
    from desktop_app.session.settings import AppSettings

    saved = AppSettings.load(store)
    provider = args.provider or saved.provider or "auto"

    def load(spec: str | None) -> LoadedEngine:
        named = spec is not None  # on the command line: its :q4 wins; the saved model's yields to --quantization
        spec = spec or saved.model or None
        if spec and ":" in spec:
            from desktop_app.session.servers import server_registry

            registry = server_registry(store)
            remote = registry.split_ref(spec)
            if remote is not None:
                return registry.engine_loader(*remote, require_consent=False)()  # added = consent, headless
        model_id, weights = split_model_setting(spec)
        model = default_registry().get(model_id)
        quantization = (weights or args.quantization) if named else (args.quantization or weights)
        return load_engine(model.directory, provider, quantization, args.threads)

    return load


class _ProgressPrinter:
    """A bar redrawn in place on a terminal; a line per item otherwise (a log, a pipe)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.interactive = stream.isatty()
        self.system = ""
        self.run_id = ""
        self._drawn = False

    def __call__(self, p: EvalProgress) -> None:
        if p.item_id == "":
            self.run_id = p.run_id
            state = f"continuing run {p.run_id}, {p.done} of {p.total} items done" if p.done else f"run {p.run_id}"
            self._line(f"{self.system}{p.label}: {state}")
            return
        eta = f", about {_duration(p.eta_s)} left" if p.eta_s is not None and p.done < p.total else ""
        error = f" (no output: {p.error})" if p.error else ""
        if self.interactive:
            width = 24
            filled = int(width * p.done / max(p.total, 1))
            bar = "#" * filled + "." * (width - filled)
            text = f"\r{self.system}[{bar}] {p.done}/{p.total}  {_duration(p.elapsed_s)}{eta}   "
            self.stream.write(text)
            self._drawn = True
            if error:
                self._line(f"{p.item_id}{error}")
        else:
            self.stream.write(f"{self.system}{p.done}/{p.total} {p.item_id}{error}  {_duration(p.elapsed_s)}{eta}\n")
        self.stream.flush()

    def _line(self, text: str) -> None:
        self.end()
        self.stream.write(text + "\n")
        self.stream.flush()

    def end(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def _duration(seconds: float) -> str:
    seconds = max(round(seconds), 0)
    return time.strftime("%H:%M:%S" if seconds >= 3600 else "%M:%S", time.gmtime(seconds))


def _interrupted(store: Store, run_id: str, finished: list[EvalRun], systems: int) -> None:
    lines = [f"Finished before it: {r.id} ({r.label})" for r in finished]
    if run_id:
        record = store.evaluations.get(run_id)
        lines.insert(0, f"The run {run_id} keeps its {record.items_done} of {record.item_count} items.")
        lines.append(f"Continue it with: inkwell eval run --resume {run_id}")
    else:
        lines.insert(0, "The run had not started.")
    if systems > len(finished) + 1:
        lines.append(f"{systems - len(finished) - 1} more model(s) or settings did not run.")
    print("\ninkwell: interrupted. " + "\n".join(lines), file=sys.stderr)


# ---- reports ----


def _report(report: Report, args: argparse.Namespace) -> int:
    if args.json:
        print(json.dumps(report_json(report), ensure_ascii=False, indent=2))
    else:
        _print_scores(report, sys.stdout)
    _write_files(report, args)
    return 0


def _write_files(report: Report, args: argparse.Namespace) -> None:
    for kind in ("csv", "html"):
        path = getattr(args, kind)
        if path is not None:
            write_report(report, path, kind)
            print(f"Wrote {path}", file=sys.stderr)


def _print_scores(report: Report, out: TextIO) -> None:
    print(
        f"{Path(report.dataset_path).name}: {len(report.items)} items (sha256 {report.dataset_sha256[:12]})", file=out
    )
    heads = list(TABLE.values())
    width = max([len(s.label) for s in report.systems] + [6])
    print(f"{'System':{width}}  {'Run':26}  " + "  ".join(f"{h:>9}" for h in heads), file=out)
    for system in report.systems:
        cells = "  ".join(f"{_cell(k, system.corpus.get(k)):>9}" for k in TABLE)
        note = "" if system.status == "finished" else f"  ({system.status}, {len(system.outputs)} items)"
        print(f"{system.label:{width}}  {system.run_id:26}  {cells}{note}", file=out)
    signatures = report.metrics.get("signatures", {})
    if signatures:
        print(
            f"sacrebleu {report.metrics.get('sacrebleu')}: BLEU {signatures.get('bleu')}; chrF {signatures.get('chrf')}",
            file=out,
        )
        print(f"rouge-score {report.metrics.get('rouge_score')}: F-measure, use_stemmer=True, its tokenizer", file=out)


def _cell(key: str, value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}" if SPECS[key].top == 1.0 else f"{value:.1f}"


def _list(store: Store, as_json: bool) -> int:
    runs = store.evaluations.runs()
    if as_json:
        print(json.dumps([dataclasses.asdict(r) for r in runs], ensure_ascii=False, indent=2))
        return 0
    if not runs:
        print("No evaluation runs yet. Start one with: inkwell eval run")
    for r in runs:
        scores = "  ".join(f"{SPECS[k].label} {_cell(k, r.corpus_scores.get(k))}" for k in ("bleu", "chrf", "rougeL"))
        when = r.created[:16].replace("T", " ")
        done = f"{r.items_done}/{r.item_count}"
        print(f"{r.id}  {when}  {r.status:11} {done:>9}  {r.label}  {Path(r.dataset_path).name}  {scores}")
    return 0


def _compare(comparison: Comparison, as_json: bool) -> int:
    if as_json:
        print(json.dumps(comparison.as_dict(), ensure_ascii=False, indent=2))
        return 0
    a, b = comparison.a, comparison.b
    print(f"A: {a.id}  {a.label}\nB: {b.id}  {b.label}")
    print(f"{comparison.items} items compared; the outputs differ on {comparison.differing}.")
    for note in comparison.notes:
        print(note)
    for example in comparison.examples:
        print(f"  {example['item']}:\n    A: {example['a']}\n    B: {example['b']}")
    print(
        f"\nPaired bootstrap, {comparison.resamples} resamples (seed {comparison.seed}), 95% interval of B − A:\n"
        f"{'Score':18} {'A':>9} {'B':>9} {'B − A':>9}  {'95% interval':>21}  {'B ahead':>8}"
    )
    for d in comparison.differences:
        spec = SPECS[d.metric]
        mark = "  *" if d.excludes_zero else ""
        interval = f"[{_cell(d.metric, d.low)}, {_cell(d.metric, d.high)}]"
        print(
            f"{spec.label:18} {_cell(d.metric, d.a):>9} {_cell(d.metric, d.b):>9} {_cell(d.metric, d.difference):>9}"
            f"  {interval:>21}  {d.b_wins:>7.0%}{mark}"
        )
    print(
        "B ahead: the share of resamples where B scores higher (lower, for the first token's time).\n"
        "* the interval excludes 0: the difference is unlikely to be chance on these items."
    )
    return 0
