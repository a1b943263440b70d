"""One ONNX causal language model under ONNX Runtime, with its KV cache inputs and outputs.

The names, shapes and dtype of the past/present tensors are read from the graph once at
load time, so the token loop has no per-model branches.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from desktop_app.core.errors import UserError
from desktop_app.core.i18n import translate
from desktop_app.engine import ggml_ops
from desktop_app.engine.providers import (
    ORT_NAMES,
    ProviderReport,
    ProviderRequest,
    cuda_libraries_wanted,
    cuda_unavailable_reason,
    nvidia_gpu_present,
    preload_cuda_libraries,
)

log = logging.getLogger(__name__)

# The input of gguf_graph's graphs naming how many final positions get logits, and the
# name of the logits' dimension that follows it.
LOGITS_TO_KEEP = "logits_to_keep"
LOGITS_LENGTH = "logits_length"
ONE_POSITION = np.array([1], dtype=np.int64)  # logits_to_keep for the last position alone
PAST_PREFIX = "past_key_values."
PRESENT_PREFIX = "present."
_DTYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}


@dataclass(frozen=True)
class KVSpec:
    past_names: tuple[str, ...]
    present_names: tuple[str, ...]
    heads: int
    head_dim: int
    dtype: type


class KVCache:
    """The past key/value arrays of one sequence and the token ids that produced them.

    ONNX Runtime returns fresh arrays each step, so a cache is never mutated in place:
    several alternatives can start from the same prefilled cache without copying it.
    """

    def __init__(self, tokens: list[int], arrays: list[np.ndarray]) -> None:
        self.tokens = tokens
        self.arrays = arrays

    @classmethod
    def empty(cls, spec: KVSpec) -> KVCache:
        blank: np.ndarray = np.zeros((1, spec.heads, 0, spec.head_dim), dtype=spec.dtype)
        return cls([], [blank] * len(spec.past_names))

    def __len__(self) -> int:
        return len(self.tokens)

    def truncated(self, length: int) -> KVCache:
        if length >= len(self.tokens):
            return self
        return KVCache(self.tokens[:length], [np.ascontiguousarray(a[:, :, :length, :]) for a in self.arrays])


class _SharedBuffers:
    """Preallocated KV buffers [1, heads, capacity, head_dim] bound as both the past inputs
    and the present outputs of GroupQueryAttention, which then appends in place.

    This saves copying the whole past into a new present every token, a cost that grows
    with the conversation (90 MB a token at 2,000 tokens for SmolLM2-135M in fp32). Under
    CUDA the buffers live in the GPU's memory, so no token copies its cache between the
    two; `arrays` then gives host copies (for beam search's rows).
    """

    GROWTH = 256

    def __init__(self, model: OnnxCausalLM) -> None:
        self.model = model
        self.capacity = 0
        self.on_gpu = model.provider.name == "cuda"
        self.values: list[ort.OrtValue] = []  # the buffers, as bound
        self._host: list[np.ndarray] = []  # the buffers' memory on the CPU
        self.binding: ort.IOBinding | None = None
        self.logits_rows = 0  # how many positions' logits the binding's output holds

    def reserve(self, needed: int, keep: int) -> ort.IOBinding:
        if needed > self.capacity or self.binding is None:
            spec = self.model.kv
            capacity = max(needed, min(self.capacity * 2, self.model.max_positions), self.GROWTH)
            capacity = min(-(-capacity // self.GROWTH) * self.GROWTH, max(self.model.max_positions, needed))
            # Zeros for the GPU: with garbage (NaN) in the unused room every logit was NaN on
            # an H200; masked positions can still be loaded there (a zero weight times NaN is
            # NaN). onnxruntime-genai zeroes its shared buffers too. The CPU's kernel reads
            # the used part only.
            blank = np.zeros if self.on_gpu else np.empty
            arrays: list[np.ndarray] = [
                blank((1, spec.heads, capacity, spec.head_dim), dtype=spec.dtype) for _ in spec.past_names
            ]
            for new, old in zip(arrays, self.arrays if keep else [], strict=False):
                new[:, :, :keep, :] = old[:, :, :keep, :]
            if self.on_gpu:  # copied to the GPU once; the host arrays are not kept
                self.values = [ort.OrtValue.ortvalue_from_numpy(a, "cuda", 0) for a in arrays]
            else:
                self._host = arrays
                self.values = [ort.OrtValue.ortvalue_from_numpy(a) for a in arrays]  # shares the numpy memory
            self.capacity = capacity
            binding = self.model.session.io_binding()
            self.binding, self.logits_rows = binding, 0
            self.bind_logits(1)  # first: get_outputs() follows binding order
            for past, present, value in zip(spec.past_names, spec.present_names, self.values, strict=True):
                binding.bind_ortvalue_input(past, value)
                binding.bind_ortvalue_output(present, value)
        return self.binding

    @property
    def arrays(self) -> list[np.ndarray]:
        """The buffers as numpy arrays: their own memory on the CPU, copies from the GPU."""
        return [value.numpy() for value in self.values] if self.on_gpu else self._host

    def bind_logits(self, rows: int) -> np.ndarray | None:
        """Bind the logits of the last `rows` positions to a buffer of the model's (written
        in place: no output objects to fetch each token); None where the graph's logits
        have no fixed shape (fetched from the binding after the run)."""
        buffer = self.model.logits_buffer_for(rows)
        if self.binding is not None and rows != self.logits_rows:
            if buffer is None:
                self.binding.bind_output(self.model.logits_name)
            else:
                self.binding.bind_output(
                    self.model.logits_name, "cpu", 0, buffer.dtype, list(buffer.shape), buffer.ctypes.data
                )
            self.logits_rows = rows
        return buffer


class SharedKVCache:
    """A sequence's tokens over shared buffers. Extending it writes only past its end, so
    a shorter view (a reused prefix, the prompt that several alternatives start from)
    stays valid while the engine extends one sequence at a time."""

    def __init__(self, tokens: list[int], buffers: _SharedBuffers) -> None:
        self.tokens = tokens
        self.buffers = buffers

    def __len__(self) -> int:
        return len(self.tokens)

    def truncated(self, length: int) -> SharedKVCache:
        return self if length >= len(self.tokens) else SharedKVCache(self.tokens[:length], self.buffers)


AnyKVCache = KVCache | SharedKVCache


def common_prefix_length(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    if n == 0:
        return 0
    x, y = np.asarray(a[:n]), np.asarray(b[:n])
    mismatch = np.flatnonzero(x != y)
    return int(mismatch[0]) if mismatch.size else n


class OnnxCausalLM:
    def __init__(
        self,
        path: Path,
        provider: ProviderRequest = "auto",
        threads: int | None = None,
        in_place_kv: bool = False,
        max_positions: int = 1 << 20,
    ) -> None:
        if not path.is_file():
            raise UserError(
                translate("Errors", "The model file {path} is missing.").format(path=path),
                hint=translate("Errors", "Prepare the model again: inkwell models prepare"),
            )
        self.path = path
        self.session, self.provider = self._open(path, provider, threads)
        self.kv = self._read_kv_spec()
        inputs = {i.name for i in self.session.get_inputs()}
        self._has_position_ids = "position_ids" in inputs
        self._has_attention_mask = "attention_mask" in inputs
        logits = self.session.get_outputs()[0]
        self.logits_name = logits.name
        # Logits of the last position only ([batch, 1, vocab]): one buffer that every run
        # writes into, when the graph's shape says so (a graph that projects every position
        # returns fresh arrays instead).
        self.logits_buffer: np.ndarray | None = None
        kept = len(logits.shape) == 3 and logits.shape[1] in (1, LOGITS_LENGTH)
        if kept and isinstance(logits.shape[2], int):
            self.logits_buffer = np.empty((1, 1, logits.shape[2]), dtype=_DTYPES.get(logits.type, np.float32))
        self._output_names = [self.logits_name, *self.kv.present_names]
        self.max_positions = max_positions
        # A graph with the logits_to_keep input (gguf_graph's) returns the logits of as many
        # final positions as asked: several proposed tokens are then checked in one pass.
        self.verifies = LOGITS_TO_KEEP in inputs
        self._kept_logits: dict[int, np.ndarray] = {}
        # In-place KV needs GroupQueryAttention as the only reader of the past (a fused
        # graph), run by the provider whose memory holds the buffers: under CUDA its kernel
        # takes float16 (a float32 graph's attention falls back to the CPU).
        self.in_place_kv = in_place_kv and (self.provider.name == "cpu" or self.kv.dtype != np.float32)

    @property
    def rows_in_place(self) -> bool:
        """Whether several rows (beams, batched requests) may share in-place buffers: their
        KVRows are numpy arrays, which the CPU provider alone writes directly."""
        return self.in_place_kv and self.provider.name == "cpu"

    @staticmethod
    def _session_options(threads: int | None) -> ort.SessionOptions:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads or max(1, min(os.cpu_count() or 1, 8))
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        ggml_ops.register(options)  # graphs imported from GGUF read their blocks with these
        return options

    def _open(
        self, path: Path, request: ProviderRequest, threads: int | None
    ) -> tuple[ort.InferenceSession, ProviderReport]:
        options = self._session_options(threads)
        cpu_only = [ORT_NAMES["cpu"]]
        if request == "cpu":
            return self._create(path, options, cpu_only), ProviderReport("cpu", "CPU chosen in settings")
        why_not = cuda_unavailable_reason()
        if why_not is None:
            preload_cuda_libraries()
            session = self._create(path, options, [ORT_NAMES["cuda"], ORT_NAMES["cpu"]])
            if session.get_providers()[0] == ORT_NAMES["cuda"]:
                return session, ProviderReport("cuda", "NVIDIA GPU found and the CUDA provider loaded")
            why_not = (
                f"the CUDA provider did not load: the {cuda_libraries_wanted()} libraries were not found "
                "(install them system-wide, or pip install onnxruntime-gpu[cuda,cudnn])"
            )
        if request == "cuda":
            raise UserError(
                translate("Errors", "CUDA cannot be used: {reason}.").format(reason=why_not),
                hint=translate("Errors", "Choose the CPU or automatic provider instead."),
            )
        # A user with an NVIDIA GPU should hear that it is idle; without one it is no news.
        level = logging.WARNING if nvidia_gpu_present() else logging.INFO
        log.log(level, "Running on the CPU: %s", why_not)
        return self._create(path, options, cpu_only), ProviderReport("cpu", f"CUDA not used: {why_not}")

    @staticmethod
    def _create(path: Path, options: ort.SessionOptions, providers: list[str]) -> ort.InferenceSession:
        try:
            return ort.InferenceSession(str(path), sess_options=options, providers=providers)
        except Exception as exc:
            if ggml_ops.DOMAIN in str(exc) and not ggml_ops.available():
                raise UserError(
                    translate(
                        "Errors",
                        "The model {file} reads its GGUF blocks with Inkwell's own operators, which this installation lacks.",
                    ).format(file=path.name),
                    hint=translate(
                        "Errors",
                        "Install Inkwell again with a C++ compiler present (pip builds the operators), or import the model again.",
                    ),
                ) from None
            raise UserError(
                translate("Errors", "The model {file} cannot be loaded by ONNX Runtime: {error}").format(
                    file=path.name, error=str(exc).strip()[:400]
                ),
                hint=translate(
                    "Errors", "The file may be damaged or from an unsupported exporter; prepare or import it again."
                ),
            ) from None

    def _read_kv_spec(self) -> KVSpec:
        past = [i for i in self.session.get_inputs() if i.name.startswith(PAST_PREFIX)]
        outputs = {o.name for o in self.session.get_outputs()}
        if not past:
            raise UserError(
                translate("Errors", "{file} has no KV cache inputs; export it with past key values.").format(
                    file=self.path.name
                )
            )
        presents = tuple(PRESENT_PREFIX + p.name[len(PAST_PREFIX) :] for p in past)
        missing = [name for name in presents if name not in outputs]
        if missing:
            raise UserError(
                translate("Errors", "{file} lacks the KV cache outputs {names}.").format(
                    file=self.path.name, names=missing[:2]
                )
            )
        shape = past[0].shape  # [batch, heads, past_len, head_dim]
        if len(shape) != 4 or not isinstance(shape[1], int) or not isinstance(shape[3], int):
            raise UserError(
                translate("Errors", "{file} has a KV cache layout Inkwell does not know: {shape}.").format(
                    file=self.path.name, shape=shape
                )
            )
        dtype = _DTYPES.get(past[0].type)
        if dtype is None:
            raise UserError(
                translate("Errors", "{file} has a KV cache of type {type}, which Inkwell does not support.").format(
                    file=self.path.name, type=past[0].type
                )
            )
        return KVSpec(tuple(p.name for p in past), presents, shape[1], shape[3], dtype)

    def reserve(self, cache: AnyKVCache, positions: int) -> None:
        """Make room for `positions` in the cache's buffers now, so that a long prompt and
        its reply do not regrow them (each regrowth holds the old and new buffers at once,
        and copies). Pages are only touched when written, so unused room costs no memory."""
        if isinstance(cache, SharedKVCache):
            cache.buffers.reserve(positions, keep=len(cache))

    def empty_cache(self) -> AnyKVCache:
        """A cache for a new sequence (with buffers of its own)."""
        if self.in_place_kv:
            return SharedKVCache([], _SharedBuffers(self))
        return KVCache.empty(self.kv)

    def finite_on(self, token_ids: list[int]) -> bool:
        """Whether the logits after `token_ids` (from an empty cache) are all finite numbers: a
        float16 graph whose activations overflow gives NaN, whatever it is asked."""
        cache = self.empty_cache()
        self.reserve(cache, len(token_ids) + 1)
        logits, _ = self.forward(token_ids or [0], cache)
        return bool(np.isfinite(logits).all())

    def logits_buffer_for(self, rows: int) -> np.ndarray | None:
        """The buffer the logits of the last `rows` positions are written into."""
        if self.logits_buffer is None or rows == 1:
            return self.logits_buffer
        buffer = self._kept_logits.get(rows)
        if buffer is None:
            buffer = self._kept_logits[rows] = np.empty(
                (1, rows, self.logits_buffer.shape[-1]), self.logits_buffer.dtype
            )
        return buffer

    def forward(self, token_ids: list[int], cache: AnyKVCache) -> tuple[np.ndarray, AnyKVCache]:
        """Run `token_ids` after `cache`; return the last position's logits and the new cache."""
        logits, cache = self.forward_kept(token_ids, cache, 1)
        return logits[0], cache

    def forward_kept(self, token_ids: list[int], cache: AnyKVCache, keep: int) -> tuple[np.ndarray, AnyKVCache]:
        """Run `token_ids` after `cache`; the logits of the last `keep` positions, [keep,
        vocab] float32 (a copy), and the new cache. `keep` above 1 needs `verifies`."""
        start = len(cache)
        n = len(token_ids)
        if keep > 1 and not self.verifies:
            raise ValueError("this graph returns the last position's logits only")
        input_ids = np.asarray([token_ids], dtype=np.int64)
        mask = np.ones((1, start + n), dtype=np.int64) if self._has_attention_mask else None
        positions = np.arange(start, start + n, dtype=np.int64)[None, :] if self._has_position_ids else None
        count = np.array([keep], dtype=np.int64) if self.verifies else None
        if isinstance(cache, SharedKVCache):
            binding = cache.buffers.reserve(start + n, keep=start)
            buffer = cache.buffers.bind_logits(keep)
            binding.bind_cpu_input("input_ids", input_ids)
            if mask is not None:
                binding.bind_cpu_input("attention_mask", mask)
            if positions is not None:
                binding.bind_cpu_input("position_ids", positions)
            if count is not None:
                binding.bind_cpu_input(LOGITS_TO_KEEP, count)
            self.session.run_with_iobinding(binding)
            # A copy: the bound output's memory is reused by the next run, and the prompt's
            # logits must survive for every alternative that starts from them.
            written = buffer if buffer is not None else binding.get_outputs()[0].numpy()
            logits = np.array(written[0, -keep:], dtype=np.float32)
            return logits, SharedKVCache(cache.tokens + token_ids, cache.buffers)
        feed: dict[str, np.ndarray] = {"input_ids": input_ids}
        if mask is not None:
            feed["attention_mask"] = mask
        if positions is not None:
            feed["position_ids"] = positions
        if count is not None:
            feed[LOGITS_TO_KEEP] = count
        feed.update(zip(self.kv.past_names, cache.arrays, strict=True))
        outputs = self.session.run(self._output_names, feed)
        logits = outputs[0][0, -keep:].astype(np.float32, copy=False)
        return logits, KVCache(cache.tokens + token_ids, outputs[1:])

    def forward_rows(
        self, tokens: np.ndarray, arrays: list[np.ndarray], start: int
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """One token per row after `start` positions of past `arrays` ([rows, heads, start,
        head_dim] each), for graphs that return a new present each step; the rows' last
        logits [rows, vocab] and the new arrays."""
        rows = len(tokens)
        feed: dict[str, np.ndarray] = {"input_ids": np.asarray(tokens, dtype=np.int64).reshape(rows, 1)}
        if self._has_attention_mask:
            feed["attention_mask"] = np.ones((rows, start + 1), dtype=np.int64)
        if self._has_position_ids:
            feed["position_ids"] = np.full((rows, 1), start, dtype=np.int64)
        if self.verifies:
            feed[LOGITS_TO_KEEP] = ONE_POSITION
        feed.update(zip(self.kv.past_names, arrays, strict=True))
        outputs = self.session.run(self._output_names, feed)
        return outputs[0][:, -1].astype(np.float32, copy=False), list(outputs[1:])
