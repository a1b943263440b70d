// What the kernel files share: how input rows are grouped, and on x86 the AVX2 target
// attribute (the kernels are chosen at run time, so the library itself is built for any
// x86-64), a few helpers and how far ahead a decoded token's weights are asked for.
#pragma once

#include <cstdint>
#include <cstring>
#include <type_traits>

// Before a loop over a kernel's input rows (or its registers' arrays): unrolled before
// anything else, GCC keeps such arrays in registers; at -O3 without it, it also stored them
// to the stack at every step (the Q4_K kernel of four rows spilled 105 times).
#define INKWELL_UNROLL _Pragma("GCC unroll 8")

namespace inkwell {

// fn(rows, first) over `count` input rows: groups of N, then the rest (fewer than N) as one
// group; `rows` is a std::integral_constant, so each group size is a template argument of
// the kernel fn calls.
template <int N, typename Fn>
inline void rest_of(int64_t rest, int64_t first, Fn fn) {
    if constexpr (N > 0) {
        if (rest == N)
            fn(std::integral_constant<int, N>{}, first);
        else
            rest_of<N - 1>(rest, first, fn);
    }
}

template <int N, typename Fn>
inline void in_groups_of(int64_t count, Fn fn) {
    int64_t first = 0;
    for (; first + N <= count; first += N) fn(std::integral_constant<int, N>{}, first);
    rest_of<N - 1>(count - first, first, fn);
}

}  // namespace inkwell

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__)) && !defined(INKWELL_PLAIN)
#define INKWELL_X86 1
#include <immintrin.h>

#define AVX2 __attribute__((target("avx2,fma,f16c")))

namespace inkwell {

AVX2 inline float horizontal_sum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

// The largest magnitude among the floats at x[0..count) (a multiple of 8), NaNs passed over
// (as std::fmax and `a > amax` pass them): max(|x|, largest) keeps `largest` when |x| is NaN.
AVX2 inline float largest_magnitude(const float* x, int count) {
    const __m256 magnitude_bits = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    __m256 largest = _mm256_setzero_ps();
    for (int j = 0; j < count; j += 8)
        largest = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + j), magnitude_bits), largest);
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(largest), _mm256_extractf128_ps(largest, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

// Eight floats rounded to the nearest integer (ties to even) as int32, a value that is not a
// number (NaN, an infinity: INT_MIN from the conversion) as 0, which is what the scalar
// rounding's cast to int8_t keeps of it (the low byte of INT_MIN).
AVX2 inline __m256i rounded_levels(__m256 v) {
    const __m256i level = _mm256_cvtps_epi32(_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    return _mm256_andnot_si256(_mm256_cmpeq_epi32(level, _mm256_set1_epi32(INT32_MIN)), level);
}

// A decoded token's product reads each weight once, mostly from DRAM: the kernels ask for
// the bytes kAhead past the block they start on (rows lie one after another, so this runs
// on into the next rows). Measured on Zen 2 (2 threads, matrices four times the L3): Q4_K
// 1,536 x 8,960 374 -> 315 us, Q6_K 8,960 x 1,536 555 -> 430-480, Q8_0 8,960 x 1,536 720
// -> 620, SmolLM2's 576 x 3,072 Q5_0 118 -> 92; 1 KB to 4 KB ahead did about as well.
constexpr size_t kAhead = 2048;

inline void prefetch(const uint8_t* p, size_t bytes) {
    for (size_t line = 0; line < bytes; line += 64) _mm_prefetch(reinterpret_cast<const char*>(p + line), _MM_HINT_T0);
}

AVX2 inline float half_avx2(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}

}  // namespace inkwell
#endif
