"""Experiment: choose the q4 variant's 4-bit weights better than by plain rounding.

Three ways, each written as the same symmetric MatMulNBits layout (block 32, zero point 8,
so decode speed is the shipped q4's), measured like bench_quality.py:
- the nearest level (our own rounding: the shipped q4's method, as a control);
- GPTQ (bench/requant.py), with Hessians from calibration text the model writes itself
  (bench/calibration.py: chats and plain prose, none of bench_quality.py's texts);
- the nearest level with each block's scale searched, weighted by the mean squared input.

    python bench/gptq_q4.py            (results are copied into bench/RESULTS.md by hand)
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import requant  # noqa: E402
from bench_engine import bench_models_dir  # noqa: E402
from calibration import calibration_sequences  # noqa: E402
from quant_mix import Reference, measure_variant, mixed_quantize  # noqa: E402

from desktop_app.models.onnx_tools import ACCURACY_LEVEL  # noqa: E402

CHOOSERS: dict[str, requant.Chooser] = {
    "nearest level (control)": lambda w, h: requant.gptq(w, None),
    "GPTQ": lambda w, h: requant.gptq(w, h),
    "searched scale, input-weighted": lambda w, h: requant.searched_rounding(w, None if h is None else np.diag(h)),
}


def hessians_for(source: Path, fp32, conversations: int) -> dict[str, np.ndarray]:  # type: ignore[no-untyped-def]
    cache = ROOT / "bench" / "out" / f"hessians-{conversations}.npz"
    if cache.is_file():  # the calibration of an earlier run of this script
        return dict(np.load(cache))
    started = time.perf_counter()
    sequences = calibration_sequences(source, conversations, quantization="q4")
    print(
        f"calibration: {len(sequences)} texts, {sum(map(len, sequences))} tokens, "
        f"{time.perf_counter() - started:.0f} s",
        flush=True,
    )
    hessians = requant.collect_hessians(fp32, sequences)
    np.savez(cache, **hessians)
    return hessians


def main() -> int:
    import onnx

    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=64, help="calibration texts (half chats, half prose)")
    args = parser.parse_args()
    logging.getLogger("onnxruntime.quantization").setLevel(logging.WARNING)
    source = bench_models_dir()
    fp32 = onnx.load(str(source / "model.fp32.onnx"))
    reference = Reference.measure(source)
    print(f"fp32 perplexity {reference.perplexity:.3f}", flush=True)
    hessians = hessians_for(source, fp32, args.texts)
    for name, choose in CHOOSERS.items():
        model = requant.requantized_model(fp32, hessians, choose, ACCURACY_LEVEL)
        model = mixed_quantize(model, ())  # only the embedding table is left: 4-bit, as in the shipped q4
        print(measure_variant(name, model, reference), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
