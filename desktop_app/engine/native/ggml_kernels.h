// Products and row lookups on GGUF's own block layouts (Q4_K, Q5_K, Q6_K).
//
// A matrix keeps its file's bytes: each row of N is K/256 blocks, exactly as llama.cpp
// stores and reads them (ggml-common.h's block_q4_K, block_q5_K, block_q6_K). The input is
// rounded as llama.cpp rounds it for these types (8 bits, one float scale per 256 values,
// with the sums of each 16), and each output is the integer dot product of the two,
// scaled: the same arithmetic, so the same numbers up to the order of float additions.
// A decoded token reads 4.5 bits a weight from Q4_K where ONNX Runtime's MatMulNBits
// reads 6 (bench/RESULTS.md), which is where its decoding falls behind on large models.
#pragma once

#include <cstddef>
#include <cstdint>

namespace inkwell {

constexpr int kSuperBlock = 256;

// The GGML type numbers (ggml.h's enum ggml_type) of the layouts held here.
enum GgmlType : int64_t { kQ4K = 12, kQ5K = 13, kQ6K = 14 };

struct BlockQ8K {
    float d;
    int8_t qs[kSuperBlock];
    int16_t bsums[kSuperBlock / 16];
};

// Bytes of one block of 256 weights, or 0 when the type is not held here.
size_t block_bytes(int64_t type);

// x [k] rounded to k/256 blocks.
void quantize_row(const float* x, BlockQ8K* y, int64_t k);

// The dot product of one weight row (k/256 blocks of `type`) with a rounded input row.
float dot_row(int64_t type, const uint8_t* row, const BlockQ8K* x, int64_t blocks);

// The same for `count` rounded input rows x[0..count) at once (out[r] for x[r]): the
// weight row's blocks are unpacked once for kRowsAtOnce inputs.
constexpr int kRowsAtOnce = 4;
void dot_rows(int64_t type, const uint8_t* row, const BlockQ8K* const* x, int count, int64_t blocks, float* out);

// The weights of one row as floats (k values).
void dequantize_row(int64_t type, const uint8_t* row, float* out, int64_t k);

// Whether the AVX2 kernels are in use (the CPU has AVX2, FMA and F16C).
bool using_avx2();

}  // namespace inkwell
