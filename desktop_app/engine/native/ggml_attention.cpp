// Attention with rotary positions over an in-place KV cache: what ONNX Runtime's
// GroupQueryAttention computes on the CPU, with each query row computed alone.
//
// GroupQueryAttention computes a lone query row (a decoded token) by other kernels than
// the rows of a longer pass (MLAS's one-row GEMM paths), and the last bits differ; the
// next product's 8-bit rounding of its input turned that into up to a logit, so checking
// proposed tokens in one pass chose other tokens than decoding them one at a time (issue
// 23). Here every row takes the same steps whatever rows come with it: the scores of its
// keys one by one, their softmax, the weighted sum of the values; so a row has the same
// bits in a prompt, a check of proposals or alone.
//
// The semantics are GroupQueryAttention's, as the GGUF route's graph uses it: a packed
// q/k/v input [batch, rows, (heads + 2 kv heads) · dim]; rotary (the first `rotary` dims,
// pairs adjacent or halves) from cos/sin tables by position; the new keys and values
// written into the cache at their positions (the cache buffer is the present output, bound
// to the past input's memory, or a copy of the past when not); a row at position p
// attends to the keys 0..p, or with a window W to the last W of them, its own included (as
// llama.cpp, and GroupQueryAttention in ONNX Runtime 1.31, count); scores scaled, then
// soft-capped where asked.
#include "ggml_attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "ggml_kernels.h"
#include "ggml_simd.h"

namespace inkwell {
namespace {

void rotate(float* x, const float* cos, const float* sin, int64_t rotary, bool interleaved) {
    const int64_t half = rotary / 2;
    for (int64_t i = 0; i < half; ++i) {
        const int64_t a = interleaved ? 2 * i : i, b = interleaved ? 2 * i + 1 : i + half;
        const float x0 = x[a], x1 = x[b];
        x[a] = x0 * cos[i] - x1 * sin[i];
        x[b] = x0 * sin[i] + x1 * cos[i];
    }
}

void attend_plain(const float* q, const float* keys, const float* values, int64_t first, int64_t count, int64_t dim,
                  float scale, float softcap, float* scores, float* out) {
    float top = -INFINITY;
    for (int64_t t = 0; t < count; ++t) {
        const float* k = keys + (first + t) * dim;
        float s = 0.f;
        for (int64_t d = 0; d < dim; ++d) s += q[d] * k[d];
        s *= scale;
        if (softcap > 0.f) s = softcap * std::tanh(s / softcap);
        scores[t] = s;
        top = std::max(top, s);
    }
    float sum = 0.f;
    for (int64_t t = 0; t < count; ++t) sum += scores[t] = std::exp(scores[t] - top);
    std::fill(out, out + dim, 0.f);
    for (int64_t t = 0; t < count; ++t) {
        const float* v = values + (first + t) * dim;
        for (int64_t d = 0; d < dim; ++d) out[d] += scores[t] * v[d];
    }
    const float inverse = 1.f / sum;
    for (int64_t d = 0; d < dim; ++d) out[d] *= inverse;
}

#if INKWELL_X86
// e^x for eight floats: 2^n · e^r with n = round(x / ln 2) and a degree-6 polynomial for
// e^r, |r| <= ln(2)/2 (the coefficients are e's Taylor series'); ~2 ulp over the softmax's
// range (x <= 0), and 0 below -87.
AVX2 inline __m256 exp8(__m256 x) {
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.3f));
    const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693145752f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(1.42860677e-6f), r);
    __m256 p = _mm256_set1_ps(1.f / 720);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f / 120));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f / 24));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f / 6));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(0.5f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.f));
    const __m256i exponent = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(exponent));
}

AVX2 inline float dot(const float* a, const float* b, int64_t dim) {
    __m256 sum = _mm256_setzero_ps();
    int64_t d = 0;
    for (; d + 8 <= dim; d += 8) sum = _mm256_fmadd_ps(_mm256_loadu_ps(a + d), _mm256_loadu_ps(b + d), sum);
    float s = horizontal_sum(sum);
    for (; d < dim; ++d) s += a[d] * b[d];
    return s;
}

// The dot products of q with eight keys, reduced together: one horizontal sum for eight.
AVX2 inline __m256 dot8(const float* q, const float* k, int64_t dim) {
    __m256 acc[8];
    INKWELL_UNROLL
    for (int j = 0; j < 8; ++j) acc[j] = _mm256_setzero_ps();
    for (int64_t d = 0; d < dim; d += 8) {
        const __m256 x = _mm256_loadu_ps(q + d);
        INKWELL_UNROLL
        for (int j = 0; j < 8; ++j) acc[j] = _mm256_fmadd_ps(x, _mm256_loadu_ps(k + j * dim + d), acc[j]);
    }
    const __m256 u0 = _mm256_hadd_ps(_mm256_hadd_ps(acc[0], acc[1]), _mm256_hadd_ps(acc[2], acc[3]));
    const __m256 u1 = _mm256_hadd_ps(_mm256_hadd_ps(acc[4], acc[5]), _mm256_hadd_ps(acc[6], acc[7]));
    return _mm256_add_ps(_mm256_permute2f128_ps(u0, u1, 0x20), _mm256_permute2f128_ps(u0, u1, 0x31));
}

AVX2 void attend_avx2(const float* q, const float* keys, const float* values, int64_t first, int64_t count,
                      int64_t dim, float scale, float softcap, float* scores, float* out) {
    float top = -INFINITY;
    int64_t t = 0;
    if (dim % 8 == 0) {
        __m256 tops = _mm256_set1_ps(-INFINITY);
        for (; t + 8 <= count; t += 8) {
            __m256 s = _mm256_mul_ps(dot8(q, keys + (first + t) * dim, dim), _mm256_set1_ps(scale));
            if (softcap > 0.f) {
                _mm256_storeu_ps(scores + t, s);
                for (int j = 0; j < 8; ++j) scores[t + j] = softcap * std::tanh(scores[t + j] / softcap);
                s = _mm256_loadu_ps(scores + t);
            } else {
                _mm256_storeu_ps(scores + t, s);
            }
            tops = _mm256_max_ps(tops, s);
        }
        float lanes[8];
        _mm256_storeu_ps(lanes, tops);
        for (float lane : lanes) top = std::max(top, lane);
    }
    for (; t < count; ++t) {
        float s = dot(q, keys + (first + t) * dim, dim) * scale;
        if (softcap > 0.f) s = softcap * std::tanh(s / softcap);
        scores[t] = s;
        top = std::max(top, s);
    }
    const __m256 shift = _mm256_set1_ps(top);
    __m256 sums = _mm256_setzero_ps();
    t = 0;
    for (; t + 8 <= count; t += 8) {
        const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(scores + t), shift));
        _mm256_storeu_ps(scores + t, e);
        sums = _mm256_add_ps(sums, e);
    }
    if (t < count) {  // the last few, padded with -inf (e = 0)
        float tail[8];
        for (int i = 0; i < 8; ++i) tail[i] = t + i < count ? scores[t + i] - top : -INFINITY;
        const __m256 e = exp8(_mm256_loadu_ps(tail));
        _mm256_storeu_ps(tail, e);
        for (int64_t i = 0; t + i < count; ++i) scores[t + i] = tail[i];
        sums = _mm256_add_ps(sums, e);
    }
    const float inverse = 1.f / horizontal_sum(sums);
    for (int64_t d0 = 0; d0 < dim; d0 += 32) {  // four registers of the output at a time
        const int64_t width = std::min<int64_t>(32, dim - d0);
        if (width % 8) {  // a head size not a multiple of 8: the plain loop for this part
            for (int64_t d = d0; d < d0 + width; ++d) {
                float s = 0.f;
                for (int64_t u = 0; u < count; ++u) s += scores[u] * values[(first + u) * dim + d];
                out[d] = s * inverse;
            }
            continue;
        }
        __m256 acc[4] = {_mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps()};
        const int lanes = static_cast<int>(width / 8);
        for (int64_t u = 0; u < count; ++u) {
            const __m256 w = _mm256_set1_ps(scores[u]);
            const float* v = values + (first + u) * dim + d0;
            INKWELL_UNROLL
            for (int l = 0; l < 4; ++l)
                if (l < lanes) acc[l] = _mm256_fmadd_ps(w, _mm256_loadu_ps(v + 8 * l), acc[l]);
        }
        for (int l = 0; l < lanes; ++l) _mm256_storeu_ps(out + d0 + 8 * l, _mm256_mul_ps(acc[l], _mm256_set1_ps(inverse)));
    }
}
#endif

struct Job {
    const AttentionShape* shape;
    const float* qkv;
    const int32_t* seqlens;
    const float* cos;
    const float* sin;
    float* keys;
    float* values;
    float* out;
};

int64_t position(const Job& job, int64_t b, int64_t row) {
    return static_cast<int64_t>(job.seqlens[b]) + 1 - job.shape->rows + row;
}

// Task (b, row): rotate the row's keys and write them and its values into the cache.
void store(void* data, size_t task) {
    const auto& job = *static_cast<const Job*>(data);
    const AttentionShape& s = *job.shape;
    const int64_t b = static_cast<int64_t>(task) / s.rows, row = static_cast<int64_t>(task) % s.rows;
    const int64_t pos = position(job, b, row);
    if (pos < 0 || pos >= s.capacity) return;
    const float* packed = job.qkv + (b * s.rows + row) * (s.heads + 2 * s.kv_heads) * s.dim;
    const float* cos = job.cos + pos * (s.rotary / 2);
    const float* sin = job.sin + pos * (s.rotary / 2);
    for (int64_t h = 0; h < s.kv_heads; ++h) {
        float* key = job.keys + ((b * s.kv_heads + h) * s.capacity + pos) * s.dim;
        std::memcpy(key, packed + (s.heads + h) * s.dim, s.dim * sizeof(float));
        rotate(key, cos, sin, s.rotary, s.interleaved);
        std::memcpy(job.values + ((b * s.kv_heads + h) * s.capacity + pos) * s.dim,
                    packed + (s.heads + s.kv_heads + h) * s.dim, s.dim * sizeof(float));
    }
}

// Task (b, row, head): one query row of one head.
void attend(void* data, size_t task) {
    const auto& job = *static_cast<const Job*>(data);
    const AttentionShape& s = *job.shape;
    const int64_t h = static_cast<int64_t>(task) % s.heads, br = static_cast<int64_t>(task) / s.heads;
    const int64_t b = br / s.rows, row = br % s.rows;
    float* out = job.out + (br * s.heads + h) * s.dim;
    const int64_t pos = position(job, b, row);
    if (pos < 0 || pos >= s.capacity) {
        std::fill(out, out + s.dim, 0.f);
        return;
    }
    thread_local std::vector<float> q, scores;
    q.assign(job.qkv + (br * (s.heads + 2 * s.kv_heads) + h) * s.dim,
             job.qkv + (br * (s.heads + 2 * s.kv_heads) + h + 1) * s.dim);
    rotate(q.data(), job.cos + pos * (s.rotary / 2), job.sin + pos * (s.rotary / 2), s.rotary, s.interleaved);
    const int64_t first = s.window > 0 ? std::max<int64_t>(0, pos - s.window + 1) : 0, count = pos - first + 1;
    if (static_cast<int64_t>(scores.size()) < count) scores.resize(static_cast<size_t>(count));
    const int64_t kv = h / (s.heads / s.kv_heads);
    const float* keys = job.keys + (b * s.kv_heads + kv) * s.capacity * s.dim;
    const float* values = job.values + (b * s.kv_heads + kv) * s.capacity * s.dim;
#if INKWELL_X86
    if (using_avx2()) {
        attend_avx2(q.data(), keys, values, first, count, s.dim, s.scale, s.softcap, scores.data(), out);
        return;
    }
#endif
    attend_plain(q.data(), keys, values, first, count, s.dim, s.scale, s.softcap, scores.data(), out);
}

}  // namespace

void attention(const AttentionShape& shape, const float* qkv, const int32_t* seqlens, const float* cos,
               const float* sin, float* keys, float* values, float* out, const Parallel& parallel) {
    Job job{&shape, qkv, seqlens, cos, sin, keys, values, out};
    parallel(static_cast<size_t>(shape.batch * shape.rows), store, &job);
    parallel(static_cast<size_t>(shape.batch * shape.rows * shape.heads), attend, &job);
}

}  // namespace inkwell
