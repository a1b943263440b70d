"""The scores are the libraries' own: sacrebleu's and rouge-score's, computed here directly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from rouge_score import rouge_scorer
from sacrebleu.metrics import BLEU, CHRF

from desktop_app.evaluation.metrics import CorpusStatistics, corpus_scores, item_scores, metric_info

HYPOTHESES = [
    "The parcel left our warehouse on Monday and should reach you tomorrow.",
    "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen.",
    "thank you",
]
REFERENCES = [
    ["Your parcel left our warehouse on Monday and will arrive tomorrow."],
    [
        "Plants use sunlight to turn water and carbon dioxide into sugar, giving off oxygen.",
        "Photosynthesis is how plants make sugar and oxygen from light, water and carbon dioxide.",
    ],
    ["Thank you for your message."],
]
ROOT = Path(__file__).resolve().parents[3]


def test_one_reference_scores_equal_the_libraries() -> None:
    hypothesis, references = HYPOTHESES[0], REFERENCES[0]
    scores = item_scores(hypothesis, references)
    rouge = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True).score(references[0], hypothesis)
    assert scores["bleu"] == BLEU(effective_order=True).sentence_score(hypothesis, references).score
    assert scores["chrf"] == CHRF().sentence_score(hypothesis, references).score
    assert [scores[k] for k in ("rouge1", "rouge2", "rougeL")] == [
        rouge[k].fmeasure for k in ("rouge1", "rouge2", "rougeL")
    ]
    assert 0 < scores["bleu"] < 100 and 0 < scores["rougeL"] < 1
    assert (scores["exact_match"], scores["words"], scores["characters"]) == (0.0, 12.0, len(hypothesis))


def test_several_references_take_the_best_rouge_per_type_and_sacrebleus_multi_reference_scores() -> None:
    hypothesis, references = HYPOTHESES[1], REFERENCES[1]
    scores = item_scores(hypothesis, references)
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=True)
    each = [scorer.score(r, hypothesis) for r in references]
    for key in ("rouge1", "rouge2", "rougeL"):
        assert scores[key] == max(s[key].fmeasure for s in each)
    assert each[0]["rouge2"].fmeasure != each[1]["rouge2"].fmeasure  # the choice matters here
    assert scores["bleu"] == BLEU(effective_order=True).sentence_score(hypothesis, references).score
    assert scores["bleu"] > BLEU(effective_order=True).sentence_score(hypothesis, references[:1]).score
    assert scores["chrf"] == CHRF().sentence_score(hypothesis, references).score


def test_exact_match_ignores_surrounding_whitespace_only() -> None:
    assert item_scores("  Thank you for your message.\n", REFERENCES[2])["exact_match"] == 1.0
    assert item_scores("thank you for your message.", REFERENCES[2])["exact_match"] == 0.0
    assert item_scores("", REFERENCES[2])["bleu"] == 0.0


def test_the_runs_bleu_and_chrf_are_corpus_scores_with_a_variable_number_of_references() -> None:
    items = [item_scores(h, r) for h, r in zip(HYPOTHESES, REFERENCES, strict=True)]
    scores = corpus_scores(
        HYPOTHESES, REFERENCES, items, [{"tokens_per_s": 10.0, "ttft_ms": 5.0}, {"tokens_per_s": 20.0, "ttft_ms": 7.0}]
    )
    streams = [[r[0] for r in REFERENCES], [r[1] if len(r) > 1 else None for r in REFERENCES]]
    assert scores["bleu"] == BLEU().corpus_score(HYPOTHESES, streams).score
    assert scores["chrf"] == CHRF().corpus_score(HYPOTHESES, streams).score
    assert scores["bleu"] != pytest.approx(np.mean([s["bleu"] for s in items]))  # not a mean of sentences
    assert scores["rougeL"] == pytest.approx(np.mean([s["rougeL"] for s in items]))
    assert (scores["tokens_per_s"], scores["ttft_ms"]) == (15.0, 6.0)


def test_the_report_states_sacrebleus_signatures() -> None:
    info = metric_info(REFERENCES)
    bleu = BLEU()
    bleu.corpus_score(HYPOTHESES, [[r[0] for r in REFERENCES]])
    import sacrebleu

    assert info["sacrebleu"] == sacrebleu.__version__
    assert info["signatures"]["bleu"] == bleu.get_signature().format().replace("nrefs:1", "nrefs:var")
    assert "tok:13a" in info["signatures"]["bleu"] and "nc:6" in info["signatures"]["chrf"]
    assert "use_stemmer=True" in info["rouge"]
    assert metric_info(REFERENCES[:1])["signatures"]["bleu"].startswith("nrefs:1|")


def test_a_resamples_corpus_score_is_sacrebleus_score_of_those_items() -> None:
    stats = CorpusStatistics(HYPOTHESES, REFERENCES)
    for indices in (np.array([0, 1, 2]), np.array([1, 1, 0]), np.array([2, 0, 0])):
        hypotheses = [HYPOTHESES[i] for i in indices]
        picked = [REFERENCES[i] for i in indices]
        most = max(len(r) for r in picked)
        streams = [[r[k] if k < len(r) else None for r in picked] for k in range(most)]
        assert stats.score("bleu", indices) == pytest.approx(BLEU().corpus_score(hypotheses, streams).score, abs=1e-9)
        assert stats.score("chrf", indices) == pytest.approx(CHRF().corpus_score(hypotheses, streams).score, abs=1e-9)


def test_the_app_and_the_cli_load_no_scoring_libraries() -> None:
    """The window and every command but `eval` start without sacrebleu, rouge-score and nltk."""
    code = (
        "import sys, json\n"
        "import desktop_app.cli, desktop_app.app, desktop_app.eval_commands, desktop_app.session.evaluation\n"
        "import desktop_app.evaluation.reports, desktop_app.evaluation.datasets\n"
        "desktop_app.cli.build_parser()\n"
        "print(json.dumps(sorted(m for m in ('sacrebleu', 'rouge_score', 'nltk') if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
