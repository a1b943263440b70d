"""`inkwell eval` end to end on the tiny model: run, list, show, compare, and resume after Ctrl+C."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from desktop_app import eval_commands
from desktop_app.cli import main
from desktop_app.evaluation.datasets import load_dataset

ITEMS = [
    {"id": "hello", "prompt": "Hello world", "references": ["Hello world!", "Hi world."], "category": "greeting"},
    {"id": "fox", "prompt": "The quick brown fox", "reference": "jumps over the lazy dog.", "category": "story"},
    {"id": "paris", "prompt": "Paris is the capital of", "reference": "France.", "category": "story"},
]
FAST = ["--max-new-tokens", "5", "--provider", "cpu"]


@pytest.fixture
def installed(tiny_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "models"
    shutil.copytree(tiny_model_dir, root / "tiny-llama")
    monkeypatch.setenv("INKWELL_MODELS_DIR", str(root))
    return root


@pytest.fixture
def data(tmp_path: Path) -> Path:
    path = tmp_path / "small.jsonl"
    path.write_text("\n".join(json.dumps(i) for i in ITEMS) + "\n", encoding="utf-8")
    return path


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert main(list(argv)) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_run_list_show_and_compare(
    installed: Path, data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    html, table = tmp_path / "report.html", tmp_path / "report.csv"
    argv = ["eval", "run", str(data), "--model", "tiny-llama:fp32", "--model", "tiny-llama:q4", *FAST]
    assert main([*argv, "--html", str(html), "--csv", str(table)]) == 0
    out, err = capsys.readouterr()
    assert "1/3 hello" in err and "3/3 paris" in err  # a line per item when stderr is no terminal
    assert "tiny-llama fp32" in out and "tiny-llama q4" in out and "nrefs:var|case:mixed|eff:no|tok:13a" in out
    page = html.read_text(encoding="utf-8")
    assert "<svg" in page and "tiny-llama q4" in page and "Paris is the capital of" in page
    rows = list(csv.DictReader(table.open(encoding="utf-8", newline="")))
    assert len(rows) == 6 and {r["quantization"] for r in rows} == {"fp32", "q4"}

    runs = run_json(capsys, "eval", "list", "--json")
    assert isinstance(runs, list) and [r["quantization"] for r in runs] == ["q4", "fp32"]
    assert all(r["status"] == "finished" and r["items_done"] == 3 for r in runs)
    assert runs[0]["settings"]["max_new_tokens"] == 5 and runs[0]["settings"]["temperature"] == 0.0
    q4, fp32 = runs[0]["id"], runs[1]["id"]

    shown = run_json(capsys, "eval", "show", fp32, q4, "--json")
    assert isinstance(shown, dict) and [s["run"] for s in shown["systems"]] == [fp32, q4]
    assert [i["id"] for i in shown["items"]] == ["hello", "fox", "paris"]
    assert set(shown["items"][0]["outputs"]) == {fp32, q4}
    assert shown["systems"][0]["scores"]["bleu"] == runs[1]["corpus_scores"]["bleu"]
    assert set(shown["systems"][0]["categories"]) == {"greeting", "story"}
    assert shown["metrics"]["signatures"]["chrf"].startswith("nrefs:var|")

    compared = run_json(capsys, "eval", "compare", fp32, fp32, "--json", "--resamples", "50")
    assert isinstance(compared, dict) and compared["items_compared"] == 3 and compared["outputs_differ"] == 0
    assert all(
        s["low"] == s["high"] == 0.0 for s in compared["scores"] if s["metric"] not in ("tokens_per_s", "ttft_ms")
    )
    compared = run_json(capsys, "eval", "compare", fp32, q4, "--json", "--resamples", "50", "--seed", "1")
    assert isinstance(compared, dict)
    assert {s["metric"] for s in compared["scores"]} >= {"bleu", "chrf", "rougeL", "exact_match", "words", "ttft_ms"}
    assert compared["bootstrap"] == {"resamples": 50, "seed": 1, "interval": 0.95}
    assert main(["eval", "compare", fp32, q4]) == 0
    assert "95% interval" in capsys.readouterr().out


def test_runs_on_different_data_sets_are_not_compared(
    installed: Path, data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.csv"
    other.write_text("id,prompt,reference_1,reference_2\nx,Hello world,Hello!,Hi!\n", encoding="utf-8")
    beams = ["--num-beams", "2", "--early-stopping", "true", "--length-penalty", "0.5"]
    assert main(["eval", "run", str(data), *FAST, "--limit", "1", *beams]) == 0
    assert main(["eval", "run", str(other), *FAST]) == 0
    capsys.readouterr()
    runs = run_json(capsys, "eval", "list", "--json")
    assert isinstance(runs, list)
    settings = runs[1]["settings"]
    assert (settings["num_beams"], settings["early_stopping"], settings["length_penalty"]) == (2, True, 0.5)
    changed = "max_new_tokens 5, num_beams 2, length_penalty 0.5, early_stopping True"
    assert runs[1]["name"] == f"tiny-llama {runs[1]['quantization']}, {changed}"
    first, second = (r["id"] for r in runs)
    assert main(["eval", "compare", first, second]) == 2
    err = capsys.readouterr().err
    assert "different data sets" in err and "Traceback" not in err


def test_ctrl_c_keeps_the_items_done_and_says_how_to_resume(
    installed: Path, data: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    heard = eval_commands._ProgressPrinter.__call__

    def interrupt_after_one(self: eval_commands._ProgressPrinter, progress: eval_commands.EvalProgress) -> None:
        heard(self, progress)
        if progress.done == 1:
            raise KeyboardInterrupt

    monkeypatch.setattr(eval_commands._ProgressPrinter, "__call__", interrupt_after_one)
    assert main(["eval", "run", str(data), *FAST]) == 130
    err = capsys.readouterr().err
    [run] = run_json(capsys, "eval", "list", "--json")  # type: ignore[misc]
    assert run["status"] == "interrupted" and run["items_done"] == 1
    assert f"Continue it with: inkwell eval run --resume {run['id']}" in err
    monkeypatch.setattr(eval_commands._ProgressPrinter, "__call__", heard)

    assert main(["eval", "run", "--resume", run["id"]]) == 0  # its own data file, model and settings
    err = capsys.readouterr().err
    assert f"continuing run {run['id']}, 1 of 3 items done" in err and "2/3 fox" in err and "1/3" not in err
    [done] = run_json(capsys, "eval", "list", "--json")  # type: ignore[misc]
    assert done["status"] == "finished" and done["items_done"] == 3
    assert main(["eval", "run", "--resume", run["id"], "--model", "tiny-llama"]) == 2
    assert "its own model" in capsys.readouterr().err


def test_bad_data_and_unknown_runs_are_messages(
    installed: Path, data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"prompt": "Hi", "reference": "Hello"}\n{"prompt": "Hi"}\n', encoding="utf-8")
    assert main(["eval", "run", str(bad), *FAST]) == 2
    assert "bad.jsonl, line 2: no reference text" in capsys.readouterr().err
    assert main(["eval", "show", "NOPE"]) == 2
    assert "There is no evaluation run NOPE" in capsys.readouterr().err
    assert main(["eval", "run", str(data), "--num-beams", "0"]) == 2
    assert "beams" in capsys.readouterr().err


def test_the_shipped_set_is_the_default_and_loads() -> None:
    dataset = load_dataset(eval_commands.shipped_dataset())
    assert 40 <= len(dataset.items) <= 60
    assert {i.task for i in dataset.items} == {"chat", "continue", "rewrite", "summarise"}
    assert all(i.references and i.category for i in dataset.items)
