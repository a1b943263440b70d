"""Reports of evaluation runs: JSON (everything), CSV (a row per item and system) and one
self-contained HTML page (inline CSS, an inline SVG chart, no network).

Files are written whole or not at all: to a temporary file beside the target, flushed,
then renamed into place.
"""

from __future__ import annotations

import csv
import html
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from desktop_app.core.files import write_atomically
from desktop_app.evaluation.metrics import ITEM_SCORES, METRICS, QUALITY, SPECS

SPEED_COLUMNS = ("generated_tokens", "tokens_per_s", "ttft_ms", "finish_reason", "error")
SETTINGS_SHOWN = ("temperature", "num_beams", "max_new_tokens", "seed")


@dataclass(frozen=True)
class ReportItem:
    """An item as the runs saw it (kept with each result, so a report needs no data file)."""

    id: str
    data: Mapping[str, Any]  # EvalItem.as_dict(): task, prompt or messages, references, ...

    @property
    def references(self) -> list[str]:
        return list(self.data.get("references", []))

    @property
    def source_text(self) -> str:
        if "messages" in self.data:
            return "\n\n".join(f"{m['role']}: {m['content']}" for m in self.data["messages"])
        return str(self.data.get("prompt", ""))


@dataclass(frozen=True)
class ItemOutput:
    text: str
    scores: Mapping[str, float]
    generated_tokens: int | None = None
    tokens_per_s: float | None = None
    ttft_ms: float | None = None
    finish_reason: str = ""
    error: str = ""


@dataclass(frozen=True)
class SystemReport:
    """One run: what ran (model, variant, provider, settings) and what it wrote."""

    run_id: str
    name: str
    model: str
    provider: str
    quantization: str
    seed: int | None
    settings: Mapping[str, Any]
    status: str
    created: str
    corpus: Mapping[str, float]
    outputs: Mapping[str, ItemOutput]  # by item id
    categories: Mapping[str, Mapping[str, float]] = field(default_factory=dict)  # the scores of each category's items

    @property
    def label(self) -> str:
        return self.name or f"{self.model} {self.quantization}".strip()


@dataclass(frozen=True)
class Report:
    dataset_path: str
    dataset_sha256: str
    items: Sequence[ReportItem]
    systems: Sequence[SystemReport]
    metrics: Mapping[str, Any] = field(default_factory=dict)  # metrics.metric_info()


def report_json(report: Report) -> dict[str, Any]:
    return {
        "dataset": {"path": report.dataset_path, "sha256": report.dataset_sha256, "items": len(report.items)},
        "metrics": dict(report.metrics),
        "systems": [
            {
                "run": s.run_id,
                "name": s.label,
                "model": s.model,
                "provider": s.provider,
                "quantization": s.quantization,
                "seed": s.seed,
                "settings": dict(s.settings),
                "status": s.status,
                "created": s.created,
                "items_done": len(s.outputs),
                "scores": dict(s.corpus),
                "categories": {c: dict(scores) for c, scores in s.categories.items()},
            }
            for s in report.systems
        ],
        "items": [
            {
                **item.data,
                "id": item.id,
                "outputs": {s.run_id: _output_json(s.outputs[item.id]) for s in report.systems if item.id in s.outputs},
            }
            for item in report.items
        ],
    }


def _output_json(output: ItemOutput) -> dict[str, Any]:
    data: dict[str, Any] = {"text": output.text, "scores": dict(output.scores)}
    for key in SPEED_COLUMNS:
        value = getattr(output, key)
        if value not in (None, ""):
            data[key] = value
    return data


def report_csv(report: Report) -> str:
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(
        [
            *("item", "category", "task", "run", "system", "model", "quantization", "prompt", "references", "output"),
            *ITEM_SCORES,
            *SPEED_COLUMNS,
        ]
    )
    for item in report.items:
        for system in report.systems:
            output = system.outputs.get(item.id)
            if output is None:
                continue
            writer.writerow(
                [
                    item.id,
                    item.data.get("category", ""),
                    item.data.get("task", "chat"),
                    system.run_id,
                    system.label,
                    system.model,
                    system.quantization,
                    item.source_text,
                    json.dumps(item.references, ensure_ascii=False),
                    output.text,
                ]
                + [_number(output.scores.get(key)) for key in ITEM_SCORES]
                + [_number(getattr(output, key)) for key in SPEED_COLUMNS]
            )
    return buffer.getvalue()


def _number(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def write_report(report: Report, path: Path, kind: str) -> Path:
    """Write the report as `kind` (json, csv or html) to `path`, atomically."""
    if kind == "json":
        text = json.dumps(report_json(report), ensure_ascii=False, indent=2) + "\n"
    elif kind == "csv":
        text = report_csv(report)
    else:
        text = report_html(report)
    write_atomically(path, text.encode("utf-8"))
    return path


# ---- HTML ----

_CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #1d1d1f; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; } h3 { font-size: 1.05em; margin: 0 0 .4em; }
table { border-collapse: collapse; width: 100%; margin: .6em 0 1.2em; }
th, td { border: 1px solid #d2d2d7; padding: .35em .5em; text-align: left; vertical-align: top; }
th { background: #f5f5f7; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; }
table.outputs { table-layout: fixed; }
.item { border-top: 2px solid #d2d2d7; padding-top: 1em; margin-top: 1.5em; }
.meta, .note { color: #6e6e73; font-size: .9em; }
.error { color: #b3261e; }
code { font-size: .9em; overflow-wrap: anywhere; }
svg text { font: 12px system-ui, sans-serif; fill: #1d1d1f; }
"""
_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1", "#ff9da7", "#9c755f")


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _format(key: str, value: float | None) -> str:
    if value is None:
        return "–"
    spec = SPECS.get(key)
    if spec is not None and spec.top == 1.0:
        return f"{value:.3f}"
    return f"{value:.1f}" if abs(value) < 1000 else f"{value:,.0f}"


def _short(key: str, value: float | None) -> str:
    """A bar's label: as few digits as fit above it."""
    if value is None:
        return "–"
    return f"{value:.2f}" if SPECS[key].top == 1.0 else f"{value:.1f}"


def report_html(report: Report) -> str:
    systems = report.systems
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Inkwell evaluation: {_e(Path(report.dataset_path).name)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>Evaluation of {len(systems)} system{'s' if len(systems) != 1 else ''} "
        f"on {_e(Path(report.dataset_path).name)}</h1>",
        f'<p class="meta">{len(report.items)} items · data set sha256 <code>{_e(report.dataset_sha256)}</code></p>',
        "<h2>Scores</h2>",
        _chart(systems),
        _score_table(systems),
        _category_tables(systems),
        _systems_table(systems),
        _method(report.metrics),
        "<h2>Items</h2>",
    ]
    parts += [_item_html(item, systems) for item in report.items]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _chart(systems: Sequence[SystemReport]) -> str:
    """Grouped bars: one group per quality score, one bar per system, each score on its own
    full range (0-100 for BLEU and chrF, 0-1 for the others)."""
    bar, gap, group_gap, height, top, bottom, left = 30, 4, 28, 180, 24, 46, 10
    group_width = max(len(systems), 1) * (bar + gap) - gap
    width = left * 2 + len(QUALITY) * (group_width + group_gap)
    legend_height = 20 * len(systems)
    total = top + height + bottom + legend_height
    shapes = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total}" viewBox="0 0 {width} {total}" '
        'role="img" aria-label="Corpus scores per system">',
        f'<line x1="{left}" y1="{top + height}" x2="{width - left}" y2="{top + height}" stroke="#6e6e73"/>',
    ]
    for g, spec in enumerate(QUALITY):
        x0 = left + g * (group_width + group_gap)
        for s, system in enumerate(systems):
            value = system.corpus.get(spec.key)
            share = 0.0 if value is None else min(max(value / spec.top, 0.0), 1.0)
            h = share * height
            x = x0 + s * (bar + gap)
            colour = _COLOURS[s % len(_COLOURS)]
            shapes.append(
                f'<rect x="{x}" y="{top + height - h:.1f}" width="{bar}" height="{h:.1f}" fill="{colour}">'
                f"<title>{_e(system.label)}: {spec.label} {_format(spec.key, value)}</title></rect>"
            )
            shapes.append(
                f'<text x="{x + bar / 2:.1f}" y="{top + height - h - 4:.1f}" text-anchor="middle" '
                f'font-size="10">{_short(spec.key, value)}</text>'
            )
        shapes.append(
            f'<text x="{x0 + group_width / 2:.1f}" y="{top + height + 18}" text-anchor="middle">{_e(spec.label)}</text>'
        )
        shapes.append(
            f'<text x="{x0 + group_width / 2:.1f}" y="{top + height + 34}" text-anchor="middle" fill="#6e6e73" '
            f'font-size="10">0–{spec.top:g}</text>'
        )
    for s, system in enumerate(systems):
        y = top + height + bottom + 20 * s
        shapes.append(f'<rect x="{left}" y="{y}" width="12" height="12" fill="{_COLOURS[s % len(_COLOURS)]}"/>')
        shapes.append(f'<text x="{left + 18}" y="{y + 11}">{_e(system.label)}</text>')
    shapes.append("</svg>")
    return "\n".join(shapes)


def _score_table(systems: Sequence[SystemReport]) -> str:
    head = "".join(f'<th class="num">{_e(m.label)}</th>' for m in METRICS)
    rows = []
    for system in systems:
        cells = "".join(f'<td class="num">{_format(m.key, system.corpus.get(m.key))}</td>' for m in METRICS)
        rows.append(f"<tr><th>{_e(system.label)}</th>{cells}</tr>")
    return f"<table><tr><th>System</th>{head}</tr>{''.join(rows)}</table>"


def _category_tables(systems: Sequence[SystemReport]) -> str:
    categories = sorted({c for s in systems for c in s.categories})
    if not categories:
        return ""
    head = "".join(f'<th class="num">{_e(m.label)}</th>' for m in QUALITY)
    rows = []
    for category in categories:
        for system in systems:
            scores = system.categories.get(category)
            if scores is None:
                continue
            cells = "".join(f'<td class="num">{_format(m.key, scores.get(m.key))}</td>' for m in QUALITY)
            rows.append(f"<tr><th>{_e(category)}</th><td>{_e(system.label)}</td>{cells}</tr>")
    return f"<h2>By category</h2><table><tr><th>Category</th><th>System</th>{head}</tr>{''.join(rows)}</table>"


def _systems_table(systems: Sequence[SystemReport]) -> str:
    rows = []
    for system in systems:
        shown = ", ".join(f"{k} {system.settings[k]}" for k in SETTINGS_SHOWN if k in system.settings)
        rows.append(
            f"<tr><th>{_e(system.label)}</th><td><code>{_e(system.run_id)}</code></td><td>{_e(system.model)}</td>"
            f"<td>{_e(system.quantization)}</td><td>{_e(system.provider)}</td><td>{_e(shown)}</td>"
            f"<td>{_e(system.status)}</td><td>{_e(system.created)}</td></tr>"
        )
    return (
        "<table><tr><th>System</th><th>Run</th><th>Model</th><th>Variant</th><th>Provider</th>"
        f"<th>Settings</th><th>Status</th><th>Started</th></tr>{''.join(rows)}</table>"
    )


def _method(metrics: Mapping[str, Any]) -> str:
    if not metrics:
        return ""
    lines = [f"<li>sacrebleu {_e(metrics.get('sacrebleu', '?'))}, rouge-score {_e(metrics.get('rouge_score', '?'))}"]
    lines += [f"<li>{_e(k)}: <code>{_e(v)}</code></li>" for k, v in metrics.get("signatures", {}).items()]
    lines += [f"<li>{_e(metrics[k])}</li>" for k in ("bleu_chrf", "rouge", "exact_match", "lengths") if k in metrics]
    return f'<h2>How the scores were computed</h2><ul class="note">{"".join(lines)}</ul>'


def _item_html(item: ReportItem, systems: Sequence[SystemReport]) -> str:
    data = item.data
    meta = " · ".join(
        _e(v) for v in (data.get("task", "chat"), data.get("action"), data.get("language"), data.get("category")) if v
    )
    references = "".join(f'<li class="text">{_e(r)}</li>' for r in item.references)
    head = "".join(f"<th>{_e(s.label)}</th>" for s in systems)
    texts, scores = [], []
    for system in systems:
        output = system.outputs.get(item.id)
        if output is None:
            texts.append('<td class="meta">(not run)</td>')
            scores.append("<td></td>")
            continue
        error = f'<div class="error">{_e(output.error)}</div>' if output.error else ""
        texts.append(f'<td><div class="text">{_e(output.text)}</div>{error}</td>')
        shown = " · ".join(f"{SPECS[k].label} {_format(k, output.scores.get(k))}" for k in ("bleu", "chrf", "rougeL"))
        scores.append(f'<td class="meta">{_e(shown)}</td>')
    return (
        f'<section class="item" id="item-{_e(item.id)}"><h3>{_e(item.id)} <span class="meta">{meta}</span></h3>'
        f'<div class="text">{_e(item.source_text)}</div>'
        f'<p class="meta">Reference{"s" if len(item.references) != 1 else ""}:</p><ul>{references}</ul>'
        f'<table class="outputs"><tr>{head}</tr><tr>{"".join(texts)}</tr><tr>{"".join(scores)}</tr></table></section>'
    )
