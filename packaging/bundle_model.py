"""Copy the prepared default model for the frozen app, with only the variants it ships.

The CPU flavour ships q4 only; the CUDA flavour adds fp16 for the GPU. The manifest is
rewritten to list just those variants, so the registry finds every file it names.
"""

from __future__ import annotations

import dataclasses
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from desktop_app.core.manifest import ModelManifest  # noqa: E402

FLAVOUR_VARIANTS = {"cpu": ("q4",), "cuda": ("q4", "fp16")}


def bundle_model(source: Path, target_root: Path, flavour: str) -> Path:
    """Write `target_root/<model id>` and return it; raises SystemExit with a reason."""
    if not (source / "manifest.json").is_file():
        raise SystemExit(f"No prepared model in {source}: run `make model` first.")
    manifest = ModelManifest.read(source)
    wanted = FLAVOUR_VARIANTS[flavour]
    variants = [v for v in manifest.variants if v.quantization in wanted]
    missing = set(wanted) - {v.quantization for v in variants}
    if missing:
        raise SystemExit(f"The model in {source} lacks the {', '.join(sorted(missing))} variant(s) this flavour ships.")
    target = target_root / manifest.id
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)
    for variant in variants:
        for file in variant.files:
            shutil.copy2(source / file, target / file)
    for extra in ("tokenizer.json", "tokenizer_config.json", "config.json", "generation_config.json"):
        if (source / extra).is_file():
            shutil.copy2(source / extra, target / extra)
    dataclasses.replace(manifest, variants=tuple(variants)).write(target)
    return target
