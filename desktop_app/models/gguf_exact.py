"""Carrying a GGUF's Q4_1 and Q8_0 weights into MatMulNBits exactly (needs the `export` extra).

Q4_1 stores each block of 32 weights as w = d·q + m (q in 0..15, d and m per block).
MatMulNBits computes s·(q − z) with an integer zero point z, so it can hold d·q − z·d
but not an arbitrary offset m: re-rounding the weights onto any such grid moves every
weight of a block by the same amount, and on SmolLM2-135M that costs about 20% of
perplexity (bench/RESULTS.md). So the weights are kept as they are, with z = round(−m/d),
and what is left of each offset, r = m + z·d (at most d/2), is folded into the same
matrix product as extra rows:

    x · W = [x, S(x)] · [d·(q − z) ; R]

S(x) holds the block sums of x (one per block of 32 inputs, padded to whole blocks) and
R the leftover offsets, rounded once more to 4 bits with a scale of their own; that
rounding is 1/14 of r, against r itself for plain rounding. The block sums come from one
small MatMulNBits of 0/1 weights per distinct input (q, k and v share one, as do gate
and up) and a Concat: two small nodes where a separate fp32 correction needs four.
Measured on SmolLM2-135M: perplexity +0.4% against the dequantized GGUF, where plain
4-bit rounding gives +22.8%.

Q8_0 (w = d·q, q in −127..127) is MatMulNBits' own 8-bit grid with zero point 128, so
such matrices move over as they are. The output projection (the GGUF's Q8_0 embedding
table, tied) is the largest matrix and is read for every token: at 8 bits it took ~15% of
decode time, and rounded to 4 bits it cost +6% perplexity. So it is computed twice: every
logit at 4 bits, then the `REFINED_LOGITS` largest again from the exact Q8_0 rows, gathered
from one 8-bit table that the token embedding reads too. Greedy choices and the candidates
that sampling draws from get the exact logits; only the tail keeps the 4-bit ones.

Only weights that sit on these grids are rewritten (a model made from a GGUF); anything
else is left for the ordinary quantizer.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from desktop_app.models.graph import MS_DOMAIN, initializers, replace_nodes
from desktop_app.models.grids import (
    BLOCK,
    leftover_rows,
    pack_nibbles,
    pack_zero_points,
    recover_q4_1,
    recover_q8_0,
    round_to_4_bits,
    split_offsets,
)

log = logging.getLogger(__name__)

# Logits recomputed from the exact Q8_0 rows after the 4-bit pass (see the module docstring):
# 64 against 32 costs ~3% of decode speed and saves 0.7 points of perplexity (bench/RESULTS.md).
REFINED_LOGITS = 64


def keep_gguf_grids(model: Any, accuracy_level: int) -> tuple[int, int]:
    """Rewrite, in place, each MatMul whose weights sit on Q4_1 or Q8_0 grids.

    Returns how many of each were found.
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    weights_by_name = initializers(graph)
    found: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}
    eight_bit: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for node in graph.node:
        if node.op_type != "MatMul" or node.input[1] not in weights_by_name:
            continue
        weights = numpy_helper.to_array(weights_by_name[node.input[1]])
        recovered = recover_q4_1(weights)
        if recovered is None:
            if (q8 := recover_q8_0(weights)) is not None:
                eight_bit[node.output[0]] = q8
            continue
        q, d, m = recovered
        found[node.output[0]] = (q, d, *split_offsets(d, m))
    if not found and not eight_bit:
        return 0, 0

    # One scale per block of each input, shared by every matrix reading it: the RMS of the
    # leftovers there, so that the rows rounded together are of one size.
    leftovers: dict[str, list[np.ndarray]] = {}
    for node in graph.node:
        if node.output[0] in found:
            leftovers.setdefault(node.input[0], []).append(found[node.output[0]][3])
    block_scale = {}
    for source, parts in leftovers.items():
        rms = np.sqrt((np.concatenate(parts, axis=0) ** 2).mean(axis=0))
        block_scale[source] = np.where(rms == 0, 1.0, rms)

    new_nodes: list[Any] = []
    extra: list[Any] = []
    augmented: dict[str, str] = {}

    def matmul_nbits(
        source: str, name: str, output: str, tensors: dict[str, np.ndarray], bits: int, level: int = accuracy_level
    ) -> None:
        """Append a MatMulNBits reading `source`; tensors: levels, scales, zero points."""
        names = [f"{name}.{part}" for part in ("levels", "scales", "zero_points")]
        extra.extend(numpy_helper.from_array(tensors[part], n) for part, n in zip(tensors, names, strict=True))
        new_nodes.append(
            helper.make_node(
                "MatMulNBits",
                [source, *names],
                [output],
                name=name,
                domain=MS_DOMAIN,
                K=tensors["levels"].shape[1] * BLOCK,
                N=tensors["levels"].shape[0],
                bits=bits,
                block_size=BLOCK,
                accuracy_level=level,
            )
        )

    graph_outputs = {o.name for o in graph.output}
    tables: list[tuple[str, np.ndarray, np.ndarray]] = []  # each output projection's 8-bit table

    def refined_projection(node: Any, name: str, levels8: np.ndarray, scales8: np.ndarray) -> None:
        """Every logit at 4 bits, then the largest REFINED_LOGITS again from the exact rows."""
        n, blocks, _ = levels8.shape
        weights = (levels8.astype(np.float32) - 128) * scales8[..., None]
        levels4, scales4, zero4 = round_to_4_bits(weights)
        approx, table = f"{name}/approximate", f"{name}/q8_0_table"
        matmul_nbits(
            node.input[0],
            approx,
            approx,
            {"levels": pack_nibbles(levels4), "scales": scales4.reshape(-1), "zero_points": pack_zero_points(zero4)},
            bits=4,
        )
        # Zero points are left out: 128 is GatherBlockQuantized's default for 8 bits.
        extra.append(numpy_helper.from_array(levels8.reshape(n, blocks * BLOCK), table))
        extra.append(numpy_helper.from_array(scales8, f"{table}.scales"))
        extra.append(numpy_helper.from_array(np.array([min(REFINED_LOGITS, n)], np.int64), f"{name}/k"))
        extra.append(numpy_helper.from_array(np.array([-2], np.int64), f"{name}/row_axis"))
        extra.append(numpy_helper.from_array(np.array([-1], np.int64), f"{name}/sum_axis"))
        top, rows, column, products, exact = (f"{name}/{part}" for part in ("top", "rows", "h", "products", "exact"))
        new_nodes.extend(
            [
                helper.make_node("TopK", [approx, f"{name}/k"], [f"{top}_values", top], name=top, axis=-1),
                gather_8_bit(table, top, rows),
                helper.make_node("Unsqueeze", [node.input[0], f"{name}/row_axis"], [column], name=column),
                helper.make_node("Mul", [rows, column], [products], name=products),
                helper.make_node("ReduceSum", [products, f"{name}/sum_axis"], [exact], name=exact, keepdims=0),
                helper.make_node("ScatterElements", [approx, top, exact], [node.output[0]], name=name, axis=-1),
            ]
        )
        tables.append((table, levels8, scales8))

    for node in graph.node:
        output = node.output[0]
        name = node.name or output
        if output in eight_bit and output in graph_outputs:
            refined_projection(node, name, *eight_bit[output])
            continue
        if output in eight_bit:
            levels8, scales8 = eight_bit[output]
            zero_points8 = np.full(scales8.size, 128, dtype=np.uint8)
            matmul_nbits(
                node.input[0],
                f"{name}/q8_0",
                output,
                {"levels": levels8, "scales": scales8.reshape(-1), "zero_points": zero_points8},
                bits=8,
            )
            continue
        if output not in found:
            new_nodes.append(node)
            continue
        q, d, zero, leftover = found[output]
        blocks = d.shape[1]
        width = -(-blocks // BLOCK) * BLOCK
        source = node.input[0]
        scale = block_scale[source]
        if source not in augmented:
            sums = f"{source}/inkwell_block_sums"
            ones = np.zeros((width, blocks, BLOCK), dtype=np.uint8)
            ones[np.arange(blocks), np.arange(blocks), :] = 1  # output t sums block t
            sum_scales = np.ones((width, blocks), dtype=np.float32)
            sum_scales[:blocks] = scale[:, None]
            zero_levels = np.zeros(width * ((blocks + 1) // 2), dtype=np.uint8)
            matmul_nbits(
                source,
                sums,
                sums,
                {"levels": pack_nibbles(ones), "scales": sum_scales.reshape(-1), "zero_points": zero_levels},
                bits=4,
                level=1,  # fp32: exact sums, and ~3% faster a token than rounding x to 8 bits first
            )
            augmented[source] = f"{source}/inkwell_augmented"
            new_nodes.append(helper.make_node("Concat", [source, sums], [augmented[source]], axis=-1))
        rows, row_scales = leftover_rows(leftover / scale, width)
        levels = np.concatenate([q, rows], axis=1)
        zero_points = np.concatenate([zero.astype(np.uint8), np.full(rows.shape[:2], 8, np.uint8)], axis=1)
        matmul_nbits(
            augmented[source],
            f"{name}/q4_1",
            output,
            {
                "levels": pack_nibbles(levels),
                "scales": np.concatenate([d, row_scales], axis=1).reshape(-1),
                "zero_points": pack_zero_points(zero_points),
            },
            bits=4,
        )
    _share_embedding_table(graph, new_nodes, tables)
    graph.initializer.extend(extra)
    replace_nodes(model, new_nodes)
    log.info("Kept %d Q4_1 and %d Q8_0 matrices on their GGUF grids", len(found), len(eight_bit))
    return len(found), len(eight_bit)


def gather_8_bit(table: str, indices: str, output: str) -> Any:
    """Rows of an 8-bit table (levels `table`, scales `table`.scales, zero point 128)."""
    from onnx import helper

    return helper.make_node(
        "GatherBlockQuantized",
        [table, indices, f"{table}.scales"],
        [output],
        name=output,
        domain=MS_DOMAIN,
        bits=8,
        block_size=BLOCK,
        gather_axis=0,
        quantize_axis=1,
    )


def _share_embedding_table(graph: Any, nodes: list[Any], tables: list[tuple[str, np.ndarray, np.ndarray]]) -> None:
    """Let a token embedding read the output projection's 8-bit table when it holds the same
    weights (a tied model): exact, and no second copy of the largest matrix."""
    from onnx import numpy_helper

    weights_by_name = initializers(graph)
    for index, node in enumerate(nodes):
        if node.op_type != "Gather" or node.input[0] not in weights_by_name:
            continue
        embedding = numpy_helper.to_array(weights_by_name[node.input[0]])
        if embedding.ndim != 2 or (grid := recover_q8_0(embedding.T)) is None:
            continue
        for table, levels, scales in tables:
            if np.array_equal(grid[0], levels) and np.allclose(grid[1], scales, rtol=1e-6, atol=0):
                nodes[index] = gather_8_bit(table, node.input[1], node.output[0])
                break
