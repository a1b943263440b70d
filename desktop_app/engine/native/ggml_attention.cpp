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

constexpr int kHeadsAtOnce = 8;  // query heads of one kv head a task computes together, at most

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

// The heads of one kv head (N of them, q [N][dim], scores [N][count], out [N][dim]): each
// block of eight keys, and then each value row, is read once from the cache for all N
// heads, and every head's arithmetic is what it would be alone (dot8 over the same eight
// keys, the values summed in order), whatever N is.
template <int N>
AVX2 void attend_avx2(const float* q, const float* keys, const float* values, int64_t first, int64_t count,
                      int64_t dim, float scale, float softcap, float* scores, float* out) {
    float top[N];
    INKWELL_UNROLL for (int j = 0; j < N; ++j) top[j] = -INFINITY;
    int64_t t = 0;
    if (dim % 8 == 0) {
        __m256 tops[N];
        INKWELL_UNROLL for (int j = 0; j < N; ++j) tops[j] = _mm256_set1_ps(-INFINITY);
        for (; t + 8 <= count; t += 8) {
            const float* k = keys + (first + t) * dim;
            INKWELL_UNROLL for (int j = 0; j < N; ++j) {
                float* row = scores + j * count;
                __m256 v = _mm256_mul_ps(dot8(q + j * dim, k, dim), _mm256_set1_ps(scale));
                _mm256_storeu_ps(row + t, v);
                if (softcap > 0.f) {
                    for (int i = 0; i < 8; ++i) row[t + i] = softcap * std::tanh(row[t + i] / softcap);
                    v = _mm256_loadu_ps(row + t);
                }
                tops[j] = _mm256_max_ps(tops[j], v);
            }
        }
        for (int j = 0; j < N; ++j) {
            float lanes[8];
            _mm256_storeu_ps(lanes, tops[j]);
            for (float lane : lanes) top[j] = std::max(top[j], lane);
        }
    }
    for (; t < count; ++t)
        for (int j = 0; j < N; ++j) {
            float v = dot(q + j * dim, keys + (first + t) * dim, dim) * scale;
            if (softcap > 0.f) v = softcap * std::tanh(v / softcap);
            scores[j * count + t] = v;
            top[j] = std::max(top[j], v);
        }
    float inverse[N];
    for (int j = 0; j < N; ++j) {
        float* row = scores + j * count;
        const __m256 shift = _mm256_set1_ps(top[j]);
        __m256 sums = _mm256_setzero_ps();
        t = 0;
        for (; t + 8 <= count; t += 8) {
            const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(row + t), shift));
            _mm256_storeu_ps(row + t, e);
            sums = _mm256_add_ps(sums, e);
        }
        if (t < count) {  // the last few, padded with -inf (e = 0)
            float tail[8];
            for (int i = 0; i < 8; ++i) tail[i] = t + i < count ? row[t + i] - top[j] : -INFINITY;
            const __m256 e = exp8(_mm256_loadu_ps(tail));
            _mm256_storeu_ps(tail, e);
            for (int64_t i = 0; t + i < count; ++i) row[t + i] = tail[i];
            sums = _mm256_add_ps(sums, e);
        }
        inverse[j] = 1.f / horizontal_sum(sums);
    }
    // the weighted values, W registers (8 W dims) of every head at a time: each value row's
    // part read once for the N heads, in registers (N · W accumulators)
    constexpr int W = N == 1 ? 4 : N == 2 ? 4 : N <= 4 ? 2 : 1;
    for (int64_t d0 = 0; d0 < dim; d0 += 8 * W) {
        const int64_t width = std::min<int64_t>(8 * W, dim - d0);
        if (width % 8) {  // a head size not a multiple of 8: the plain loop for this part
            for (int j = 0; j < N; ++j)
                for (int64_t d = d0; d < d0 + width; ++d) {
                    float sum = 0.f;
                    for (int64_t u = 0; u < count; ++u) sum += scores[j * count + u] * values[(first + u) * dim + d];
                    out[j * dim + d] = sum * inverse[j];
                }
            continue;
        }
        const int lanes = static_cast<int>(width / 8);
        __m256 acc[N][W];
        INKWELL_UNROLL for (int j = 0; j < N; ++j) INKWELL_UNROLL for (int l = 0; l < W; ++l) acc[j][l] = _mm256_setzero_ps();
        for (int64_t u = 0; u < count; ++u) {
            const float* v = values + (first + u) * dim + d0;
            __m256 part[W];
            INKWELL_UNROLL for (int l = 0; l < W; ++l) part[l] = l < lanes ? _mm256_loadu_ps(v + 8 * l) : _mm256_setzero_ps();
            INKWELL_UNROLL for (int j = 0; j < N; ++j) {
                const __m256 w = _mm256_set1_ps(scores[j * count + u]);
                INKWELL_UNROLL for (int l = 0; l < W; ++l) if (l < lanes) acc[j][l] = _mm256_fmadd_ps(w, part[l], acc[j][l]);
            }
        }
        for (int j = 0; j < N; ++j)
            for (int l = 0; l < lanes; ++l)
                _mm256_storeu_ps(out + j * dim + d0 + 8 * l, _mm256_mul_ps(acc[j][l], _mm256_set1_ps(inverse[j])));
    }
}

AVX2 void attend_avx2(int n, const float* q, const float* keys, const float* values, int64_t first, int64_t count,
                      int64_t dim, float scale, float softcap, float* scores, float* out) {
    while (n > 0) {  // in fours, then the rest
        const int now = n >= 4 ? 4 : n;
        switch (now) {
            case 4: attend_avx2<4>(q, keys, values, first, count, dim, scale, softcap, scores, out); break;
            case 3: attend_avx2<3>(q, keys, values, first, count, dim, scale, softcap, scores, out); break;
            case 2: attend_avx2<2>(q, keys, values, first, count, dim, scale, softcap, scores, out); break;
            default: attend_avx2<1>(q, keys, values, first, count, dim, scale, softcap, scores, out); break;
        }
        q += now * dim;
        scores += now * count;
        out += now * dim;
        n -= now;
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
    int64_t per_task;  // query heads a task computes (of one kv head)
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

// Task (kv head, b, row, part): query heads of one kv head for one row, at most
// kHeadsAtOnce of them (attention() chooses how many: `per_task`). A kv head's tasks are
// consecutive, so the tasks a thread runs one after another mostly read the same head's
// keys and values, which stay in its L2. In row order, with SmolLM2's three kv heads of
// ~180 KB each at 350 positions (more than a 512 KB L2 together), every row read them
// again from L3 or memory: a pass checking proposals paid ~0.9 ms for its second row's
// attention, ~0.4 in this order (Shorten on the speculation bench's passages, the two
// orders alternated per passage: 1.86x -> 1.96x plain decoding).
void attend(void* data, size_t task) {
    const auto& job = *static_cast<const Job*>(data);
    const AttentionShape& s = *job.shape;
    const int64_t group = s.heads / s.kv_heads, parts = (group + job.per_task - 1) / job.per_task;
    const int64_t part = static_cast<int64_t>(task) % parts, rest = static_cast<int64_t>(task) / parts;
    const int64_t all_rows = s.batch * s.rows, br = rest % all_rows, kv = rest / all_rows;
    const int64_t b = br / s.rows, row = br % s.rows;
    const int64_t h0 = kv * group + part * job.per_task, n = std::min(job.per_task, (kv + 1) * group - h0);
    float* out = job.out + (br * s.heads + h0) * s.dim;
    const int64_t pos = position(job, b, row);
    if (pos < 0 || pos >= s.capacity) {
        std::fill(out, out + n * s.dim, 0.f);
        return;
    }
    thread_local std::vector<float> q, scores;
    const float* packed = job.qkv + br * (s.heads + 2 * s.kv_heads) * s.dim;
    q.assign(packed + h0 * s.dim, packed + (h0 + n) * s.dim);
    for (int64_t j = 0; j < n; ++j)
        rotate(q.data() + j * s.dim, job.cos + pos * (s.rotary / 2), job.sin + pos * (s.rotary / 2), s.rotary,
               s.interleaved);
    const int64_t first = s.window > 0 ? std::max<int64_t>(0, pos - s.window + 1) : 0, count = pos - first + 1;
    if (static_cast<int64_t>(scores.size()) < n * count) scores.resize(static_cast<size_t>(n * count));
    const float* keys = job.keys + (b * s.kv_heads + kv) * s.capacity * s.dim;
    const float* values = job.values + (b * s.kv_heads + kv) * s.capacity * s.dim;
#if INKWELL_X86
    if (using_avx2()) {
        attend_avx2(static_cast<int>(n), q.data(), keys, values, first, count, s.dim, s.scale, s.softcap,
                    scores.data(), out);
        return;
    }
#endif
    for (int64_t j = 0; j < n; ++j)
        attend_plain(q.data() + j * s.dim, keys, values, first, count, s.dim, s.scale, s.softcap, scores.data(),
                     out + j * s.dim);
}

}  // namespace

void attention(const AttentionShape& shape, const float* qkv, const int32_t* seqlens, const float* cos,
               const float* sin, float* keys, float* values, float* out, const Parallel& parallel) {
    // All of a kv head's query heads in one task once there are enough tasks to share
    // (a prompt, a check of several rows), else half of them (a decoded token's few tasks
    // still keep both threads busy); the arithmetic is the same either way.
    const int64_t group = shape.heads / shape.kv_heads, rows = shape.batch * shape.rows;
    int64_t per_task = rows * shape.kv_heads >= 8 ? group : (group + 1) / 2;
    per_task = std::max<int64_t>(1, std::min<int64_t>(per_task, kHeadsAtOnce));
    Job job{&shape, qkv, seqlens, cos, sin, keys, values, out, per_task};
    parallel(static_cast<size_t>(rows), store, &job);
    const int64_t parts = (group + per_task - 1) / per_task;
    parallel(static_cast<size_t>(rows * shape.kv_heads * parts), attend, &job);
}

}  // namespace inkwell
