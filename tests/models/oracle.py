"""llama.cpp as the tests' oracle: its logits for a GGUF, its quantizer, and the faithfulness
measure the GGUF import route is held to (issue 16: next-token argmax agrees on at least
98% of the positions of a held-out text, perplexity within 1%).

llama.cpp (llama-cpp-python, built by `packaging/llama_cpp.py install`) is never Inkwell's
engine; only the tests and the benchmarks load it. `faithfulness` is plain numpy.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

# Quantization names. A bare ggml type (Q4_0, Q4_K, F16, ...) asks for a "pure" file: every
# matrix, the embeddings and output included, of that one type (llama.cpp's --pure). A
# llama-quantize recipe (Q4_K_M, Q3_K_S, ...) keeps llama.cpp's mix of types.
# name -> (llama_ftype, pure)
QTYPES: dict[str, tuple[int, bool]] = {
    "F32": (0, True),
    "F16": (1, True),
    "BF16": (32, True),
    "Q4_0": (2, True),
    "Q4_1": (3, True),
    "Q5_0": (8, True),
    "Q5_1": (9, True),
    "Q8_0": (7, True),
    "Q2_K": (10, True),
    "Q3_K": (12, True),  # the default type of the Q3_K_M recipe is Q3_K; pure keeps only it
    "Q4_K": (15, True),
    "Q5_K": (17, True),
    "Q6_K": (18, True),
    "IQ4_NL": (25, True),
    "IQ4_XS": (30, True),
    "Q3_K_S": (11, False),
    "Q3_K_M": (12, False),
    "Q3_K_L": (13, False),
    "Q4_K_S": (14, False),
    "Q4_K_M": (15, False),
    "Q5_K_S": (16, False),
    "Q5_K_M": (17, False),
}
# What a user's `llama-quantize model.gguf out.gguf TYPE` would make: recipes throughout.
RECIPES: dict[str, str] = {"Q3_K": "Q3_K_M", "Q4_K": "Q4_K_M", "Q5_K": "Q5_K_M"}
THREADS = max(1, min(2, os.cpu_count() or 1))


SKIP_BANNER = "!" * 20


def load_llama_cpp() -> Any:
    import llama_cpp

    return llama_cpp


def require_llama_cpp() -> Any:
    """llama_cpp and the converter's sources, or a loud skip; a failure where they must be
    (CI, and `make test`, which installs them)."""
    import pytest

    from tests.models.tiny_gguf import llama_cpp_sources

    problem = None
    try:
        module = load_llama_cpp()
    except ImportError as error:  # also an OSError-free ImportError when its library will not load
        problem = f"llama-cpp-python is not importable ({error})"
    else:
        if not (llama_cpp_sources() / "convert_hf_to_gguf.py").exists():
            problem = f"convert_hf_to_gguf.py is not unpacked in {llama_cpp_sources()}"
    if problem is None:
        return module
    message = (
        f"{SKIP_BANNER} LLAMA.CPP ORACLE MISSING: {problem}. The GGUF faithfulness tests did NOT run. "
        f"Install it with: python packaging/llama_cpp.py install   (make test does) {SKIP_BANNER}"
    )
    if os.environ.get("CI") or os.environ.get("INKWELL_REQUIRE_ORACLE"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


def quantize(source: Path, target: Path, qtype: str, *, recipe: bool = False, requantize: bool = False) -> Path:
    """Quantize `source` with llama.cpp's own quantizer; written atomically.

    recipe=True makes a bare type name follow llama-quantize's recipe (Q4_0 keeps a Q6_K
    output, Q3_K means Q3_K_M) instead of a pure file. requantize allows a source whose
    matrices are already quantized (the default model's GGUF)."""
    llama_cpp = load_llama_cpp()
    name = RECIPES.get(qtype, qtype) if recipe else qtype
    if name not in QTYPES:
        raise ValueError(f"unknown quantization {qtype!r}; known: {', '.join(QTYPES)}")
    ftype, pure = QTYPES[name]
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.nthread = THREADS
    params.pure = pure and not recipe
    params.allow_requantize = requantize
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(dir=target.parent, prefix=target.name, suffix=".part")
    os.close(handle)
    try:
        # It reports every tensor on stdout; keep the test logs readable.
        with native_output():
            status = llama_cpp.llama_model_quantize(str(source).encode(), scratch.encode(), params)
        if status != 0:
            raise RuntimeError(f"llama_model_quantize({source.name} -> {qtype}) returned {status}")
        os.replace(scratch, target)
    finally:
        Path(scratch).unlink(missing_ok=True)
    return target


def tensor_types(path: Path) -> Counter[str]:
    """How many tensors of each ggml type a GGUF holds (read with gguf.GGUFReader)."""
    from gguf import GGUFReader

    return Counter(t.tensor_type.name for t in GGUFReader(path).tensors)


def matrix_types(path: Path) -> dict[str, str]:
    """Each 2-D tensor's ggml type, by name."""
    from gguf import GGUFReader

    return {t.name: t.tensor_type.name for t in GGUFReader(path).tensors if len(t.shape) == 2}


class NativeLog:
    """What llama.cpp printed while a `native_output()` block ran."""

    def __init__(self) -> None:
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 (closed by native_output)

    def tail(self, limit: int = 4000) -> str:
        self.file.seek(0)
        return self.file.read().decode("utf-8", "replace")[-limit:]


@contextlib.contextmanager
def native_output() -> Iterator[NativeLog]:
    """Send what llama.cpp's C code prints (every tensor of a quantization, every key of a
    loaded file) to a file, shown only where an error asks for it."""
    log = NativeLog()
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(log.file.fileno(), 1)
        os.dup2(log.file.fileno(), 2)
        try:
            yield log
        except Exception as error:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            raise RuntimeError(f"{error}\nllama.cpp said:\n{log.tail()}") from error
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)
        log.file.close()


def llama_tokenize(gguf_path: Path, text: str, *, add_bos: bool = True) -> list[int]:
    """The file's tokens for `text` as llama.cpp reads them (its vocabulary only)."""
    llama_cpp = load_llama_cpp()
    with native_output():
        llm = llama_cpp.Llama(str(gguf_path), vocab_only=True, verbose=False)
    try:
        return list(llm.tokenize(text.encode("utf-8"), add_bos=add_bos, special=False))
    finally:
        llm.close()


def llama_logits(gguf_path: Path, token_ids: list[int] | np.ndarray) -> np.ndarray:
    """llama.cpp's logits [T, vocab] (float32) for exactly these tokens, in one batch.

    Nothing is added (no BOS): pass the ids the other side sees. llama.cpp's defaults
    otherwise (an F16 KV cache, its own kernels), since those are what users run."""
    llama_cpp = load_llama_cpp()
    tokens = [int(t) for t in token_ids]
    if not tokens:
        raise ValueError("no tokens")
    n_ctx = max(256, -(-len(tokens) // 256) * 256)
    with native_output():
        llm = llama_cpp.Llama(
            str(gguf_path),
            n_ctx=n_ctx,
            n_batch=n_ctx,
            n_ubatch=n_ctx,
            n_threads=THREADS,
            n_threads_batch=THREADS,
            logits_all=True,
            verbose=False,
        )
    try:
        llm.eval(tokens)
        return np.array(llm.scores[: len(tokens)], dtype=np.float32, copy=True)
    finally:
        llm.close()


class Faithfulness(NamedTuple):
    """How closely one model's logits follow another's over the same tokens."""

    argmax_agreement: float  # share of positions whose next-token argmax agrees
    our_ppl: float
    their_ppl: float

    @property
    def ppl_ratio(self) -> float:
        return self.our_ppl / self.their_ppl

    def holds(self, agreement: float = 0.98, ppl_tolerance: float = 0.01) -> bool:
        """Issue 16's bar: argmax agreement >= 98%, perplexity within 1%."""
        return self.argmax_agreement >= agreement and abs(self.ppl_ratio - 1.0) <= ppl_tolerance

    def __str__(self) -> str:
        return (
            f"argmax agreement {self.argmax_agreement:.2%}, perplexity {self.our_ppl:.4g} vs "
            f"{self.their_ppl:.4g} ({self.ppl_ratio - 1:+.3%})"
        )


def perplexity(logits: np.ndarray, token_ids: np.ndarray) -> float:
    """exp of the mean negative log-likelihood of token_ids[1:] given logits[:-1]."""
    rows = logits[:-1].astype(np.float64)
    targets = token_ids[1:]
    top = rows.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(rows - top).sum(axis=1))
    nll = log_norm - rows[np.arange(len(targets)), targets]
    return float(np.exp(nll.mean()))


def faithfulness(our_logits: np.ndarray, their_logits: np.ndarray, token_ids: list[int] | np.ndarray) -> Faithfulness:
    """Compare two [T, vocab] logit arrays computed over the same T tokens.

    The argmax is compared at all T positions; perplexity scores tokens 1..T-1."""
    ids = np.asarray(token_ids, dtype=np.int64)
    ours, theirs = np.asarray(our_logits), np.asarray(their_logits)
    if ours.ndim != 2 or ours.shape != theirs.shape or ours.shape[0] != len(ids):
        raise ValueError(f"logits {ours.shape} and {theirs.shape} do not both match {len(ids)} tokens")
    if len(ids) < 2:
        raise ValueError("need at least two tokens")
    agreement = float(np.mean(ours.argmax(axis=1) == theirs.argmax(axis=1)))
    return Faithfulness(agreement, perplexity(ours, ids), perplexity(theirs, ids))


def held_out_ids(gguf_path: Path, text: str | None = None) -> list[int]:
    """The held-out text (tests/models/tiny_gguf.py) as this file's tokens, BOS first."""
    from tests.models.tiny_gguf import HELD_OUT_TEXT

    return llama_tokenize(gguf_path, text or HELD_OUT_TEXT)


# What issue 16 asks of the default model: its GGUF re-quantized to each of these.
SMOLLM2_QTYPES = ("Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K_M", "Q5_K_M", "Q6_K", "IQ4_XS")


class SmolLM2GGUFs:
    """The default model's GGUF re-quantized by llama.cpp, as `llama-quantize
    --allow-requantize` would (recipes, so Q3_K is Q3_K_M); made on first use.

    Its hidden size, 576, is no multiple of 256: llama.cpp gives those rows a fallback type
    (Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0, Q2_K and Q3_K -> Q4_0 in 0.3.36), so only
    ffn_down (1536 wide) keeps a K-quant; token_embd (the tied output) stays Q8_0. A file takes about half a second."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def source(self) -> Path:
        from desktop_app.models.workspace import locate_default_gguf

        return locate_default_gguf()

    def __call__(self, qtype: str) -> Path:
        target = self.folder / f"SmolLM2-135M-Instruct.{qtype}.gguf"
        if not target.exists():
            quantize(self.source, target, qtype, recipe=True, requantize=True)
        return target
