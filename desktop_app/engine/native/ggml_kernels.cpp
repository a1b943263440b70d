// The block layouts, from ggml-common.h (bytes of one block of 256 weights):
//   Q4_K (144): fp16 d, fp16 dmin, scales[12] (eight 6-bit scales and mins), qs[128]
//               w = d·sc·q − dmin·m, q the low then high nibbles of 32-byte runs
//   Q5_K (176): as Q4_K with qh[32] before qs: bit 2j (2j+1) of qh gives the fifth bit
//               of the low (high) nibbles of run j
//   Q6_K (210): ql[128] low nibbles, qh[64] two high bits, int8 scales[16], fp16 d
//               w = d·sc·(q − 32)
// Written here from those layouts; the AVX2 paths hold 32 weights in a register and
// multiply unsigned levels by signed inputs (maddubs), as every x86 int8 kernel does.
#include "ggml_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>

#include "ggml_simd.h"

namespace inkwell {

// The j-th 6-bit scale and min of a Q4_K/Q5_K block's 12 bytes.
inline void scale_and_min(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

void scales_and_mins(const uint8_t* q, uint8_t* sc, uint8_t* m) {
    for (int j = 0; j < 8; ++j) scale_and_min(j, q, sc + j, m + j);
}

namespace {

constexpr size_t kQ4KBytes = 144, kQ5KBytes = 176, kQ6KBytes = 210;

float half_bits_to_float(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    const uint32_t sign = (h & 0x8000u) << 16;
    uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ffu, bits;
    if (exponent == 0) {
        if (mantissa == 0) {
            bits = sign;
        } else {  // subnormal: normalise
            exponent = 127 - 15 + 1;
            while (!(mantissa & 0x400u)) {
                mantissa <<= 1;
                --exponent;
            }
            bits = sign | (exponent << 23) | ((mantissa & 0x3ffu) << 13);
        }
    } else if (exponent == 31) {
        bits = sign | 0x7f800000u | (mantissa << 13);
    } else {
        bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
    }
    float f;
    std::memcpy(&f, &bits, 4);
    return f;
}


// -- portable ------------------------------------------------------------------------

float dot_q4k_q5k_plain(bool five, const uint8_t* row, const BlockQ8K* x, int64_t blocks) {
    const size_t size = five ? kQ5KBytes : kQ4KBytes;
    float sum = 0;
    for (int64_t i = 0; i < blocks; ++i) {
        const uint8_t* b = row + i * size;
        const float d = half_to_float(b) * x[i].d, dmin = half_to_float(b + 2) * x[i].d;
        uint8_t sc[8], m[8];
        scales_and_mins(b + 4, sc, m);
        const uint8_t* qh = b + 16;
        const uint8_t* qs = b + (five ? 48 : 16);
        const int8_t* q8 = x[i].qs;
        int32_t sumi = 0, summ = 0;
        for (int j = 0; j < 8; ++j) summ += m[j] * (x[i].bsums[2 * j] + x[i].bsums[2 * j + 1]);
        for (int run = 0; run < 4; ++run) {
            int32_t low = 0, high = 0;
            for (int l = 0; l < 32; ++l) {
                int lo = qs[l] & 0xF, hi = qs[l] >> 4;
                if (five) {
                    lo |= ((qh[l] >> (2 * run)) & 1) << 4;
                    hi |= ((qh[l] >> (2 * run + 1)) & 1) << 4;
                }
                low += lo * q8[l];
                high += hi * q8[l + 32];
            }
            sumi += sc[2 * run] * low + sc[2 * run + 1] * high;
            qs += 32;
            q8 += 64;
        }
        sum += d * static_cast<float>(sumi) - dmin * static_cast<float>(summ);
    }
    return sum;
}

float dot_q6k_plain(const uint8_t* row, const BlockQ8K* x, int64_t blocks) {
    float sum = 0;
    for (int64_t i = 0; i < blocks; ++i) {
        const uint8_t* b = row + i * kQ6KBytes;
        const uint8_t* ql = b;
        const uint8_t* qh = b + 128;
        const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
        const float d = half_to_float(b + 208) * x[i].d;
        const int8_t* q8 = x[i].qs;
        int32_t sumi = 0;
        for (int half = 0; half < 2; ++half) {
            int32_t part[8] = {0};
            for (int l = 0; l < 32; ++l) {
                const int q1 = (ql[l] & 0xF) | ((qh[l] & 3) << 4);
                const int q2 = (ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4);
                const int q3 = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4);
                const int q4 = (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4);
                const int is = l / 16;
                part[is] += q1 * q8[l];
                part[is + 2] += q2 * q8[l + 32];
                part[is + 4] += q3 * q8[l + 64];
                part[is + 6] += q4 * q8[l + 96];
            }
            for (int g = 0; g < 8; ++g) sumi += sc[g] * part[g];
            ql += 64;
            qh += 32;
            sc += 8;
            q8 += 128;
        }
        sc = reinterpret_cast<const int8_t*>(b + 192);
        int32_t offset = 0;
        for (int g = 0; g < 16; ++g) offset += sc[g] * x[i].bsums[g];
        sum += d * static_cast<float>(sumi - 32 * offset);
    }
    return sum;
}

// -- AVX2 ----------------------------------------------------------------------------

#ifdef INKWELL_X86
// The eight 6-bit scales (bytes 0-7) and mins (bytes 8-15) of a Q4_K/Q5_K block, by
// whole words: scales 0-3 and mins 0-3 are the low six bits of bytes 0-3 and 4-7; scales
// and mins 4-7 take their low four bits from bytes 8-11 and their top two from the top
// bits of bytes 0-3 and 4-7. Returned in a register (written as words and read back as
// one vector, they would wait on store-to-load forwarding).
AVX2 inline __m128i unpack_scales(const uint8_t* q) {
    uint32_t w[3];
    std::memcpy(w, q, 12);
    constexpr uint32_t six = 0x3f3f3f3f, four = 0x0f0f0f0f, two = 0x03030303;
    return _mm_set_epi32(static_cast<int>(((w[2] >> 4) & four) | (((w[1] >> 6) & two) << 4)),
                         static_cast<int>(w[1] & six),
                         static_cast<int>((w[2] & four) | (((w[0] >> 6) & two) << 4)),
                         static_cast<int>(w[0] & six));
}

// R input rows against one Q4_K (FIVE: Q5_K) weight row: the weights' levels and scales
// are unpacked once a block and used for every input row.
template <bool FIVE, int R>
AVX2 void dot_q4k_rows(const uint8_t* row, const BlockQ8K* const* x, int64_t blocks, float* out) {
    constexpr size_t size = FIVE ? kQ5KBytes : kQ4KBytes;
    const __m256i low_mask = _mm256_set1_epi8(0xF), one = _mm256_set1_epi8(1);
    __m256 acc[R];  // the mins' part is taken off as it comes: one register a row
    INKWELL_UNROLL for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < blocks; ++i) {
        const uint8_t* b = row + i * size;
        prefetch(b + kAhead, size);
        const float d = half_avx2(b), dmin = half_avx2(b + 2);
        const __m128i packed = unpack_scales(b + 4);  // scales in bytes 0-7, mins in 8-15
        // the eight scales as 16-bit values in both halves, for one shuffle a broadcast
        const __m256i sc16 = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(packed));
        // each min twice, as 16-bit lanes beside the input's sums of 16
        const __m128i m8 = _mm_unpackhi_epi64(packed, packed);
        const __m256i m16 = _mm256_cvtepu8_epi16(_mm_unpacklo_epi8(m8, m8));
        const uint8_t* qs = b + (FIVE ? 48 : 16);
        __m256i qh = _mm256_setzero_si256();
        if (FIVE) qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 16));
        __m256i sumi[R];
        INKWELL_UNROLL for (int r = 0; r < R; ++r) sumi[r] = _mm256_setzero_si256();
        for (int run = 0; run < 4; ++run) {
            const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(qs + 32 * run));
            __m256i lo = _mm256_and_si256(q, low_mask);
            __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), low_mask);
            if (FIVE) {
                lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(qh, one), 4));
                hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 1), one), 4));
                qh = _mm256_srli_epi16(qh, 2);
            }
            const __m256i s0 = _mm256_shuffle_epi8(sc16, _mm256_set1_epi16(static_cast<short>(0x0100 + 0x0202 * (2 * run))));
            const __m256i s1 = _mm256_shuffle_epi8(sc16, _mm256_set1_epi16(static_cast<short>(0x0100 + 0x0202 * (2 * run + 1))));
            INKWELL_UNROLL for (int r = 0; r < R; ++r) {
                const int8_t* q8 = x[r][i].qs + 64 * run;
                const __m256i y0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8));
                const __m256i y1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q8 + 32));
                const __m256i p0 = _mm256_madd_epi16(_mm256_maddubs_epi16(lo, y0), s0);
                const __m256i p1 = _mm256_madd_epi16(_mm256_maddubs_epi16(hi, y1), s1);
                sumi[r] = _mm256_add_epi32(sumi[r], _mm256_add_epi32(p0, p1));
            }
        }
        INKWELL_UNROLL for (int r = 0; r < R; ++r) {
            const float dx = x[r][i].d;
            const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[r][i].bsums));
            const __m256i summ = _mm256_madd_epi16(bsums, m16);
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * dx), _mm256_cvtepi32_ps(sumi[r]), acc[r]);
            acc[r] = _mm256_fnmadd_ps(_mm256_set1_ps(dmin * dx), _mm256_cvtepi32_ps(summ), acc[r]);
        }
    }
    INKWELL_UNROLL for (int r = 0; r < R; ++r) out[r] = horizontal_sum(acc[r]);
}

template <int R>
AVX2 void dot_q6k_rows(const uint8_t* row, const BlockQ8K* const* x, int64_t blocks, float* out) {
    const __m256i low_mask = _mm256_set1_epi8(0xF), two_bits = _mm256_set1_epi8(3);
    __m256 acc[R];
    INKWELL_UNROLL for (int r = 0; r < R; ++r) acc[r] = _mm256_setzero_ps();
    for (int64_t i = 0; i < blocks; ++i) {
        const uint8_t* b = row + i * kQ6KBytes;
        prefetch(b + kAhead, kQ6KBytes);
        const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
        const float d = half_avx2(b + 208);
        // q − 32: the sums of 16 of the input, times the scales, times 32
        const __m256i sc16 = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(sc)));
        __m256i sumi[R];
        INKWELL_UNROLL for (int r = 0; r < R; ++r) {
            const __m256i bsums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[r][i].bsums));
            sumi[r] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(_mm256_madd_epi16(bsums, sc16), 5));
        }
        for (int half = 0; half < 2; ++half) {
            const uint8_t* ql = b + 64 * half;
            const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + 128 + 32 * half));
            const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
            const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
            __m256i q[4];
            q[0] = _mm256_or_si256(_mm256_and_si256(l0, low_mask), _mm256_slli_epi16(_mm256_and_si256(h, two_bits), 4));
            q[1] = _mm256_or_si256(_mm256_and_si256(l1, low_mask),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 2), two_bits), 4));
            q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), low_mask),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 4), two_bits), 4));
            q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), low_mask),
                                   _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 6), two_bits), 4));
            // this half's eight scales as 16-bit values in both 128-bit lanes
            const __m256i scales = _mm256_broadcastsi128_si256(
                _mm_cvtepi8_epi16(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(sc + 8 * half))));
            for (int k = 0; k < 4; ++k) {
                // the first 16 weights take scale 2k (low lane), the next 16 scale 2k+1 (high lane)
                const __m256i pick = _mm256_set_m128i(_mm_set1_epi16(static_cast<short>(0x0100 + 0x0202 * (2 * k + 1))),
                                                      _mm_set1_epi16(static_cast<short>(0x0100 + 0x0202 * (2 * k))));
                const __m256i scale = _mm256_shuffle_epi8(scales, pick);
                INKWELL_UNROLL for (int r = 0; r < R; ++r) {
                    const __m256i y =
                        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x[r][i].qs + 128 * half + 32 * k));
                    sumi[r] = _mm256_add_epi32(sumi[r], _mm256_madd_epi16(_mm256_maddubs_epi16(q[k], y), scale));
                }
            }
        }
        INKWELL_UNROLL for (int r = 0; r < R; ++r)
            acc[r] = _mm256_fmadd_ps(_mm256_set1_ps(d * x[r][i].d), _mm256_cvtepi32_ps(sumi[r]), acc[r]);
    }
    INKWELL_UNROLL for (int r = 0; r < R; ++r) out[r] = horizontal_sum(acc[r]);
}

template <int R>
AVX2 void dot_rows_avx2(int64_t type, const uint8_t* row, const BlockQ8K* const* x, int64_t blocks, float* out) {
    if (type == kQ6K)
        dot_q6k_rows<R>(row, x, blocks, out);
    else if (type == kQ5K)
        dot_q4k_rows<true, R>(row, x, blocks, out);
    else
        dot_q4k_rows<false, R>(row, x, blocks, out);
}

// quantize_row's rounding of one super-block, eight values a step: the same operations on
// the same floats, so the same bytes, non-numbers included (it was a libm call a value).
AVX2 void quantize_super_block_avx2(const float* x, BlockQ8K& y) {
    const float amax = largest_magnitude(x, kSuperBlock);
    if (amax == 0) {
        std::memset(&y, 0, sizeof(BlockQ8K));
        return;
    }
    float max = 0;
    for (int j = 0; j < kSuperBlock; ++j)  // the first value of that magnitude, with its sign
        if (std::fabs(x[j]) == amax) {
            max = x[j];
            break;
        }
    const float iscale = -127.f / max;
    const __m256 scale = _mm256_set1_ps(iscale);
    const __m256i cap = _mm256_set1_epi32(127), order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    for (int j = 0; j < kSuperBlock; j += 32) {
        __m256i level[4];
        INKWELL_UNROLL for (int q = 0; q < 4; ++q)
            level[q] = _mm256_min_epi32(cap, rounded_levels(_mm256_mul_ps(scale, _mm256_loadu_ps(x + j + 8 * q))));
        const __m256i bytes =
            _mm256_packs_epi16(_mm256_packs_epi32(level[0], level[1]), _mm256_packs_epi32(level[2], level[3]));
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(y.qs + j), _mm256_permutevar8x32_epi32(bytes, order));
    }
    for (int g = 0; g < kSuperBlock / 16; ++g) {
        int sum = 0;
        for (int j = 0; j < 16; ++j) sum += y.qs[16 * g + j];
        y.bsums[g] = static_cast<int16_t>(sum);
    }
    y.d = 1 / iscale;
}

bool detect_avx2() {
    if (std::getenv("INKWELL_GGML_PORTABLE")) return false;  // the tests' way to check the portable path
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
}
const bool kAvx2 = detect_avx2();
#else
const bool kAvx2 = false;
#endif

}  // namespace

float half_to_float(const uint8_t* p) { return half_bits_to_float(p); }

float round_to_half(float f) {
    uint32_t x;
    std::memcpy(&x, &f, 4);
    const uint32_t sign = (x >> 16) & 0x8000u, mantissa = x & 0x7fffffu;
    const int exponent = static_cast<int>((x >> 23) & 0xff) - 127 + 15;
    uint32_t h;
    if (((x >> 23) & 0xff) == 0xff) {
        h = sign | 0x7c00u | (mantissa ? 0x200u : 0);
    } else if (exponent >= 31) {
        h = sign | 0x7c00u;
    } else if (exponent <= 0) {  // subnormal (or zero) in fp16
        if (exponent < -10) {
            h = sign;
        } else {
            const uint32_t full = mantissa | 0x800000u;
            const int shift = 14 - exponent;
            uint32_t value = full >> shift;
            const uint32_t rest = full & ((1u << shift) - 1), half = 1u << (shift - 1);
            if (rest > half || (rest == half && (value & 1))) ++value;
            h = sign | value;
        }
    } else {
        h = (static_cast<uint32_t>(exponent) << 10) | (mantissa >> 13);
        const uint32_t rest = mantissa & 0x1fffu;
        if (rest > 0x1000u || (rest == 0x1000u && (h & 1))) ++h;  // a carry moves into the exponent, as it should
        h |= sign;
    }
    uint8_t bytes[2];
    const uint16_t bits = static_cast<uint16_t>(h);
    std::memcpy(bytes, &bits, 2);
    return half_bits_to_float(bytes);
}

bool using_avx2() { return kAvx2; }

void quantize_row(const float* x, BlockQ8K* y, int64_t k);

int64_t block_weights(int64_t type) {
    if (type == kQ4K || type == kQ5K || type == kQ6K) return kSuperBlock;
    return block32_bytes(type) || is_float_type(type) ? 32 : 0;
}

size_t block_bytes(int64_t type) {
    switch (type) {
        case kQ4K: return kQ4KBytes;
        case kQ5K: return kQ5KBytes;
        case kQ6K: return kQ6KBytes;
        case kF16:
        case kBF16: return 64;  // 32 weights of two bytes
        default: return block32_bytes(type);
    }
}

size_t rounded_block_bytes(int64_t type) {
    if (is_float_type(type)) return 32 * sizeof(float);
    return block_weights(type) == kSuperBlock ? sizeof(BlockQ8K) : sizeof(BlockQ8x32);
}

void round_input(int64_t type, const float* x, void* y, int64_t k) {
    if (is_float_type(type))
        round_input_float(type, x, static_cast<float*>(y), k);
    else if (block_weights(type) == kSuperBlock)
        quantize_row(x, static_cast<BlockQ8K*>(y), k);
    else
        quantize_row_32(type, x, static_cast<BlockQ8x32*>(y), k);
}

void quantize_row(const float* x, BlockQ8K* y, int64_t k) {
    // As llama.cpp rounds an input for the K types: the value of largest magnitude maps
    // to -127, the others to the nearest integer (ties to even), capped at 127.
#ifdef INKWELL_X86
    if (kAvx2) {
        for (int64_t i = 0; i < k / kSuperBlock; ++i) quantize_super_block_avx2(x + kSuperBlock * i, y[i]);
        return;
    }
#endif
    for (int64_t i = 0; i < k / kSuperBlock; ++i, x += kSuperBlock) {
        float amax = 0, max = 0;
        for (int j = 0; j < kSuperBlock; ++j) {
            const float a = std::fabs(x[j]);
            if (a > amax) {
                amax = a;
                max = x[j];
            }
        }
        if (amax == 0) {
            std::memset(&y[i], 0, sizeof(BlockQ8K));
            continue;
        }
        const float iscale = -127.f / max;
        for (int j = 0; j < kSuperBlock; ++j) {
            const int v = static_cast<int>(std::nearbyint(iscale * x[j]));
            y[i].qs[j] = static_cast<int8_t>(std::min(127, v));
        }
        for (int g = 0; g < kSuperBlock / 16; ++g) {
            int sum = 0;
            for (int j = 0; j < 16; ++j) sum += y[i].qs[16 * g + j];
            y[i].bsums[g] = static_cast<int16_t>(sum);
        }
        y[i].d = 1 / iscale;
    }
}

void dot_rows(int64_t type, const uint8_t* rows, size_t row_bytes, int64_t cols, const void* const* input, int count,
              int64_t blocks, float* y, int64_t ldy) {
    if (is_float_type(type)) {
        dot_rows_float(type, rows, row_bytes, cols, reinterpret_cast<const float* const*>(input), count, blocks * 32, y,
                       ldy);
        return;
    }
    if (block_weights(type) != kSuperBlock) {
        dot_rows_32(type, rows, row_bytes, cols, reinterpret_cast<const BlockQ8x32* const*>(input), count, blocks, y,
                    ldy);
        return;
    }
    const auto* const* x = reinterpret_cast<const BlockQ8K* const*>(input);
    for (int64_t c = 0; c < cols; ++c) {
        const uint8_t* row = rows + c * row_bytes;
#ifdef INKWELL_X86
        if (kAvx2) {
            in_groups_of<kRowsAtOnce>(count, [&](auto group, int64_t r) {
                float out[kRowsAtOnce];
                dot_rows_avx2<decltype(group)::value>(type, row, x + r, blocks, out);
                for (int g = 0; g < decltype(group)::value; ++g) y[(r + g) * ldy + c] = out[g];
            });
            continue;
        }
#endif
        for (int r = 0; r < count; ++r)
            y[r * ldy + c] =
                type == kQ6K ? dot_q6k_plain(row, x[r], blocks) : dot_q4k_q5k_plain(type == kQ5K, row, x[r], blocks);
    }
}

void dequantize_row(int64_t type, const uint8_t* row, float* out, int64_t k) {
    if (is_float_type(type)) {
        dequantize_row_float(type, row, out, k);
        return;
    }
    if (block_weights(type) != kSuperBlock) {
        dequantize_row_32(type, row, out, k);
        return;
    }
    const size_t size = block_bytes(type);
    for (int64_t i = 0; i < k / kSuperBlock; ++i, out += kSuperBlock) {
        const uint8_t* b = row + i * size;
        if (type == kQ6K) {
            const uint8_t* ql = b;
            const uint8_t* qh = b + 128;
            const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
            const float d = half_to_float(b + 208);
            for (int half = 0; half < 2; ++half, ql += 64, qh += 32, sc += 8) {
                float* y = out + 128 * half;
                for (int l = 0; l < 32; ++l) {
                    const int is = l / 16;
                    y[l] = d * sc[is] * (((ql[l] & 0xF) | ((qh[l] & 3) << 4)) - 32);
                    y[l + 32] = d * sc[is + 2] * (((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
                    y[l + 64] = d * sc[is + 4] * (((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
                    y[l + 96] = d * sc[is + 6] * (((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
                }
            }
            continue;
        }
        const bool five = type == kQ5K;
        const float d = half_to_float(b), dmin = half_to_float(b + 2);
        uint8_t sc[8], m[8];
        scales_and_mins(b + 4, sc, m);
        const uint8_t* qh = b + 16;
        const uint8_t* qs = b + (five ? 48 : 16);
        for (int run = 0; run < 4; ++run, qs += 32) {
            for (int l = 0; l < 32; ++l) {
                int lo = qs[l] & 0xF, hi = qs[l] >> 4;
                if (five) {
                    lo |= ((qh[l] >> (2 * run)) & 1) << 4;
                    hi |= ((qh[l] >> (2 * run + 1)) & 1) << 4;
                }
                out[64 * run + l] = d * sc[2 * run] * lo - dmin * m[2 * run];
                out[64 * run + 32 + l] = d * sc[2 * run + 1] * hi - dmin * m[2 * run + 1];
            }
        }
    }
}

}  // namespace inkwell
