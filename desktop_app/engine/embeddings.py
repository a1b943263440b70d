"""A sentence-embedding model under ONNX Runtime: texts in, unit-length vectors out.

The graph is a BERT-family encoder exported for feature extraction (one hidden state per
token); the pooling the model was trained with (the mean of the tokens, or the first
token) and the prefixes it expects before questions and passages are in its manifest.
Vectors are normalised, so the dot product of two is their cosine similarity.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
from tokenizers import Tokenizer

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.core.manifest import ModelManifest

log = logging.getLogger(__name__)

POOLINGS = ("mean", "cls", "max")
# Tokens a batch holds at most (rows x longest row). Attention's scores grow with rows x
# length squared: with all-MiniLM-L6-v2's shape on 2 cores, 4096 tokens a batch peaked at
# ~470 MB and 512 at ~200 MB, and 512 was also the fastest (less padding).
BATCH_TOKENS = 512
MAX_BATCH = 64


def vector_key(manifest: ModelManifest) -> str:
    """What the vectors a model makes are filed under: its id and its weights' hash, so that
    a model imported again under the same id (other weights, other vectors) is told apart."""
    return f"{manifest.id}@{manifest.variants[0].sha256[:12]}" if manifest.variants else manifest.id


class Embedder:
    def __init__(self, directory: Path, manifest: ModelManifest, threads: int | None = None) -> None:
        extra = manifest.extra
        self.model_id = manifest.id
        self.key = vector_key(manifest)
        self.name = manifest.name
        self.pooling = str(extra.get("pooling", "mean"))
        if self.pooling not in POOLINGS:
            raise UserError(
                translate("Errors", "The embedding model {model} pools its tokens by {pooling}, unknown here.").format(
                    model=manifest.id, pooling=repr(self.pooling)
                )
            )
        self.dimensions = int(extra.get("dimensions", 0))
        self.max_tokens = int(manifest.context_length)
        self.query_prefix = str(extra.get("query_prefix", ""))
        self.passage_prefix = str(extra.get("passage_prefix", ""))
        variant = manifest.variants[0]
        try:
            self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        except Exception as exc:
            raise UserError(
                translate("Errors", "The embedding model {model} has a tokenizer that cannot be read: {error}").format(
                    model=manifest.id, error=str(exc)[:200]
                ),
                hint=translate("Errors", "Import it again with: inkwell models import FOLDER"),
            ) from None
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(self.max_tokens)
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or max(1, min(os.cpu_count() or 1, 8))
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # Threads that spin after a run take the core that a search's SQLite half runs on.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = ort.InferenceSession(
                str(directory / variant.file), sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise UserError(
                translate("Errors", "The embedding model {model} cannot be loaded: {error}").format(
                    model=manifest.id, error=str(exc).strip()[:300]
                ),
                hint=translate("Errors", "Import it again with: inkwell models import FOLDER"),
            ) from None
        self.inputs = {i.name for i in self.session.get_inputs()}
        if "input_ids" not in self.inputs:
            raise UserError(
                translate("Errors", "The embedding model {model} has no input_ids input.").format(model=manifest.id)
            )

    def embed(self, texts: Sequence[str], query: bool = False) -> np.ndarray:
        """One unit vector per text (float32, rows in the order of `texts`). Questions take
        the model's query prefix, passages its passage prefix."""
        prefix = self.query_prefix if query else self.passage_prefix
        encodings = self.tokenizer.encode_batch([prefix + text for text in texts])
        out = np.zeros((len(texts), self.dimensions or 1), dtype=np.float32)
        # Similar lengths batched together: little padding to compute for nothing.
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        start = 0
        while start < len(order):
            longest = max(1, len(encodings[order[start]].ids))
            end = start + 1
            while end < len(order) and end - start < MAX_BATCH:
                longest = max(longest, len(encodings[order[end]].ids))
                if longest * (end - start + 1) > BATCH_TOKENS:
                    break
                end += 1
            rows = order[start:end]
            vectors = self._run([encodings[i].ids for i in rows])
            if out.shape[1] != vectors.shape[1]:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
                self.dimensions = vectors.shape[1]
            out[rows] = vectors
            start = end
        return out

    def _run(self, rows: list[list[int]]) -> np.ndarray:
        width = max(1, max(len(r) for r in rows))
        ids = np.zeros((len(rows), width), dtype=np.int64)
        mask = np.zeros((len(rows), width), dtype=np.int64)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = row
            mask[i, : len(row)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self.inputs:
            feeds["token_type_ids"] = np.zeros_like(ids)
        feeds = {name: value for name, value in feeds.items() if name in self.inputs}
        hidden = self.session.run(None, feeds)[0].astype(np.float32)  # [rows, tokens, dimensions]
        if self.pooling == "cls":
            pooled = hidden[:, 0, :]
        elif self.pooling == "max":
            pooled = np.where(mask[:, :, None] > 0, hidden, -np.inf).max(axis=1)
        else:
            weights = mask[:, :, None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        result: np.ndarray = pooled / np.maximum(norms, 1e-12)
        return result
