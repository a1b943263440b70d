"""KV buffers with one row per sequence, which GroupQueryAttention appends to in place.

`KVRows` owns arrays [rows, kv_heads, capacity, head_dim], bound as both the past and the
present of the graph (GroupQueryAttention appends at each row's own length: the graph
derives seqlens_k per row from the attention mask's row sums). A row of a C-contiguous
buffer is itself contiguous, so one row binds as a batch of one (a prompt's prefill), and
the first `width` rows bind as a batch (one token each, or a token and the proposals
checked after it). Batched decoding (batch.py) and beam search (beam.py) both stand on it;
neither copies the past into a new present per token.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import onnxruntime as ort

from desktop_app.engine.onnx_model import LOGITS_TO_KEEP, ONE_POSITION, OnnxCausalLM, common_prefix_length

GROWTH = 256  # the buffers' length grows in steps of this many positions


class KVRows:
    """`rows` KV rows of one model, each with the token ids its valid positions hold. Not
    thread-safe: use it on the thread that owns the model."""

    def __init__(self, model: OnnxCausalLM, rows: int, context_length: int) -> None:
        if rows < 1:
            raise ValueError("KV rows need at least one row")
        self.model = model
        self.rows = rows
        self.context_length = context_length
        self.capacity = 0
        self.tokens: list[list[int]] = [[] for _ in range(rows)]  # valid KV of each row
        self._block: np.ndarray = np.empty((0, rows, 0, 0, 0), np.float32)
        self._arrays: list[np.ndarray] = []
        self._logits: np.ndarray | None = None
        if model.logits_buffer is not None:
            self._logits = np.empty((rows, 1, model.logits_buffer.shape[-1]), model.logits_buffer.dtype)
        self._row_bindings: dict[int, ort.IOBinding] = {}
        self._batch_bindings: dict[int, ort.IOBinding] = {}
        self._check_bindings: dict[tuple[int, int], ort.IOBinding] = {}
        self._inputs = {i.name for i in model.session.get_inputs()}

    def reserve(self, positions: int) -> None:
        """Room for `positions` in every row. The buffers grow (by doubling, in steps of
        GROWTH) rather than start at the context length: GroupQueryAttention writes a row's
        whole length when a prompt starts it, which would make every row resident."""
        if positions <= self.capacity:
            return
        spec = self.model.kv
        capacity = max(positions, min(self.capacity * 2, self.context_length))
        capacity = min(-(-capacity // GROWTH) * GROWTH, max(self.context_length, positions))
        # One block for every past and present, [tensors, rows, heads, capacity, head_dim]:
        # each tensor is a contiguous slice of it that binds alone, and a copy between rows
        # (a beam taking its parent's positions) is one numpy operation for all of them.
        block: np.ndarray = np.empty((len(spec.past_names), self.rows, spec.heads, capacity, spec.head_dim), spec.dtype)
        for row, tokens in enumerate(self.tokens):
            if tokens:
                block[:, row, :, : len(tokens), :] = self._block[:, row, :, : len(tokens), :]
        self._block, self._arrays, self.capacity = block, list(block), capacity
        self._row_bindings.clear()
        self._batch_bindings.clear()
        self._check_bindings.clear()

    def copy_row(self, source: int, target: int, length: int) -> None:
        """The first `length` positions of `source` (KV and tokens) into `target`; `source`
        keeps its own (a prefix a later prompt may reuse)."""
        self._block[:, target, :, :length, :] = self._block[:, source, :, :length, :]
        self.tokens[target] = self.tokens[source][:length]

    def load_row(self, row: int, arrays: list[np.ndarray], tokens: list[int]) -> None:
        """The row takes `tokens` and their KV from another cache's arrays ([1, heads, >=
        len(tokens), head_dim] each): a prefix kept from an earlier request costs a copy,
        not a prefill."""
        n = len(tokens)
        self.reserve(n)
        for mine, theirs in zip(self._arrays, arrays, strict=True):
            mine[row, :, :n, :] = theirs[0, :, :n, :]
        self.tokens[row] = list(tokens)

    def gather(self, parents: np.ndarray, start: int) -> None:
        """Row i takes row parents[i]'s positions from `start` on (its tokens too). Rows
        share their first `start` positions, and a row and its parent most often share
        more (beams part late), so only the positions after the earliest point where a
        moving row and its parent differ are copied, and only for rows whose parent is
        another row."""
        moved = np.flatnonzero(parents != np.arange(len(parents)))
        if moved.size == 0:
            return
        old = [list(t) for t in self.tokens]
        sources = parents[moved]
        end = max(len(old[int(p)]) for p in sources)
        same = min(
            start + common_prefix_length(old[int(row)][start:], old[int(parent)][start:])
            for row, parent in zip(moved, sources, strict=True)
        )
        if same < end:
            self._block[:, moved, :, same:end, :] = self._block[:, sources, :, same:end, :]  # the right side is a copy
        for row, parent in zip(moved.tolist(), sources.tolist(), strict=True):
            self.tokens[row] = list(old[parent])

    def run_row(self, row: int, token_ids: list[int]) -> np.ndarray:
        """Run `token_ids` after the row's tokens, as a batch of one; the last logits."""
        binding = self._row_bindings.get(row)
        if binding is None:
            binding = self._row_bindings[row] = self._bind(slice(row, row + 1))
        start, n = len(self.tokens[row]), len(token_ids)
        binding.bind_cpu_input("input_ids", np.asarray([token_ids], dtype=np.int64))
        if "attention_mask" in self._inputs:
            binding.bind_cpu_input("attention_mask", np.ones((1, start + n), dtype=np.int64))
        if "position_ids" in self._inputs:
            binding.bind_cpu_input("position_ids", np.arange(start, start + n, dtype=np.int64)[None, :])
        logits = self._run(binding, slice(row, row + 1))
        self.tokens[row].extend(token_ids)
        return np.array(logits[0], dtype=np.float32)

    def forward(self, tokens: np.ndarray, kept: Sequence[int]) -> np.ndarray:
        """One token for each of the first len(tokens) rows, in one pass; their logits,
        [width, vocab] (a view the next pass overwrites). The rows in `kept` add their token
        to their tokens; any other row runs a throwaway token just past its kept tokens
        (which stay valid)."""
        width = len(tokens)
        lengths = np.array([len(self.tokens[row]) for row in range(width)], dtype=np.int64)
        binding = self._batch_bindings.get(width)
        if binding is None:
            binding = self._batch_bindings[width] = self._bind(slice(0, width))
        binding.bind_cpu_input("input_ids", np.asarray(tokens, dtype=np.int64).reshape(width, 1))
        if "attention_mask" in self._inputs:
            total = int(lengths.max()) + 1
            mask = (np.arange(total)[None, :] <= lengths[:, None]).astype(np.int64)
            binding.bind_cpu_input("attention_mask", mask)
        if "position_ids" in self._inputs:
            binding.bind_cpu_input("position_ids", lengths[:, None])
        logits = self._run(binding, slice(0, width))
        for row in kept:
            self.tokens[row].append(int(tokens[row]))
        return logits

    def forward_checked(self, tokens: np.ndarray, counts: Mapping[int, int]) -> np.ndarray:
        """Several tokens for each of the first len(tokens) rows ([width, n]: a chosen token
        and the proposals to check after it) in one pass; the logits of every position,
        [width, n, vocab] float32 (a copy). Row r keeps its first counts[r] tokens (the rest
        pad a shorter proposal); any other row runs throwaway tokens past its kept ones.
        Needs a graph that `verifies`."""
        width, n = tokens.shape
        lengths = np.array([len(self.tokens[row]) for row in range(width)], dtype=np.int64)
        self.reserve(int(lengths.max()) + n)
        binding = self._check_bindings.get((width, n))
        if binding is None:
            binding = self._check_bindings[(width, n)] = self._bind(slice(0, width), keep=n)
        binding.bind_cpu_input("input_ids", np.ascontiguousarray(tokens, dtype=np.int64))
        binding.bind_cpu_input(LOGITS_TO_KEEP, np.array([n], dtype=np.int64))
        if "attention_mask" in self._inputs:
            total = int(lengths.max()) + n
            mask = (np.arange(total)[None, :] < lengths[:, None] + n).astype(np.int64)
            binding.bind_cpu_input("attention_mask", mask)
        if "position_ids" in self._inputs:
            binding.bind_cpu_input("position_ids", lengths[:, None] + np.arange(n, dtype=np.int64)[None, :])
        self.model.session.run_with_iobinding(binding)
        logits = np.array(binding.get_outputs()[0].numpy(), dtype=np.float32)
        for row, count in counts.items():
            self.tokens[row].extend(int(t) for t in tokens[row, :count])
        return logits

    def _bind(self, rows: slice, keep: int = 1) -> ort.IOBinding:
        model = self.model
        binding = model.session.io_binding()
        if self._logits is None or keep > 1:
            binding.bind_output(model.logits_name)
        else:
            view = self._logits[rows]
            binding.bind_output(model.logits_name, "cpu", 0, view.dtype, list(view.shape), view.ctypes.data)
        if model.verifies and keep == 1:  # the last position's logits (bound once: it never changes)
            binding.bind_cpu_input(LOGITS_TO_KEEP, ONE_POSITION)
        for past, present, array in zip(model.kv.past_names, model.kv.present_names, self._arrays, strict=True):
            value = ort.OrtValue.ortvalue_from_numpy(array[rows])  # a view: shares the buffer
            binding.bind_ortvalue_input(past, value)
            binding.bind_ortvalue_output(present, value)
        return binding

    def _run(self, binding: ort.IOBinding, rows: slice) -> np.ndarray:
        """Run; the last position's logits of each row, [rows, vocab]."""
        self.model.session.run_with_iobinding(binding)
        if self._logits is not None:
            return self._logits[rows, -1]
        fresh: np.ndarray = binding.get_outputs()[0].numpy()
        return fresh[:, -1]
