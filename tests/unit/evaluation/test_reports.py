"""Reports: JSON and CSV read back, the HTML page escapes every text and draws its chart."""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import pytest

from desktop_app.evaluation.reports import ItemOutput, Report, ReportItem, SystemReport, write_report

NASTY = '<script>alert("x")</script> & "quotes"'


def system(run_id: str, name: str, text: str, bleu: float) -> SystemReport:
    return SystemReport(
        run_id=run_id,
        name=name,
        model="tiny",
        provider="cpu",
        quantization="q4",
        seed=0,
        settings={"temperature": 0.0, "num_beams": 4},
        status="finished",
        created="2026-01-01T00:00:00.000Z",
        corpus={"bleu": bleu, "chrf": 50.0, "rouge1": 0.5, "rouge2": 0.25, "rougeL": 0.5, "exact_match": 0.0},
        outputs={
            "i1": ItemOutput(text, {"bleu": bleu, "rougeL": 0.5}, 7, 12.5, 30.0, "stop_token"),
            "i2": ItemOutput("", {"bleu": 0.0}, error="too long for the model"),
        },
        categories={"replies": {"bleu": bleu}},
    )


@pytest.fixture
def report() -> Report:
    return Report(
        dataset_path="/data/my set.jsonl",
        dataset_sha256="ab" * 32,
        items=[
            ReportItem("i1", {"task": "chat", "prompt": f"Prompt {NASTY}", "references": [f"Ref {NASTY}", "Other"]}),
            ReportItem(
                "i2", {"task": "chat", "messages": [{"role": "user", "content": "Hi <b>"}], "references": ["Yo"]}
            ),
        ],
        systems=[
            system("RUN-A", "Model <A>", f"A says {NASTY}", 10.0),
            system("RUN-B", "B & co", "B says\nhi, there", 60.0),
        ],
        metrics={"sacrebleu": "2.6.0", "signatures": {"bleu": "nrefs:2|tok:13a"}, "rouge": "use_stemmer=True"},
    )


def test_json_holds_everything_and_reads_back(report: Report, tmp_path: Path) -> None:
    data = json.loads(write_report(report, tmp_path / "r.json", "json").read_text(encoding="utf-8"))
    assert data["dataset"] == {"path": "/data/my set.jsonl", "sha256": "ab" * 32, "items": 2}
    assert [s["run"] for s in data["systems"]] == ["RUN-A", "RUN-B"]
    assert data["systems"][1]["scores"]["bleu"] == 60.0 and data["systems"][1]["settings"]["num_beams"] == 4
    assert data["systems"][0]["categories"] == {"replies": {"bleu": 10.0}}
    first = data["items"][0]
    assert first["outputs"]["RUN-A"]["text"] == f"A says {NASTY}" and first["outputs"]["RUN-A"]["ttft_ms"] == 30.0
    assert data["items"][1]["outputs"]["RUN-B"]["error"] == "too long for the model"
    assert data["metrics"]["signatures"]["bleu"] == "nrefs:2|tok:13a"


def test_csv_has_a_row_per_item_and_system(report: Report, tmp_path: Path) -> None:
    text = write_report(report, tmp_path / "r.csv", "csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [(r["item"], r["run"]) for r in rows] == [("i1", "RUN-A"), ("i1", "RUN-B"), ("i2", "RUN-A"), ("i2", "RUN-B")]
    assert rows[1]["output"] == "B says\nhi, there" and float(rows[1]["bleu"]) == 60.0
    assert json.loads(rows[0]["references"]) == [f"Ref {NASTY}", "Other"]
    assert rows[2]["prompt"] == "user: Hi <b>" and rows[2]["error"] == "too long for the model"
    assert rows[0]["tokens_per_s"] == "12.5" and rows[2]["tokens_per_s"] == ""


def test_html_escapes_every_text_and_draws_an_svg_chart(report: Report, tmp_path: Path) -> None:
    page = write_report(report, tmp_path / "r.html", "html").read_text(encoding="utf-8")
    assert "<script>" not in page and "<b>" not in page
    assert "A says &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &quot;quotes&quot;" in page
    assert "B says\nhi, there" in page and "Model &lt;A&gt;" in page and "B &amp; co" in page
    assert page.count("<svg") == 1 and page.count("<rect") >= 2 * 6
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing to fetch
    assert "nrefs:2|tok:13a" in page and "too long for the model" in page and "By category" in page
    # a taller bar for the better BLEU
    assert 'height="108.0" fill="#f28e2b"' in page and 'height="18.0" fill="#4e79a7"' in page


def test_a_failed_write_leaves_the_old_file_whole(
    report: Report, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "r.json"
    target.write_text("old", encoding="utf-8")

    def fail(*_args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(KeyboardInterrupt):
        write_report(report, target, "json")
    assert target.read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]  # no half-written file left beside it
