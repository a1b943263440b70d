// Many input rows at once (a prompt's chunk) on Q4_K, Q5_K and Q6_K: each task's 16 weight
// rows repacked so that a product needs fewer multiplies.
//
// In the file's layout a register holds 32 weights of one row, and each input row's product
// with them needs two multiplies (maddubs for the products, madd to apply the sub-block's
// scale and widen), on what is, on Zen 2 as on most AVX2 CPUs, the one vector-multiply
// pipe. Here a task first unpacks its rows to one byte a level and interleaves them four
// at a time: a register holds 8 consecutive levels of each of four rows, and an input row's
// matching 8 values are broadcast across the four. The maddubs of a whole sub-block then
// add up in 16 bits (four of them for a Q4_K/Q5_K sub-block of 32, two for Q6_K's of 16)
// before one madd applies the four rows' scales: 5 (Q6_K: 6) multiplies for 128 products
// where the plain kernel (ggml_kernels.cpp) needs 8. The offsets (Q4_K/Q5_K's mins, Q6_K's
// −32) are a small float product of each sub-block's offset with the input's sum over it.
// The unpacking is paid once per call for every input row, so it is used from
// kRepackInputs rows on (ggml_ops.cpp); the arithmetic is llama.cpp's, on the same 8-bit
// input, up to the order of float additions.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "ggml_kernels.h"
#include "ggml_simd.h"

namespace inkwell {

#ifdef INKWELL_X86
namespace {

constexpr int kGroup = 4;      // rows interleaved in one register
constexpr int kChunks = 8;     // 32-weight chunks of a block
constexpr int kRowsAtATime = 6;  // input rows of the offsets' float product at once

int sub_weights(int64_t type) { return type == kQ6K ? 16 : (type == kQ4K || type == kQ5K) ? 32 : 0; }

template <typename T>
T* aligned(std::vector<uint8_t>& storage, size_t count) {
    storage.resize(count * sizeof(T) + 32);
    const auto at = (reinterpret_cast<uintptr_t>(storage.data()) + 31) & ~uintptr_t{31};
    return reinterpret_cast<T*>(at);
}

// -- repacking -------------------------------------------------------------------------

// The 32 levels of chunk c (weights 32c..32c+31) of one block, one byte each.
AVX2 __m256i chunk_levels(int64_t type, const uint8_t* b, int c) {
    const __m256i low = _mm256_set1_epi8(0xF);
    if (type == kQ6K) {  // ql [128], qh [64]: weights 128h + 32k + l
        const int half = c / 4, k = c % 4;
        const __m256i l = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 64 * half + 32 * (k & 1)));
        const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 128 + 32 * half));
        const __m256i nibble = k < 2 ? _mm256_and_si256(l, low) : _mm256_and_si256(_mm256_srli_epi16(l, 4), low);
        const __m256i top = _mm256_and_si256(_mm256_srl_epi16(h, _mm_cvtsi32_si128(2 * k)), _mm256_set1_epi8(3));
        return _mm256_or_si256(nibble, _mm256_slli_epi16(top, 4));
    }
    const bool five = type == kQ5K;
    const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + (five ? 48 : 16) + 32 * (c / 2)));
    __m256i levels = c % 2 ? _mm256_and_si256(_mm256_srli_epi16(q, 4), low) : _mm256_and_si256(q, low);
    if (five) {  // bit c of each qh byte is the fifth bit of chunk c's level
        const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16));
        const __m256i bit = _mm256_and_si256(_mm256_srl_epi16(qh, _mm_cvtsi32_si128(c)), _mm256_set1_epi8(1));
        levels = _mm256_or_si256(levels, _mm256_slli_epi16(bit, 4));
    }
    return levels;
}

// The scales (ints) and offsets (floats, per unit of the input's sum) of one block's
// sub-blocks, and its d.
void block_scales(int64_t type, const uint8_t* b, int16_t* scales, float* offsets, float* d) {
    if (type == kQ6K) {
        const auto* sc = reinterpret_cast<const int8_t*>(b + 192);
        *d = half_to_float(b + 208);
        for (int s = 0; s < 16; ++s) {
            scales[s] = sc[s];
            offsets[s] = -32.f * *d * sc[s];
        }
        return;
    }
    *d = half_to_float(b);
    const float dmin = half_to_float(b + 2);
    uint8_t sc[8], m[8];
    scales_and_mins(b + 4, sc, m);
    for (int s = 0; s < 8; ++s) {
        scales[s] = sc[s];
        offsets[s] = -dmin * static_cast<float>(m[s]);
    }
}

struct Packed {
    const __m256i* levels;  // [group][block][chunk][4]: register q = levels 8q..8q+7 of rows 0-3
    const __m256i* scales;  // [group][block][sub]: 16-bit lanes 4j..4j+3 = row j's scale
    const float* d;         // [group][block][8]: lanes 2j, 2j+1 = row j's d
    const float* offsets;   // [block · subs + sub][16 rows]
};

AVX2 Packed repack(int64_t type, const uint8_t* rows, size_t row_bytes, int cols, int64_t blocks) {
    thread_local std::vector<uint8_t> level_store, scale_store, d_store, offset_store;
    const int subs = kSuperBlock / sub_weights(type);
    const size_t size = block_bytes(type);
    const int64_t groups = kPanelRows / kGroup;
    auto* levels = aligned<__m256i>(level_store, static_cast<size_t>(groups * blocks * kChunks * 4));
    auto* scales = aligned<int16_t>(scale_store, static_cast<size_t>(groups * blocks * subs * 16));
    auto* d = aligned<float>(d_store, static_cast<size_t>(groups * blocks * 8));
    auto* offsets = aligned<float>(offset_store, static_cast<size_t>(blocks * subs * kPanelRows));
    for (int64_t g = 0; g < groups; ++g) {
        for (int64_t i = 0; i < blocks; ++i) {
            const int64_t at = g * blocks + i;
            __m256i v[kGroup];
            for (int c = 0; c < kChunks; ++c) {
                for (int j = 0; j < kGroup; ++j) {
                    const int64_t row = g * kGroup + j;
                    v[j] = row < cols ? chunk_levels(type, rows + row * row_bytes + i * size, c) : _mm256_setzero_si256();
                }
                // a 4x4 transpose of 8-byte words: register q takes word q of each row
                const __m256i t0 = _mm256_unpacklo_epi64(v[0], v[1]), t1 = _mm256_unpackhi_epi64(v[0], v[1]);
                const __m256i t2 = _mm256_unpacklo_epi64(v[2], v[3]), t3 = _mm256_unpackhi_epi64(v[2], v[3]);
                __m256i* out = levels + (at * kChunks + c) * 4;
                _mm256_store_si256(out, _mm256_permute2x128_si256(t0, t2, 0x20));
                _mm256_store_si256(out + 1, _mm256_permute2x128_si256(t1, t3, 0x20));
                _mm256_store_si256(out + 2, _mm256_permute2x128_si256(t0, t2, 0x31));
                _mm256_store_si256(out + 3, _mm256_permute2x128_si256(t1, t3, 0x31));
            }
            int16_t* block_scale = scales + at * subs * 16;
            float* block_d = d + at * 8;
            for (int j = 0; j < kGroup; ++j) {
                const int64_t row = g * kGroup + j;
                int16_t sc[16] = {};
                float off[16] = {}, dj = 0;
                if (row < cols) block_scales(type, rows + row * row_bytes + i * size, sc, off, &dj);
                for (int s = 0; s < subs; ++s) {
                    for (int lane = 0; lane < 4; ++lane) block_scale[s * 16 + 4 * j + lane] = sc[s];
                    offsets[(i * subs + s) * kPanelRows + row] = off[s];
                }
                block_d[2 * j] = block_d[2 * j + 1] = dj;
            }
        }
    }
    return {levels, reinterpret_cast<const __m256i*>(scales), d, offsets};
}

// -- products ----------------------------------------------------------------------------

AVX2 inline __m256i broadcast8(const int8_t* p) {
    int64_t word;
    std::memcpy(&word, p, 8);
    return _mm256_set1_epi64x(word);
}

// y[r][0..cols) += one group's four rows times input rows x[r], for r < R.
template <int SUB, int R>
AVX2 void group_rows(const Packed& packed, int64_t g, int64_t blocks, const BlockQ8K* const* x, float* const* y,
                     int cols) {
    constexpr int subs = kSuperBlock / SUB;
    __m256 acc[R];
    INKWELL_UNROLL for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < blocks; ++i) {
        const int64_t at = g * blocks + i;
        __m256i sumi[R];
        INKWELL_UNROLL for (int r = 0; r < R; ++r) sumi[r] = _mm256_setzero_si256();
        for (int c = 0; c < kChunks; ++c) {
            const __m256i* w = packed.levels + (at * kChunks + c) * 4;
            const __m256i w0 = _mm256_load_si256(w), w1 = _mm256_load_si256(w + 1);
            const __m256i w2 = _mm256_load_si256(w + 2), w3 = _mm256_load_si256(w + 3);
            const __m256i* sc = packed.scales + at * subs + c * (32 / SUB);
            INKWELL_UNROLL for (int r = 0; r < R; ++r) {
                const int8_t* q = x[r][i].qs + 32 * c;
                const __m256i p0 = _mm256_maddubs_epi16(w0, broadcast8(q));
                const __m256i p1 = _mm256_maddubs_epi16(w1, broadcast8(q + 8));
                const __m256i p2 = _mm256_maddubs_epi16(w2, broadcast8(q + 16));
                const __m256i p3 = _mm256_maddubs_epi16(w3, broadcast8(q + 24));
                if (SUB == 32) {  // |sum| ≤ 4 · 2 · 31 · 127 < 2^15
                    const __m256i sum = _mm256_add_epi16(_mm256_add_epi16(p0, p1), _mm256_add_epi16(p2, p3));
                    sumi[r] = _mm256_add_epi32(sumi[r], _mm256_madd_epi16(sum, _mm256_load_si256(sc)));
                } else {  // two sub-blocks of 16: |sum| ≤ 2 · 2 · 63 · 127 < 2^15
                    const __m256i first = _mm256_madd_epi16(_mm256_add_epi16(p0, p1), _mm256_load_si256(sc));
                    const __m256i second = _mm256_madd_epi16(_mm256_add_epi16(p2, p3), _mm256_load_si256(sc + 1));
                    sumi[r] = _mm256_add_epi32(sumi[r], _mm256_add_epi32(first, second));
                }
            }
        }
        const __m256 d = _mm256_load_ps(packed.d + at * 8);
        INKWELL_UNROLL for (int r = 0; r < R; ++r)
            acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sumi[r]), _mm256_mul_ps(d, _mm256_set1_ps(x[r][i].d)), acc[r]);
    }
    INKWELL_UNROLL for (int r = 0; r < R; ++r) {
        // lanes 2j and 2j+1 are row j's: pairwise sums give rows 0, 1 (low half) and 2, 3 (high)
        alignas(32) float pairs[8];
        _mm256_store_ps(pairs, _mm256_hadd_ps(acc[r], acc[r]));
        const float rows[kGroup] = {pairs[0], pairs[1], pairs[4], pairs[5]};
        for (int j = 0; j < std::min(cols, kGroup); ++j) y[r][j] += rows[j];
    }
}

// y[r][0..cols) = a[r] · panel for r < R (panel: depth × 16 floats): the offsets' part.
template <int R>
AVX2 void panel_rows(const float* a, int64_t lda, const float* panel, int64_t depth, float* y, int64_t ldy, int cols) {
    __m256 left[R], right[R];
    INKWELL_UNROLL for (int r = 0; r < R; ++r) left[r] = right[r] = _mm256_setzero_ps();
    for (int64_t k = 0; k < depth; ++k) {
        const __m256 b0 = _mm256_load_ps(panel + kPanelRows * k), b1 = _mm256_load_ps(panel + kPanelRows * k + 8);
        INKWELL_UNROLL for (int r = 0; r < R; ++r) {
            const __m256 v = _mm256_broadcast_ss(a + r * lda + k);
            left[r] = _mm256_fmadd_ps(v, b0, left[r]);
            right[r] = _mm256_fmadd_ps(v, b1, right[r]);
        }
    }
    INKWELL_UNROLL for (int r = 0; r < R; ++r) {
        alignas(32) float sums[kPanelRows];
        _mm256_store_ps(sums, left[r]);
        _mm256_store_ps(sums + 8, right[r]);
        std::memcpy(y + r * ldy, sums, static_cast<size_t>(cols) * sizeof(float));
    }
}

template <int SUB>
AVX2 void multiply_packed(const Packed& packed, int cols, const BlockQ8K* x, const float* sums, int64_t m,
                          int64_t blocks, float* y, int64_t ldy) {
    const int64_t depth = blocks * (kSuperBlock / SUB);
    in_groups_of<kRowsAtATime>(m, [&](auto rows, int64_t first) {
        panel_rows<decltype(rows)::value>(sums + first * depth, depth, packed.offsets, depth, y + first * ldy, ldy,
                                          cols);
    });
    const int64_t groups = (cols + kGroup - 1) / kGroup;
    in_groups_of<kRowsAtOnce>(m, [&](auto rows, int64_t first) {
        constexpr int R = decltype(rows)::value;
        const BlockQ8K* inputs[R];
        for (int r = 0; r < R; ++r) inputs[r] = x + (first + r) * blocks;
        for (int64_t g = 0; g < groups; ++g) {
            float* outputs[R];
            for (int r = 0; r < R; ++r) outputs[r] = y + (first + r) * ldy + g * kGroup;
            group_rows<SUB, R>(packed, g, blocks, inputs, outputs, static_cast<int>(cols - g * kGroup));
        }
    });
}

}  // namespace

int repacked_sub_block(int64_t type) { return using_avx2() ? sub_weights(type) : 0; }

AVX2 void input_sums(int64_t type, const BlockQ8K* x, int64_t blocks, float* sums) {
    const int per = sub_weights(type) / 16;  // sums of 16 in each sub-block
    for (int64_t i = 0; i < blocks; ++i)
        for (int s = 0; s < 16 / per; ++s) {
            int total = 0;
            for (int p = 0; p < per; ++p) total += x[i].bsums[s * per + p];
            *sums++ = x[i].d * static_cast<float>(total);
        }
}

AVX2 void multiply_repacked(int64_t type, const uint8_t* rows, size_t row_bytes, int cols, const BlockQ8K* x,
                            const float* sums, int64_t m, int64_t blocks, float* y, int64_t ldy) {
    const Packed packed = repack(type, rows, row_bytes, cols, blocks);
    if (sub_weights(type) == 16)
        multiply_packed<16>(packed, cols, x, sums, m, blocks, y, ldy);
    else
        multiply_packed<32>(packed, cols, x, sums, m, blocks, y, ldy);
}
#else
int repacked_sub_block(int64_t) { return 0; }
void input_sums(int64_t, const BlockQ8K*, int64_t, float*) {}
void multiply_repacked(int64_t, const uint8_t*, size_t, int, const BlockQ8K*, const float*, int64_t, int64_t, float*,
                       int64_t) {}
#endif

}  // namespace inkwell
