// Products and row lookups on GGUF's own block layouts (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0,
// Q4_K, Q5_K, Q6_K) and on its two-byte floats (F16, BF16: ggml_floats.cpp).
//
// A matrix keeps its file's bytes: each row of N is K/256 (K/32) blocks, exactly as
// llama.cpp stores and reads them (ggml-common.h's block_q4_K ... block_q8_0). The input
// is rounded as llama.cpp rounds it for each type (8 bits, with a float scale per 256
// values and the sums of each 16 for the K types; an fp16 scale per 32, and its product
// with the block's sum, for the others), and each output is the integer dot product of
// the two, scaled: the same arithmetic, so the same numbers up to the order of float
// additions.
// A decoded token reads 4.5 bits a weight from Q4_K where ONNX Runtime's MatMulNBits
// reads 6 (bench/RESULTS.md), which is where its decoding falls behind on large models.
#pragma once

#include <cstddef>
#include <cstdint>

namespace inkwell {

constexpr int kSuperBlock = 256;
constexpr int kRowsAtOnce = 4;  // input rows a weight row's unpacked blocks serve at once

// The GGML type numbers (ggml.h's enum ggml_type) of the layouts held here.
enum GgmlType : int64_t {
    kF16 = 1,
    kQ4_0 = 2,
    kQ4_1 = 3,
    kQ5_0 = 6,
    kQ5_1 = 7,
    kQ8_0 = 8,
    kQ4K = 12,
    kQ5K = 13,
    kQ6K = 14,
    kBF16 = 30
};

// An input block rounded for the K types (block_q8_K)...
struct BlockQ8K {
    float d;
    int8_t qs[kSuperBlock];
    int16_t bsums[kSuperBlock / 16];
};

// ... and for the others (block_q8_0 / block_q8_1, the fp16 values kept as floats).
struct BlockQ8x32 {
    float d;
    float s;  // d times the sum of qs, rounded to fp16 as llama.cpp keeps it
    int8_t qs[32];
    // For Q4_0 and Q5_0, whose levels are q − centre (8, 16): the centre times the sum of
    // each four values (qs[4j..4j+3]), so that the row kernel multiplies the unsigned q and
    // takes this off each of its eight sums: the same integers, with fewer instructions.
    int32_t centred[8];
    int32_t total;  // the sum of qs (the interleaved kernels take centre · total off instead)
};

// The generic entry points: weights a block holds (0 when the type is not held here),
// bytes of a weight block, and bytes of a rounded input block.
int64_t block_weights(int64_t type);
size_t block_bytes(int64_t type);
size_t rounded_block_bytes(int64_t type);

// x [k] rounded for products with `type` (k / block_weights blocks, written to y).
void round_input(int64_t type, const float* x, void* y, int64_t k);

// y[r · ldy + c] = the dot product of weight row c (`blocks` blocks of `type`, the rows
// row_bytes apart from `rows`) with the rounded input row x[r], for c < cols and r < count.
void dot_rows(int64_t type, const uint8_t* rows, size_t row_bytes, int64_t cols, const void* const* x, int count,
              int64_t blocks, float* y, int64_t ldy);

// The weights of one row as floats (k values).
void dequantize_row(int64_t type, const uint8_t* row, float* out, int64_t k);

// Long inputs on Q4_K, Q5_K and Q6_K (ggml_repacked.cpp), where the AVX2 kernels are in
// use: the weights a sub-block holds (0: not done here for this type or CPU); each input
// row's rounded blocks' sums over each sub-block, times their scale (blocks · 256 / sub
// floats); and y[i][j] = x[i] · (weight row j) for i < m, j < cols ≤ kPanelRows, the weight
// rows `row_bytes` apart, input row i at x + i · blocks, y's rows ldy apart.
constexpr int kPanelRows = 16;
int repacked_sub_block(int64_t type);
void input_sums(int64_t type, const BlockQ8K* x, int64_t blocks, float* sums);
void multiply_repacked(int64_t type, const uint8_t* rows, size_t row_bytes, int cols, const BlockQ8K* x,
                       const float* sums, int64_t m, int64_t blocks, float* y, int64_t ldy);

// Whether the AVX2 kernels are in use (the CPU has AVX2, FMA and F16C).
bool using_avx2();

// Shared by the two kernel files.
float half_to_float(const uint8_t* p);
float round_to_half(float f);  // f rounded to the nearest fp16 value (ties to even)
void scales_and_mins(const uint8_t* q, uint8_t* sc, uint8_t* m);  // a Q4_K/Q5_K block's 12 scale bytes
size_t block32_bytes(int64_t type);
void quantize_row_32(int64_t type, const float* x, BlockQ8x32* y, int64_t k);
void dot_rows_32(int64_t type, const uint8_t* rows, size_t row_bytes, int64_t cols, const BlockQ8x32* const* x,
                 int count, int64_t blocks, float* y, int64_t ldy);
// A prompt's four input rows x against one row of a 32-weight type, xs their scales as
// [block][row] (false: not done here, on this CPU).
bool dot_four_32(int64_t type, const uint8_t* row, const BlockQ8x32* const* x, const float* xs, int64_t blocks,
                 float* out);
void dequantize_row_32(int64_t type, const uint8_t* row, float* out, int64_t k);
// The 32-weight types with their rows interleaved by eights (ggml_blocks32.cpp has the
// layout; an import writes it, GgmlMatMul's and GgmlGather's `interleave` = 8 say so): the
// same blocks, so that one pass over a block of eight rows serves a whole register of
// outputs and each output's sum is finished without horizontal additions. Each input row
// gets the same arithmetic whatever rows come with it (decoding, checked guesses and
// prompts agree bit for bit).
constexpr int kInterleave = 8;
bool interleavable(int64_t type);
// y[r · ldy + c] for c < cols (a multiple of 8; `groups` at the first of them) and r < count.
void dot_groups_32(int64_t type, const uint8_t* groups, size_t row_bytes, int64_t cols, const BlockQ8x32* const* x,
                   int count, int64_t blocks, float* y, int64_t ldy);
// Row `row` of an interleaved table (rows of row_bytes) as k floats.
void dequantize_interleaved(int64_t type, const uint8_t* table, size_t row_bytes, int64_t row, float* out, int64_t k);
// F16 and BF16 (ggml_floats.cpp): the input rounded to the type and kept as k floats; the
// products of rows of k weights with such inputs.
bool is_float_type(int64_t type);
void round_input_float(int64_t type, const float* x, float* y, int64_t k);
void dot_rows_float(int64_t type, const uint8_t* rows, size_t row_bytes, int64_t cols, const float* const* x,
                    int count, int64_t k, float* y, int64_t ldy);
void dequantize_row_float(int64_t type, const uint8_t* row, float* out, int64_t k);

}  // namespace inkwell
