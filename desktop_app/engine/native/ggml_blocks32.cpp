// The 32-weight block types, from ggml-common.h (bytes of one block of 32 weights):
//   Q4_0 (18): fp16 d, qs[16]              w = d·(q − 8), q the low then high nibbles
//   Q4_1 (20): fp16 d, fp16 m, qs[16]      w = d·q + m
//   Q5_0 (22): fp16 d, qh[4], qs[16]       w = d·(q − 16), bit j of qh the fifth bit of q_j
//   Q5_1 (24): fp16 d, fp16 m, qh[4], qs[16]   w = d·q + m
//   Q8_0 (34): fp16 d, int8 qs[32]         w = d·q
// llama.cpp rounds the input for these to 8 bits a value with an fp16 scale per 32
// (block_q8_0), and for Q4_1/Q5_1 also keeps that scale times the block's sum (block_q8_1),
// which carries the offsets m: the same here.
// Interleaved by eights (kInterleave): rows 8g..8g+7 of a matrix are one group, whose bytes
// (eight rows' worth) are its blocks in order, block b of the eight rows as one unit of
// 8 · (block bytes), laid out as
//   d[8] (fp16) of rows 0, 1, 4, 5, 2, 3, 6, 7 (the order the kernel's sums come out in);
//   m[8] (Q4_1, Q5_1) in that order;
//   qh (Q5_0, Q5_1): byte j of row r's four at 8j + r;
//   qs: 32-byte runs, each the same eight bytes of four rows: for Q4_0..Q5_1 run 2h + q holds
//       rows 4q..4q+3's qs[8h..8h+7] (their low nibbles weights 8h.., high ones 16 + 8h..);
//       for Q8_0 run 2e + q holds rows 4q..4q+3's qs[8e..8e+7].
// Eight bytes of the input, broadcast, then meet a register of four rows' weights, and the
// four products of each row sum in place (no horizontal additions until the block's end,
// where one pair of registers gives the eight rows' sums). Written here from that idea (as
// llama.cpp's repacked Q4_0 kernels also do it); the layout is Inkwell's own.
#include <cmath>
#include <cstring>

#include "ggml_kernels.h"

#include "ggml_simd.h"

namespace inkwell {
namespace {

struct Layout {
    int d, m, qh, qs;  // byte offsets of the fields (m, qh: -1 when absent)
    size_t size;
};

constexpr Layout layout_of(int64_t type) {
    return type == kQ4_0   ? Layout{0, -1, -1, 2, 18}
           : type == kQ4_1 ? Layout{0, 2, -1, 4, 20}
           : type == kQ5_0 ? Layout{0, -1, 2, 6, 22}
           : type == kQ5_1 ? Layout{0, 2, 4, 8, 24}
                           : Layout{0, -1, -1, 2, 34};  // Q8_0
}

inline int centre(int64_t type) { return type == kQ4_0 ? 8 : type == kQ5_0 ? 16 : 0; }

// The 32 levels of a block as unsigned integers (Q8_0: its signed values).
void levels(int64_t type, const uint8_t* b, int* q) {
    const Layout at = layout_of(type);
    if (type == kQ8_0) {
        for (int j = 0; j < 32; ++j) q[j] = static_cast<int8_t>(b[at.qs + j]);
        return;
    }
    uint32_t qh = 0;
    if (at.qh >= 0) std::memcpy(&qh, b + at.qh, 4);
    for (int j = 0; j < 16; ++j) {
        q[j] = (b[at.qs + j] & 0xF) | (((qh >> j) & 1) << 4);
        q[j + 16] = (b[at.qs + j] >> 4) | (((qh >> (j + 16)) & 1) << 4);
    }
}

float dot_plain(int64_t type, const uint8_t* row, const BlockQ8x32* x, int64_t blocks) {
    const Layout at = layout_of(type);
    float sum = 0;
    for (int64_t i = 0; i < blocks; ++i) {
        const uint8_t* b = row + i * at.size;
        int q[32];
        levels(type, b, q);
        int32_t sumi = 0;
        for (int j = 0; j < 32; ++j) sumi += (q[j] - centre(type)) * x[i].qs[j];
        sum += half_to_float(b + at.d) * x[i].d * static_cast<float>(sumi);
        if (at.m >= 0) sum += half_to_float(b + at.m) * x[i].s;
    }
    return sum;
}

#ifdef INKWELL_X86
// Byte j of the result is 0xFF where bit j of `bits` is set, else 0.
AVX2 inline __m256i fifth_bits(uint32_t bits) {
    // each 128-bit lane of a broadcast holds the four bytes; pick byte j/8 for byte j
    const __m256i pick = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1,  //
                                          2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
    const __m256i bit = _mm256_set1_epi64x(static_cast<int64_t>(0x8040201008040201ULL));
    const __m256i spread = _mm256_shuffle_epi8(_mm256_set1_epi32(static_cast<int>(bits)), pick);
    return _mm256_cmpeq_epi8(_mm256_and_si256(spread, bit), bit);
}

// The block's 32 levels in order: unsigned (0..31) for Q4_1/Q5_1; for Q4_0/Q5_0 already
// less their centre (8, 16), as signed bytes; Q8_0's signed values as they are.
template <int64_t TYPE>
AVX2 inline __m256i block_levels(const uint8_t* b) {
    constexpr Layout at = layout_of(TYPE);
    if (TYPE == kQ8_0) return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + at.qs));
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + at.qs));
    const __m128i low = _mm_set1_epi8(0xF);
    __m256i q = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(packed, 4), low), _mm_and_si128(packed, low));
    if (TYPE == kQ4_0) return _mm256_sub_epi8(q, _mm256_set1_epi8(8));
    if (at.qh >= 0) {
        uint32_t qh;
        std::memcpy(&qh, b + at.qh, 4);
        // q − 16 = the low four bits, and 0xF0 (−16 as a byte) where the fifth bit is clear
        if (TYPE == kQ5_0) return _mm256_or_si256(q, _mm256_andnot_si256(fifth_bits(qh), _mm256_set1_epi8(-16)));
        q = _mm256_or_si256(q, _mm256_and_si256(fifth_bits(qh), _mm256_set1_epi8(0x10)));
    }
    return q;
}

// The block's 32 levels as unsigned integers: Q4_0's and Q5_0's before their centre is
// taken off (the others as block_levels gives them).
template <int64_t TYPE>
AVX2 inline __m256i unsigned_levels(const uint8_t* b) {
    if constexpr (TYPE != kQ4_0 && TYPE != kQ5_0) return block_levels<TYPE>(b);
    constexpr Layout at = layout_of(TYPE);
    const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + at.qs));
    const __m128i low = _mm_set1_epi8(0xF);
    const __m256i q = _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(packed, 4), low), _mm_and_si128(packed, low));
    if constexpr (TYPE == kQ4_0) return q;
    uint32_t qh;
    std::memcpy(&qh, b + at.qh, 4);
    return _mm256_or_si256(q, _mm256_and_si256(fifth_bits(qh), _mm256_set1_epi8(0x10)));
}

// One weight row against R input rows: the row's levels are unpacked once a block for all R.
// Q4_0 and Q5_0 multiply their unsigned levels and take the input's centred sums off each
// of the eight four-value sums: the integers the signed levels give, in three instructions
// a row fewer (the sign of each byte moved onto the input twice).
template <int64_t TYPE, int R>
AVX2 void dot_row(const uint8_t* row, const BlockQ8x32* const* x, int64_t blocks, float* out) {
    constexpr Layout at = layout_of(TYPE);
    constexpr bool centred = TYPE == kQ4_0 || TYPE == kQ5_0;
    constexpr bool is_signed = TYPE == kQ8_0;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc[R];
    float offsets[R];
    INKWELL_UNROLL for (int r = 0; r < R; ++r) {
        acc[r] = _mm256_setzero_ps();
        offsets[r] = 0;
    }
    for (int64_t i = 0; i < blocks; ++i) {
        const uint8_t* b = row + i * at.size;
        prefetch(b + kAhead, 1);  // a block is under a line
        const float d = half_avx2(b + at.d);
        const __m256i q = unsigned_levels<TYPE>(b);
        const __m256i magnitude = is_signed ? _mm256_sign_epi8(q, q) : q;  // |q|; the input takes q's sign
        INKWELL_UNROLL for (int r = 0; r < R; ++r) {
            __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[r][i].qs));
            if (is_signed) y = _mm256_sign_epi8(y, q);
            __m256i sums = _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, y), ones);
            if (centred)
                sums = _mm256_sub_epi32(sums, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[r][i].centred)));
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * x[r][i].d), _mm256_cvtepi32_ps(sums), acc[r]);
            if (at.m >= 0) offsets[r] += half_avx2(b + at.m) * x[r][i].s;
        }
    }
    INKWELL_UNROLL for (int r = 0; r < R; ++r) out[r] = horizontal_sum(acc[r]) + offsets[r];
}

// y[r · ldy + c] for c < cols, the loop over weight rows here rather than a call a row
// (SmolLM2's rows are 18 blocks: a call's setup was a tenth of its work). Two weight rows a
// pass were faster from the cache and slower from DRAM.
template <int64_t TYPE, int R>
AVX2 void dot_columns_avx2(const uint8_t* rows, size_t row_bytes, int64_t cols, const BlockQ8x32* const* x,
                           int64_t blocks, float* y, int64_t ldy) {
    float out[R];
    for (int64_t c = 0; c < cols; ++c) {
        dot_row<TYPE, R>(rows + c * row_bytes, x, blocks, out);
        INKWELL_UNROLL for (int r = 0; r < R; ++r) y[r * ldy + c] = out[r];
    }
}

template <int R>
AVX2 void dot_columns_avx2(int64_t type, const uint8_t* rows, size_t row_bytes, int64_t cols,
                           const BlockQ8x32* const* x, int64_t blocks, float* y, int64_t ldy) {
    switch (type) {
        case kQ4_0: return dot_columns_avx2<kQ4_0, R>(rows, row_bytes, cols, x, blocks, y, ldy);
        case kQ4_1: return dot_columns_avx2<kQ4_1, R>(rows, row_bytes, cols, x, blocks, y, ldy);
        case kQ5_0: return dot_columns_avx2<kQ5_0, R>(rows, row_bytes, cols, x, blocks, y, ldy);
        case kQ5_1: return dot_columns_avx2<kQ5_1, R>(rows, row_bytes, cols, x, blocks, y, ldy);
        default: return dot_columns_avx2<kQ8_0, R>(rows, row_bytes, cols, x, blocks, y, ldy);
    }
}

// Four input rows of a prompt against one weight row, the four sums of a block reduced into
// one register before they are scaled: one conversion and one multiply-add a block instead
// of four, the rows' input scales read as one vector (xs: [block][row]). A 256-row prompt
// chunk on a 1,536 x 2,048 Q8_0 matrix: 17.2 -> 14.6 ms (Q4_0, Q5_0: 13-15% less). The
// float additions fall in another order than dot_row's, so this serves prompts only
// (decoding and checked guesses keep dot_row, whose rows agree bit for bit).
template <int64_t TYPE>
AVX2 void dot_row_four(const uint8_t* row, const BlockQ8x32* const* x, const float* xs, int64_t blocks, float* out) {
    constexpr Layout at = layout_of(TYPE);
    constexpr bool is_signed = TYPE == kQ4_0 || TYPE == kQ5_0 || TYPE == kQ8_0;
    const __m256i ones = _mm256_set1_epi16(1);
    __m256 acc = _mm256_setzero_ps();
    float offsets[4] = {0, 0, 0, 0};
    for (int64_t i = 0; i < blocks; ++i) {
        const uint8_t* b = row + i * at.size;
        const __m256i q = block_levels<TYPE>(b);
        const __m256i magnitude = is_signed ? _mm256_sign_epi8(q, q) : q;
        __m256i sums[4];
        INKWELL_UNROLL for (int r = 0; r < 4; ++r) {
            __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[r][i].qs));
            if (is_signed) y = _mm256_sign_epi8(y, q);
            sums[r] = _mm256_madd_epi16(_mm256_maddubs_epi16(magnitude, y), ones);
        }
        // each 128-bit lane: the four rows' sums over that lane's half of the block
        const __m256i four = _mm256_hadd_epi32(_mm256_hadd_epi32(sums[0], sums[1]), _mm256_hadd_epi32(sums[2], sums[3]));
        const __m256 scale = _mm256_mul_ps(_mm256_set1_ps(half_avx2(b + at.d)),
                                           _mm256_broadcast_ps(reinterpret_cast<const __m128*>(xs + 4 * i)));
        acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(four), scale, acc);
        if (at.m >= 0) {
            const float m = half_avx2(b + at.m);
            INKWELL_UNROLL for (int r = 0; r < 4; ++r) offsets[r] += m * x[r][i].s;
        }
    }
    const __m128 total = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps(acc, 1));
    _mm_storeu_ps(out, _mm_add_ps(total, _mm_loadu_ps(offsets)));
}
#endif

// -- interleaved by eights ------------------------------------------------------------------

struct GroupLayout {
    int m, qh, qs;  // byte offsets within a unit of eight blocks (m, qh: -1 when absent)
    size_t size;
};

constexpr GroupLayout group_layout_of(int64_t type) {
    return type == kQ4_0   ? GroupLayout{-1, -1, 16, 144}
           : type == kQ4_1 ? GroupLayout{16, -1, 32, 160}
           : type == kQ5_0 ? GroupLayout{-1, 16, 48, 176}
           : type == kQ5_1 ? GroupLayout{16, 32, 64, 192}
                           : GroupLayout{-1, -1, 16, 272};  // Q8_0
}

constexpr int kOrder[8] = {0, 1, 4, 5, 2, 3, 6, 7};  // position i of d[8] (and of the sums) holds row kOrder[i]
// Input rows a group's unpacked weights serve in one pass: 5-8 rows in one pass ran
// 10-15% faster a row than in two (3 + 2, 4 + 4), the weights unpacked once (Q4_1, Zen 3).
constexpr int kGroupRows = 8;

// Row r's block from a unit of eight, in the file's own layout (`block`: layout_of(type).size bytes).
void unit_block(int64_t type, const uint8_t* unit, int r, uint8_t* block) {
    const Layout at = layout_of(type);
    const GroupLayout group = group_layout_of(type);
    const int position = kOrder[r];  // kOrder is its own inverse
    std::memcpy(block + at.d, unit + 2 * position, 2);
    if (at.m >= 0) std::memcpy(block + at.m, unit + group.m + 2 * position, 2);
    if (at.qh >= 0)
        for (int j = 0; j < 4; ++j) block[at.qh + j] = unit[group.qh + 8 * j + r];
    const int runs = type == kQ8_0 ? 4 : 2;
    for (int e = 0; e < runs; ++e)
        std::memcpy(block + at.qs + 8 * e, unit + group.qs + 32 * (2 * e + r / 4) + 8 * (r % 4), 8);
}

// The portable path: each row's block taken out of its unit and multiplied as dot_plain does.
void dot_group_plain(int64_t type, const uint8_t* group, const BlockQ8x32* x, int64_t blocks, float* out) {
    const size_t unit = group_layout_of(type).size;
    for (int r = 0; r < kInterleave; ++r) {
        float sum = 0;
        for (int64_t i = 0; i < blocks; ++i) {
            uint8_t block[34];
            unit_block(type, group + i * unit, r, block);
            sum += dot_plain(type, block, x + i, 1);
        }
        out[r] = sum;
    }
}

#ifdef INKWELL_X86
AVX2 inline __m256i broadcast8(const int8_t* p) {
    int64_t v;
    std::memcpy(&v, p, 8);
    return _mm256_set1_epi64x(v);
}

// Eight weight rows (one group) against R input rows; out[r · 8 + row].
template <int64_t TYPE, int R>
AVX2 void dot_group(const uint8_t* group, const BlockQ8x32* const* x, int64_t blocks, float* out) {
    constexpr GroupLayout at = group_layout_of(TYPE);
    constexpr int centre_of = TYPE == kQ4_0 ? 8 : TYPE == kQ5_0 ? 16 : 0;
    // From four rows on, the offsets' products (m times the input's sum) run after the
    // loop: in it they held R registers that the weights needed (a loop of four rows
    // spilled its sums to memory), 10% of the time of four rows (Q4_1, Zen 3)
    constexpr bool offsets_after = at.m >= 0 && R >= 4;
    const __m256i ones = _mm256_set1_epi16(1), low = _mm256_set1_epi8(0xF), fifth = _mm256_set1_epi8(0x10);
    __m256 acc[R], offsets[R];
    INKWELL_UNROLL for (int r = 0; r < R; ++r) {
        acc[r] = _mm256_setzero_ps();
        offsets[r] = _mm256_setzero_ps();
    }
    for (int64_t i = 0; i < blocks; ++i) {
        const uint8_t* u = group + i * at.size;
        prefetch(u + kAhead, at.size);
        const __m256 d = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(u)));
        __m256 m = _mm256_setzero_ps();
        if constexpr (at.m >= 0 && !offsets_after) m = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(u + at.m)));
        if constexpr (TYPE == kQ8_0) {
            __m256i w[8], magnitude[8];
            INKWELL_UNROLL for (int k = 0; k < 8; ++k) {
                w[k] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(u + at.qs + 32 * k));
                magnitude[k] = _mm256_sign_epi8(w[k], w[k]);
            }
            INKWELL_UNROLL for (int r = 0; r < R; ++r) {
                const BlockQ8x32& in = x[r][i];
                __m256i y[4];
                INKWELL_UNROLL for (int e = 0; e < 4; ++e) y[e] = broadcast8(in.qs + 8 * e);
                __m256i sums[2];
                INKWELL_UNROLL for (int q = 0; q < 2; ++q) {
                    __m256i part[4];  // |w| · (y with w's sign): pairs up to 2 · 127², so widened at once
                    INKWELL_UNROLL for (int e = 0; e < 4; ++e) part[e] = _mm256_madd_epi16(
                        _mm256_maddubs_epi16(magnitude[2 * e + q], _mm256_sign_epi8(y[e], w[2 * e + q])), ones);
                    sums[q] = _mm256_add_epi32(_mm256_add_epi32(part[0], part[1]), _mm256_add_epi32(part[2], part[3]));
                }
                const __m256i total = _mm256_hadd_epi32(sums[0], sums[1]);
                acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), _mm256_mul_ps(d, _mm256_set1_ps(in.d)), acc[r]);
            }
        } else {
            __m256i lo[4], hi[4];  // run 2h + q: weights 8h.. (lo) and 16 + 8h.. (hi) of rows 4q..4q+3
            INKWELL_UNROLL for (int k = 0; k < 4; ++k) {
                const __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(u + at.qs + 32 * k));
                lo[k] = _mm256_and_si256(raw, low);
                hi[k] = _mm256_and_si256(_mm256_srli_epi16(raw, 4), low);
                if constexpr (at.qh >= 0) {
                    const int h = k / 2, q = k % 2;
                    uint32_t bits_lo, bits_hi;
                    std::memcpy(&bits_lo, u + at.qh + 8 * h + 4 * q, 4);
                    std::memcpy(&bits_hi, u + at.qh + 8 * (2 + h) + 4 * q, 4);
                    lo[k] = _mm256_or_si256(lo[k], _mm256_and_si256(fifth_bits(bits_lo), fifth));
                    hi[k] = _mm256_or_si256(hi[k], _mm256_and_si256(fifth_bits(bits_hi), fifth));
                }
            }
            INKWELL_UNROLL for (int r = 0; r < R; ++r) {
                const BlockQ8x32& in = x[r][i];
                const __m256i y0 = broadcast8(in.qs), y1 = broadcast8(in.qs + 8), y2 = broadcast8(in.qs + 16),
                              y3 = broadcast8(in.qs + 24);
                __m256i s[2];
                INKWELL_UNROLL for (int q = 0; q < 2; ++q) {
                    // four pairs of levels under 32 times inputs under 128: sums of eight products fit 16 bits
                    s[q] = _mm256_add_epi16(
                        _mm256_add_epi16(_mm256_maddubs_epi16(lo[q], y0), _mm256_maddubs_epi16(hi[q], y2)),
                        _mm256_add_epi16(_mm256_maddubs_epi16(lo[2 + q], y1), _mm256_maddubs_epi16(hi[2 + q], y3)));
                }
                __m256i total;
                if constexpr (at.qh < 0) {
                    // levels under 16: sixteen products fit 16 bits too (|sum| <= 16 · 15 · 127), so
                    // the pairs add before the one widening multiply, not after two; the same integers
                    total = _mm256_madd_epi16(_mm256_hadd_epi16(s[0], s[1]), ones);
                } else {
                    total = _mm256_hadd_epi32(_mm256_madd_epi16(s[0], ones), _mm256_madd_epi16(s[1], ones));
                }
                if constexpr (centre_of != 0) total = _mm256_sub_epi32(total, _mm256_set1_epi32(centre_of * in.total));
                acc[r] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), _mm256_mul_ps(d, _mm256_set1_ps(in.d)), acc[r]);
                if constexpr (at.m >= 0 && !offsets_after) offsets[r] = _mm256_fmadd_ps(m, _mm256_set1_ps(in.s), offsets[r]);
            }
        }
    }
    if constexpr (offsets_after) {  // the same sums, in the same order, after the products
        for (int64_t i = 0; i < blocks; ++i) {
            const __m256 m = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(group + i * at.size + at.m)));
            INKWELL_UNROLL for (int r = 0; r < R; ++r) offsets[r] = _mm256_fmadd_ps(m, _mm256_set1_ps(x[r][i].s), offsets[r]);
        }
    }
    INKWELL_UNROLL for (int r = 0; r < R; ++r) {
        alignas(32) float sums[8];
        _mm256_store_ps(sums, at.m >= 0 ? _mm256_add_ps(acc[r], offsets[r]) : acc[r]);
        for (int position = 0; position < 8; ++position) out[r * 8 + kOrder[position]] = sums[position];
    }
}

template <int64_t TYPE>
AVX2 void dot_groups_avx2(const uint8_t* groups, size_t row_bytes, int64_t cols, const BlockQ8x32* const* x,
                          int count, int64_t blocks, float* y, int64_t ldy) {
    // the rows in groups of at most kGroupRows, as even as can be (9 as 5 + 4, not 8 + 1:
    // a lone row's pass over the weights does less with them)
    const int passes = (count + kGroupRows - 1) / kGroupRows;
    for (int64_t c = 0; c < cols; c += kInterleave) {
        const uint8_t* group = groups + c * row_bytes;
        for (int pass = 0, r = 0; pass < passes; ++pass) {
            const int size = count / passes + (pass < count % passes ? 1 : 0);
            rest_of<kGroupRows>(size, r, [&](auto rows, int64_t first) {
                constexpr int n = decltype(rows)::value;
                float out[n * 8];
                dot_group<TYPE, n>(group, x + first, blocks, out);
                for (int g = 0; g < n; ++g)
                    for (int j = 0; j < 8; ++j) y[(first + g) * ldy + c + j] = out[g * 8 + j];
            });
            r += size;
        }
    }
}

// quantize_row_32's rounding of one block, eight values a step: the same operations on the
// same floats (|x|'s maximum, x · (127 / amax) to the nearest integer, ties to even), so the
// same bytes, non-numbers included (a NaN is passed over and rounds to 0). A rounded input
// row was a call to libm's fmaxf and nearbyintf a value (4 us for SmolLM2's 576 values, 11
// for 1,536: a decoded token spent 0.7 ms of its 6.5 there).
AVX2 void quantize_block_avx2(int centre_of, const float* x, BlockQ8x32& y) {
    const float amax = largest_magnitude(x, 32);
    const float d = amax / 127.f, id = amax != 0 ? 127.f / amax : 0.f;
    const __m256 scale = _mm256_set1_ps(id);
    __m256i level[4];
    INKWELL_UNROLL for (int q = 0; q < 4; ++q)
        level[q] = rounded_levels(_mm256_mul_ps(_mm256_loadu_ps(x + 8 * q), scale));
    // sums of each four values: hadd leaves them as groups 0, 2, 4, 6 | 1, 3, 5, 7
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    const __m256i fours = _mm256_permutevar8x32_epi32(
        _mm256_hadd_epi32(_mm256_hadd_epi32(level[0], level[1]), _mm256_hadd_epi32(level[2], level[3])), order);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y.centred),
                        _mm256_mullo_epi32(fours, _mm256_set1_epi32(centre_of)));
    __m128i total = _mm_add_epi32(_mm256_castsi256_si128(fours), _mm256_extracti128_si256(fours, 1));
    total = _mm_hadd_epi32(total, total);
    total = _mm_hadd_epi32(total, total);
    const int sum = _mm_cvtsi128_si32(total);
    // the levels lie in -127..127: packing keeps them, in the lanes' order, put back by `order`
    const __m256i bytes =
        _mm256_packs_epi16(_mm256_packs_epi32(level[0], level[1]), _mm256_packs_epi32(level[2], level[3]));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(y.qs), _mm256_permutevar8x32_epi32(bytes, order));
    y.d = round_to_half(d);
    y.s = round_to_half(d * static_cast<float>(sum));
    y.total = sum;
}
#endif

}  // namespace

size_t block32_bytes(int64_t type) {
    switch (type) {
        case kQ4_0:
        case kQ4_1:
        case kQ5_0:
        case kQ5_1:
        case kQ8_0: return layout_of(type).size;
        default: return 0;
    }
}

void quantize_row_32(int64_t type, const float* x, BlockQ8x32* y, int64_t k) {
    const int c = centre(type);
#ifdef INKWELL_X86
    if (using_avx2()) {
        for (int64_t i = 0; i < k / 32; ++i) quantize_block_avx2(c, x + 32 * i, y[i]);
        return;
    }
#endif
    for (int64_t i = 0; i < k / 32; ++i, x += 32) {
        float amax = 0;
        for (int j = 0; j < 32; ++j) amax = std::fmax(amax, std::fabs(x[j]));
        const float d = amax / 127.f, id = amax != 0 ? 127.f / amax : 0.f;
        int sum = 0;
        for (int j = 0; j < 32; ++j) {
            y[i].qs[j] = static_cast<int8_t>(std::nearbyint(x[j] * id));
            sum += y[i].qs[j];
        }
        y[i].d = round_to_half(d);
        y[i].s = round_to_half(d * static_cast<float>(sum));
        for (int j = 0; j < 8; ++j)
            y[i].centred[j] = c * (y[i].qs[4 * j] + y[i].qs[4 * j + 1] + y[i].qs[4 * j + 2] + y[i].qs[4 * j + 3]);
        y[i].total = sum;
    }
}

void dot_rows_32(int64_t type, const uint8_t* rows, size_t row_bytes, int64_t cols, const BlockQ8x32* const* x,
                 int count, int64_t blocks, float* y, int64_t ldy) {
#ifdef INKWELL_X86
    if (using_avx2()) {
        in_groups_of<kRowsAtOnce>(count, [&](auto group, int64_t r) {
            dot_columns_avx2<decltype(group)::value>(type, rows, row_bytes, cols, x + r, blocks, y + r * ldy, ldy);
        });
        return;
    }
#endif
    for (int64_t c = 0; c < cols; ++c)
        for (int r = 0; r < count; ++r) y[r * ldy + c] = dot_plain(type, rows + c * row_bytes, x[r], blocks);
}

bool dot_four_32(int64_t type, const uint8_t* row, const BlockQ8x32* const* x, const float* xs, int64_t blocks,
                 float* out) {
#ifdef INKWELL_X86
    if (using_avx2()) {
        switch (type) {
            case kQ4_0: dot_row_four<kQ4_0>(row, x, xs, blocks, out); return true;
            case kQ4_1: dot_row_four<kQ4_1>(row, x, xs, blocks, out); return true;
            case kQ5_0: dot_row_four<kQ5_0>(row, x, xs, blocks, out); return true;
            case kQ5_1: dot_row_four<kQ5_1>(row, x, xs, blocks, out); return true;
            default: dot_row_four<kQ8_0>(row, x, xs, blocks, out); return true;
        }
    }
#endif
    return false;
}


bool interleavable(int64_t type) { return block32_bytes(type) != 0; }

void dot_groups_32(int64_t type, const uint8_t* groups, size_t row_bytes, int64_t cols, const BlockQ8x32* const* x,
                   int count, int64_t blocks, float* y, int64_t ldy) {
#ifdef INKWELL_X86
    if (using_avx2()) {
        switch (type) {
            case kQ4_0: return dot_groups_avx2<kQ4_0>(groups, row_bytes, cols, x, count, blocks, y, ldy);
            case kQ4_1: return dot_groups_avx2<kQ4_1>(groups, row_bytes, cols, x, count, blocks, y, ldy);
            case kQ5_0: return dot_groups_avx2<kQ5_0>(groups, row_bytes, cols, x, count, blocks, y, ldy);
            case kQ5_1: return dot_groups_avx2<kQ5_1>(groups, row_bytes, cols, x, count, blocks, y, ldy);
            default: return dot_groups_avx2<kQ8_0>(groups, row_bytes, cols, x, count, blocks, y, ldy);
        }
    }
#endif
    for (int64_t c = 0; c < cols; c += kInterleave)
        for (int r = 0; r < count; ++r) {
            float out[kInterleave];
            dot_group_plain(type, groups + c * row_bytes, x[r], blocks, out);
            for (int j = 0; j < kInterleave; ++j) y[r * ldy + c + j] = out[j];
        }
}

void dequantize_interleaved(int64_t type, const uint8_t* table, size_t row_bytes, int64_t row, float* out, int64_t k) {
    const uint8_t* group = table + (row - row % kInterleave) * row_bytes;
    const size_t unit = group_layout_of(type).size;
    for (int64_t i = 0; i < k / 32; ++i) {
        uint8_t block[34];
        unit_block(type, group + i * unit, static_cast<int>(row % kInterleave), block);
        dequantize_row_32(type, block, out + 32 * i, 32);
    }
}

void dequantize_row_32(int64_t type, const uint8_t* row, float* out, int64_t k) {
    const Layout at = layout_of(type);
    for (int64_t i = 0; i < k / 32; ++i, out += 32) {
        const uint8_t* b = row + i * at.size;
        int q[32];
        levels(type, b, q);
        const float d = half_to_float(b + at.d), m = at.m >= 0 ? half_to_float(b + at.m) : 0.f;
        for (int j = 0; j < 32; ++j) out[j] = d * static_cast<float>(q[j] - centre(type)) + m;
    }
}

}  // namespace inkwell
