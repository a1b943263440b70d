"""The builder's fast paths that the reference tests (accuracy level 0) do not take."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from gguf import GGMLQuantizationType as T

from desktop_app.models.gguf_graph import REFINED_LOGITS
from tests.unit.models.gguf_fixtures import reference_logits, write_gguf
from tests.unit.models.test_gguf_import import K_SIZES, PROMPT, imported, run_onnx

CASES: list[tuple[Any, dict[str, Any]]] = [
    (T.Q8_0, {}),  # tied: the exact rows come from the embedding's table
    (T.Q4_1, {"tied": False}),
    (T.Q4_K, {**K_SIZES, "types": {"output": T.Q6_K}, "tied": False}),  # a block-16 table
    (T.Q4_K, {**K_SIZES}),  # tied Q4_K: the table's offsets are added to the gathered rows
]


@pytest.mark.parametrize(("qtype", "options"), CASES, ids=[f"{q.name}-{i}" for i, (q, _) in enumerate(CASES)])
def test_the_largest_logits_are_recomputed_exactly(tmp_path: Path, qtype: Any, options: dict[str, Any]) -> None:
    source = write_gguf(tmp_path / "m.gguf", "llama", qtype, **options)
    # Level 1: float32 activations, but the 4-bit output projection and its refinement
    # (ONNX Runtime's products throughout: Inkwell's operators round the input to 8 bits).
    manifest = imported(tmp_path / "out", source, accuracy_level=1, refine_output=True, keep_blocks=False)
    assert manifest.extra["checked_rows_exact"] is False  # the first pass is MatMulNBits': no speed-up
    got = run_onnx(tmp_path / "out", PROMPT, prefill=7).reshape(len(PROMPT) - 6, -1)
    want = reference_logits(source, PROMPT)[6:]
    assert got.shape[1] > REFINED_LOGITS
    offsets = 1e-2 if qtype in (T.Q4_1, T.Q4_K) else 1e-5  # offsets as 8-bit rows (test_gguf_import)
    scale = np.abs(want).max()
    for row_got, row_want in zip(got, want, strict=True):
        top = np.argsort(-row_want)[:8]
        assert row_got.argmax() == row_want.argmax()
        assert np.abs(row_got[top] - row_want[top]).max() / scale < offsets
        # The tail is the 4-bit copy's: close, not exact.
        assert np.abs(row_got - row_want).max() / scale < 0.1
