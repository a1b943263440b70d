"""Experiment: the exact Q4_1 graph with each block's offset folded into the same MatMulNBits.

The variant this found (1 round of leftover offsets after integer zero points, block sums
by MatMulNBits, the output projection at Q8_0) is what desktop_app/models/gguf_exact.py
now builds for q4; this script keeps the other settings that were measured.

bench/exact_q4.py keeps the GGUF's Q4_1 weights exactly (zero points 0) and adds the
offsets back with one fp32 MatMul and one Add per matrix: exact, but its ~630 extra nodes
cost the speed margin. Here the offsets ride inside the matrix itself. For an input x of
width K (K/32 blocks) the node reads [x, s, s, …] instead of x, where s holds the block sums
of x, and the weight matrix gains rows holding the offsets:

    x · W = [x, s, s] · [d·q ; D1 ; D2]    (D1 + D2 ≈ M, the offsets, to 1/200 of their range)

The offsets cannot sit on one 4-bit grid, so they are stored as `digits` residual rounds
(each round 4 bits with its own scale per column; every round cuts the error ~14x). The
block sums are made once per input (shared by q/k/v and by gate/up), either by a small
4-bit MatMulNBits of 0/1 weights or by Reshape + ReduceSum, then one Concat.

    python bench/folded_q4.py [digits] [sums: nbits|reduce] [speed]
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_engine import bench_models_dir  # noqa: E402

from desktop_app.models.gguf_exact import BLOCK, pack_nibbles, recover_q4_1, recover_q8_0  # noqa: E402
from desktop_app.models.onnx_tools import ACCURACY_LEVEL, remove_unused  # noqa: E402


def offset_digits(m: np.ndarray, digits: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offsets M [N, nb] as `digits` residual 4-bit rounds, each `width` (a multiple of 32) wide.

    Returns q [N, digits*width/32, 32] (0..15, zero point 8), scales [N, digits*width/32] and
    the reconstruction error [N, nb].
    """
    n, nb = m.shape
    padded = np.zeros((n, width), dtype=np.float64)
    padded[:, :nb] = m
    residual = padded.reshape(n, width // BLOCK, BLOCK)
    qs, scales = [], []
    for _ in range(digits):
        scale = np.abs(residual).max(axis=2) / 7.0
        safe = np.where(scale == 0, 1.0, scale)
        q = np.clip(np.rint(residual / safe[..., None]), -8, 7)
        residual = residual - q * scale[..., None]
        qs.append((q + 8).astype(np.uint8))
        scales.append(scale.astype(np.float32))
    error = residual.reshape(n, width)[:, :nb]
    return np.concatenate(qs, axis=1), np.concatenate(scales, axis=1), error


def folded_graph(
    model: Any,
    digits: int = 2,
    sums: str = "nbits",
    normalise: bool = True,
    integer_zero_points: bool = True,
    output_bits: int = 8,
    unfolded: tuple[str, ...] = (),
    unfolded_as: str = "q8",
) -> tuple[Any, dict[str, float]]:
    """Rewrite the Q4_1 and Q8_0 MatMuls of the fp32 graph; (model, stats)."""
    import onnx
    from onnx import helper, numpy_helper

    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    recovered: dict[str, tuple] = {}
    for node in graph.node:
        if node.op_type == "MatMul" and node.input[1] in inits:
            w = numpy_helper.to_array(inits[node.input[1]])
            q4 = recover_q4_1(w)
            if q4 is not None:
                q, d, m = q4
                # Integer zero points carry the nearest multiple of d; only the rest (at
                # most d/2 when the block spans zero) is left for the offset rows.
                safe = np.where(d == 0, 1.0, d)
                zero = np.clip(np.rint(-m / safe), 0, 15) if integer_zero_points else np.zeros_like(m)
                recovered[node.name] = ("q4", w.shape, (q, d, (m + zero * d).astype(np.float32), zero))
            elif output_bits == 8 and (q8 := recover_q8_0(w)) is not None:
                recovered[node.name] = ("q8", w.shape, q8)
    # One scale per block of each input, so the offsets that share an input are of one size
    # before they are rounded: the RMS over all columns that read the input.
    block_scale: dict[str, np.ndarray] = {}
    for node in graph.node:
        if node.name in recovered and recovered[node.name][0] == "q4":
            m = recovered[node.name][2][2].astype(np.float64)
            block_scale.setdefault(node.input[0], []).append(m)  # type: ignore[arg-type]
    for source, ms in list(block_scale.items()):
        joined = np.concatenate(ms, axis=0)  # [columns, blocks]
        block_scale[source] = np.sqrt((joined**2).mean(axis=0)) if normalise else np.ones(joined.shape[1])
    new_nodes, extra, augmented = [], [], {}
    worst = 0.0

    def add(name: str, value: np.ndarray) -> str:
        extra.append(numpy_helper.from_array(value, name))
        return name

    for node in graph.node:
        if node.name not in recovered:
            new_nodes.append(node)
            continue
        kind, (k, n), parts = recovered[node.name]
        name = node.name
        blocks = k // BLOCK
        if kind == "q8":
            packed, d = parts
            new_nodes.append(
                helper.make_node(
                    "MatMulNBits",
                    [
                        node.input[0],
                        add(f"{name}.q", packed),
                        add(f"{name}.s", d.reshape(-1)),
                        add(f"{name}.z", np.full((n * blocks,), 128, dtype=np.uint8)),
                    ],
                    [node.output[0]],
                    name=f"{name}_q8_0",
                    domain="com.microsoft",
                    K=k,
                    N=n,
                    bits=8,
                    block_size=BLOCK,
                    accuracy_level=ACCURACY_LEVEL,
                )
            )
            continue
        q, d, m, zero = parts
        if any(part in name for part in unfolded):
            if unfolded_as == "q8":  # 8 bits, scale d/16: q*16 exact, the offset to d/32
                q8 = q.astype(np.int32) * 16
                zp8 = np.clip(np.rint(-16 * parts[2] / np.where(d == 0, 1, d)) + 16 * zero, 0, 255)  # -(m)/(d/16)
                q8 = np.clip(q8, 0, 255).astype(np.uint8)
                new_nodes.append(
                    helper.make_node(
                        "MatMulNBits",
                        [
                            node.input[0],
                            add(f"{name}.q", q8),
                            add(f"{name}.s", (d / 16).astype(np.float32).reshape(-1)),
                            add(f"{name}.z", zp8.astype(np.uint8).reshape(-1)),
                        ],
                        [node.output[0]],
                        name=f"{name}_q8near",
                        domain="com.microsoft",
                        K=k,
                        N=n,
                        bits=8,
                        block_size=BLOCK,
                        accuracy_level=ACCURACY_LEVEL,
                    )
                )
            else:  # 4 bits, integer zero points, no offset rows: off by up to d/2 a block
                zp = zero.astype(np.uint8)
                if blocks % 2:
                    zp = np.concatenate([zp, np.zeros((n, 1), np.uint8)], axis=1)
                new_nodes.append(
                    helper.make_node(
                        "MatMulNBits",
                        [
                            node.input[0],
                            add(f"{name}.q", pack_nibbles(q)),
                            add(f"{name}.s", d.reshape(-1)),
                            add(f"{name}.z", pack_nibbles(zp).reshape(-1)),
                        ],
                        [node.output[0]],
                        name=f"{name}_plain",
                        domain="com.microsoft",
                        K=k,
                        N=n,
                        bits=4,
                        block_size=BLOCK,
                        accuracy_level=ACCURACY_LEVEL,
                    )
                )
            continue
        width = -(-blocks // BLOCK) * BLOCK  # the block sums, padded to whole blocks
        source = node.input[0]
        if source not in augmented:
            sums_name = f"{source}.block_sums"
            if sums == "nbits":  # a 0/1 matrix: column t sums block t of x (t < blocks)
                ones = np.zeros((digits * width, blocks, BLOCK), dtype=np.uint8)
                for j in range(digits):
                    for t in range(blocks):
                        ones[j * width + t, t, :] = 1
                new_nodes.append(
                    helper.make_node(
                        "MatMulNBits",
                        [
                            source,
                            add(f"{source}.sum_q", pack_nibbles(ones)),
                            add(
                                f"{source}.sum_s",
                                np.repeat(
                                    np.tile(
                                        np.pad(block_scale[source], (0, width - blocks), constant_values=1.0), digits
                                    ),
                                    blocks,
                                ).astype(np.float32),
                            ),
                            add(f"{source}.sum_z", np.zeros((digits * width * ((blocks + 1) // 2),), np.uint8)),
                        ],
                        [sums_name],
                        name=f"{source}_block_sums",
                        domain="com.microsoft",
                        K=k,
                        N=digits * width,
                        bits=4,
                        block_size=BLOCK,
                        accuracy_level=ACCURACY_LEVEL,
                    )
                )
                pieces = [source, sums_name]
            elif sums == "matmul":  # the same 0/1 matrix in fp32, one plain MatMul
                ones = np.zeros((k, digits * width), dtype=np.float32)
                scale = np.pad(block_scale[source], (0, width - blocks), constant_values=1.0)
                for j in range(digits):
                    for t in range(blocks):
                        ones[t * BLOCK : (t + 1) * BLOCK, j * width + t] = scale[t]
                new_nodes.append(
                    helper.make_node(
                        "MatMul", [source, add(f"{source}.sum_w", ones)], [sums_name], name=f"{source}_block_sums"
                    )
                )
                pieces = [source, sums_name]
            else:  # Pad x to whole rows of blocks, Reshape, ReduceSum (needs 1 digit, no scaling)
                padded_k = width * BLOCK
                pads = add(f"{source}.pads", np.array([0, 0, 0, 0, 0, padded_k - k], dtype=np.int64))
                shape = add(f"{source}.block_shape", np.array([0, 0, width, BLOCK], dtype=np.int64))
                axes = add(f"{source}.block_axes", np.array([-1], dtype=np.int64))
                new_nodes.append(helper.make_node("Pad", [source, pads], [f"{source}.padded"]))
                new_nodes.append(helper.make_node("Reshape", [f"{source}.padded", shape], [f"{source}.blocks"]))
                new_nodes.append(helper.make_node("ReduceSum", [f"{source}.blocks", axes], [sums_name], keepdims=0))
                pieces = [source, sums_name]
                block_scale[source] = np.ones_like(block_scale[source])
            new_nodes.append(helper.make_node("Concat", pieces, [f"{source}.augmented"], axis=-1))
            augmented[source] = f"{source}.augmented"
        dq, ds, error = offset_digits(m / block_scale[source], digits, width)
        error = error * block_scale[source]
        worst = max(worst, float((np.abs(error) / np.maximum(d, 1e-12)).max()))
        q_all = np.concatenate([q, dq], axis=1)  # [N, blocks + digits*width/32, 32]
        total = q_all.shape[1]
        zp = np.concatenate([zero.astype(np.uint8), np.full((n, total - blocks), 8, np.uint8)], axis=1)
        if total % 2:
            zp = np.concatenate([zp, np.zeros((n, 1), np.uint8)], axis=1)
        new_nodes.append(
            helper.make_node(
                "MatMulNBits",
                [
                    augmented[source],
                    add(f"{name}.q", pack_nibbles(q_all)),
                    add(f"{name}.s", np.concatenate([d, ds], axis=1).reshape(-1)),
                    add(f"{name}.z", pack_nibbles(zp).reshape(-1)),
                ],
                [node.output[0]],
                name=f"{name}_folded",
                domain="com.microsoft",
                K=k + digits * width,
                N=n,
                bits=4,
                block_size=BLOCK,
                accuracy_level=ACCURACY_LEVEL,
            )
        )
    del graph.node[:]
    graph.node.extend(new_nodes)
    graph.initializer.extend(extra)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(onnx.helper.make_opsetid("com.microsoft", 1))
    remove_unused(model)
    if output_bits == 4:  # what is left (the output projection, the embedding table): 4-bit RTN
        from onnxruntime.quantization import matmul_nbits_quantizer as nbits

        config = nbits.DefaultWeightOnlyQuantConfig(
            block_size=BLOCK,
            is_symmetric=True,
            accuracy_level=ACCURACY_LEVEL,
            bits=4,
            op_types_to_quantize=("MatMul", "Gather"),
            quant_axes=(("MatMul", 0), ("Gather", 1)),
        )
        sums_nodes = [n.name for n in model.graph.node if n.name.endswith("_block_sums")]
        quantizer = nbits.MatMulNBitsQuantizer(model, algo_config=config, nodes_to_exclude=sums_nodes)
        quantizer.process()
        model = quantizer.model.model
        remove_unused(model)
    q4 = sum(1 for v in recovered.values() if v[0] == "q4")
    return model, {"q4": q4, "q8": len(recovered) - q4, "worst offset error / d": worst}


def main() -> int:
    import onnx
    from quant_mix import Reference, decode_speed, measure_variant

    digits = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    sums = sys.argv[2] if len(sys.argv) > 2 else "nbits"
    normalise = "plain" not in sys.argv
    integer = "zp0" not in sys.argv
    source = bench_models_dir()
    model, stats = folded_graph(onnx.load(str(source / "model.fp32.onnx")), digits, sums, normalise, integer)
    print(f"folded, {digits} digit(s), sums by {sums}: {stats}", flush=True)
    if len(sys.argv) > 3 and sys.argv[3] == "speed":
        import tempfile

        from quant_mix import one_variant_engine

        with tempfile.TemporaryDirectory() as folder:
            engine = one_variant_engine(model, source, Path(folder))
            print([round(decode_speed(engine)) for _ in range(5)])
        return 0
    print(measure_variant(f"folded, {digits} digits, sums by {sums}", model, Reference.measure(source)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
