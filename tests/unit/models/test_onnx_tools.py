"""The variants onnx_tools makes still compute the model: their logits follow the fp32 graph's."""

from __future__ import annotations

import numpy as np
import pytest

from desktop_app.engine.onnx_model import KVCache
from tests.conftest import CORPUS


def teacher_forced_logits(engine) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Logits [positions, vocab] along five prompts: a prefill of 4 tokens, then one at a time."""
    model, rows = engine.model, []
    for text in CORPUS[:5]:
        ids = engine.tokenizer.encode(text)
        logits, cache = model.forward(ids[:4], KVCache.empty(model.kv))
        rows.append(logits)
        for token in ids[4:]:
            logits, cache = model.forward([token], cache)
            rows.append(logits)
    return np.array(rows, dtype=np.float64).reshape(len(rows), -1)


def agreement(reference: np.ndarray, candidate: np.ndarray) -> tuple[float, float]:
    """(share of positions where both pick the same top token, mean correlation of the logits)."""
    same_top = float((reference.argmax(axis=1) == candidate.argmax(axis=1)).mean())
    correlation = float(np.mean([np.corrcoef(a, b)[0, 1] for a, b in zip(reference, candidate, strict=True)]))
    return same_top, correlation


# The tiny model's random weights (initializer_range 0.5) are far rougher than trained ones,
# and rounding them to 4 bits moves its logits a lot: measured over these 67 positions, q4
# picks the fp32 top token at 42% of them, with a mean logits correlation of 0.76 (fp16:
# 100%, 1.000). Broken q4 variants measured the same way: one matrix's nibbles swapped
# 1.5%, 0.11; every matrix's 0%, -0.04; random levels 0%, -0.01.
# (Scaling every block's scale alike is invisible: the RMS norms undo it.) The bounds sit
# between the two. test_gguf_exact holds the q4 route of GGUF weights to much tighter ones.
@pytest.mark.parametrize(("quantization", "same_top", "correlation"), [("q4", 0.25, 0.6), ("fp16", 0.95, 0.999)])
def test_a_variant_follows_the_fp32_logits(
    tiny_engine_factory,  # type: ignore[no-untyped-def]
    quantization: str,
    same_top: float,
    correlation: float,
) -> None:
    reference = teacher_forced_logits(tiny_engine_factory("fp32"))
    candidate = teacher_forced_logits(tiny_engine_factory(quantization))
    assert reference.shape == candidate.shape and len(reference) >= 60
    measured = agreement(reference, candidate)
    assert measured[0] >= same_top and measured[1] >= correlation, measured
