// F16 and BF16 matrices read as the file holds them, two bytes a weight, in "blocks" of 32
// weights (64 bytes) so that they share GgmlMatMul's and GgmlGather's row arithmetic.
// llama.cpp rounds the input of an F16 product to fp16 and of a BF16 product to bf16 (their
// vec_dot_type), then multiplies and adds in fp32: the same here, the rounded input kept as
// fp32 values so that a product converts only its weights. A row's sum is taken in the same
// order whatever other input rows come with it (two running sums of eight lanes, even and
// odd groups of eight weights), so a checked row has a decoded row's bits.
#include <cmath>
#include <cstring>

#include "ggml_kernels.h"

#include "ggml_simd.h"

namespace inkwell {
namespace {

constexpr int kBlock = 32;

float bf16_to_float(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    const uint32_t bits = static_cast<uint32_t>(h) << 16;
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}

// As ggml_compute_fp32_to_bf16: a NaN stays a (quiet) NaN, anything else rounds to the
// nearest bf16, ties to even.
float round_to_bf16(float f) {
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    if ((bits & 0x7fffffffu) > 0x7f800000u)
        bits |= 0x00400000u;
    else
        bits += 0x7fffu + ((bits >> 16) & 1u);
    bits &= 0xffff0000u;
    std::memcpy(&f, &bits, 4);
    return f;
}

float weight(int64_t type, const uint8_t* p) { return type == kF16 ? half_to_float(p) : bf16_to_float(p); }

// The portable sum: the same two running sums of eight lanes as the AVX2 kernel keeps.
float dot_plain(int64_t type, const uint8_t* row, const float* x, int64_t k) {
    float lanes[2][8] = {};
    for (int64_t j = 0; j < k; j += 8) {
        float* sum = lanes[(j / 8) % 2];
        for (int l = 0; l < 8; ++l) sum[l] = std::fma(weight(type, row + 2 * (j + l)), x[j + l], sum[l]);
    }
    float total[8];
    for (int l = 0; l < 8; ++l) total[l] = lanes[0][l] + lanes[1][l];
    // horizontal_sum's order: the two halves, then pairs, then the last two.
    float four[4];
    for (int l = 0; l < 4; ++l) four[l] = total[l] + total[l + 4];
    return (four[0] + four[2]) + (four[1] + four[3]);
}

#ifdef INKWELL_X86
template <int64_t TYPE>
AVX2 inline __m256 eight_weights(const uint8_t* p) {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    if constexpr (TYPE == kF16) return _mm256_cvtph_ps(h);
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}

template <int64_t TYPE, int R>
AVX2 void dot_columns_avx2(const uint8_t* rows, size_t row_bytes, int64_t cols, const float* const* x, int64_t k,
                           float* y, int64_t ldy) {
    for (int64_t c = 0; c < cols; ++c) {
        const uint8_t* row = rows + c * row_bytes;
        __m256 even[R], odd[R];
        INKWELL_UNROLL
        for (int r = 0; r < R; ++r) even[r] = odd[r] = _mm256_setzero_ps();
        for (int64_t j = 0; j < k; j += 16) {
            if (j % kBlock == 0) _mm_prefetch(reinterpret_cast<const char*>(row + 2 * j + kAhead), _MM_HINT_T0);
            const __m256 w0 = eight_weights<TYPE>(row + 2 * j), w1 = eight_weights<TYPE>(row + 2 * j + 16);
            INKWELL_UNROLL
            for (int r = 0; r < R; ++r) {
                even[r] = _mm256_fmadd_ps(w0, _mm256_loadu_ps(x[r] + j), even[r]);
                odd[r] = _mm256_fmadd_ps(w1, _mm256_loadu_ps(x[r] + j + 8), odd[r]);
            }
        }
        INKWELL_UNROLL
        for (int r = 0; r < R; ++r) y[r * ldy + c] = horizontal_sum(_mm256_add_ps(even[r], odd[r]));
    }
}

AVX2 void round_half_avx2(const float* x, float* y, int64_t k) {
    for (int64_t j = 0; j < k; j += 8)
        _mm256_storeu_ps(y + j, _mm256_cvtph_ps(_mm256_cvtps_ph(_mm256_loadu_ps(x + j), _MM_FROUND_TO_NEAREST_INT)));
}
#endif

}  // namespace

bool is_float_type(int64_t type) { return type == kF16 || type == kBF16; }

void round_input_float(int64_t type, const float* x, float* y, int64_t k) {
#ifdef INKWELL_X86
    if (type == kF16 && using_avx2()) {
        round_half_avx2(x, y, k);
        return;
    }
#endif
    for (int64_t j = 0; j < k; ++j) y[j] = type == kF16 ? round_to_half(x[j]) : round_to_bf16(x[j]);
}

void dot_rows_float(int64_t type, const uint8_t* rows, size_t row_bytes, int64_t cols, const float* const* x,
                    int count, int64_t k, float* y, int64_t ldy) {
#ifdef INKWELL_X86
    if (using_avx2()) {
        in_groups_of<kRowsAtOnce>(count, [&](auto group, int64_t r) {
            constexpr int R = decltype(group)::value;
            if (type == kF16)
                dot_columns_avx2<kF16, R>(rows, row_bytes, cols, x + r, k, y + r * ldy, ldy);
            else
                dot_columns_avx2<kBF16, R>(rows, row_bytes, cols, x + r, k, y + r * ldy, ldy);
        });
        return;
    }
#endif
    for (int64_t c = 0; c < cols; ++c)
        for (int r = 0; r < count; ++r) y[r * ldy + c] = dot_plain(type, rows + c * row_bytes, x[r], k);
}

void dequantize_row_float(int64_t type, const uint8_t* row, float* out, int64_t k) {
    for (int64_t j = 0; j < k; ++j) out[j] = weight(type, row + 2 * j);
}

}  // namespace inkwell
