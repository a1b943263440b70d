// Two ONNX Runtime custom operators (domain "inkwell.ggml") that read GGUF's block layouts:
//
//   GgmlMatMul(A float [..., K], B uint8 [N, K/block · block bytes]) -> Y float [..., N]
//       Y = A · Wᵀ, W the rows of B as llama.cpp dequantizes them (or its F16/BF16 values);
//       attribute ggml_type. With interleave=8 (optional; Q4_0..Q8_0, N a multiple of 8), B's
//       rows are interleaved by eights (ggml_blocks32.cpp has the layout).
//       With swiglu=1 (optional), A is [..., 2K], a feed-forward's gate then up, and Y =
//       (silu(gate) · up) · Wᵀ: the activation is applied where A is rounded to 8 bits.
//   GgmlGather(table uint8 [V, K/block · block bytes], indices int64 [...]) -> float [..., K]
//       the rows `indices` of the table as floats; attributes ggml_type and K (and
//       interleave, as GgmlMatMul's).
//   GgmlAttention(qkv float [B, S, (H + 2 KV) · D], past_key, past_value float [B, KV, P, D],
//                 seqlens_k int32 [B], cos, sin float [positions, R / 2])
//       -> output [B, S, H · D], present_key, present_value [B, KV, max(P, length), D]
//       GroupQueryAttention's computation with each query row alone (ggml_attention.cpp);
//       attributes num_heads, kv_num_heads, window, interleaved, scale, softcap.
//
// ONNX Runtime loads the library (SessionOptions.register_custom_ops_library) and calls
// RegisterCustomOps. Rows of the output are shared among ONNX Runtime's own intra-op
// threads (KernelContext_ParallelFor), so the session's thread count holds.
#include <algorithm>
#include <cmath>
#if defined(__SSE2__) || defined(_M_X64)
#include <emmintrin.h>
#endif
#include <cstring>
#include <mutex>
#include <string>
#include <vector>

#include "ggml_attention.h"
#include "ggml_kernels.h"
#include "ort_abi.h"

#if defined(_WIN32)
#define INKWELL_EXPORT __declspec(dllexport)
#else
#define INKWELL_EXPORT __attribute__((visibility("default")))
#endif

namespace inkwell {
namespace {

const OrtApi* g_api = nullptr;

constexpr const char* kDomain = "inkwell.ggml";
constexpr int64_t kRowsPerTask = kPanelRows;  // output columns a task computes (a few KB of weights)
constexpr int64_t kInputTile = 64;    // input rows a task takes at once while reusing a weight row
// From this many input rows on, a task repacks its K-quant rows (ggml_repacked.cpp): on
// Zen 2 that was as fast at 16 rows and 1.45x at 32 (Q4_K, 1536 x 17920), and the
// repacking's cost outweighs its gain below (4 rows: half the speed); a decoded token and
// a checked guess of a few tokens stay on the plain kernels.
constexpr int64_t kRepackInputs = 16;
constexpr size_t kKeptScratch = 1 << 20;  // rounded-input bytes kept between calls (decoding needs a few KB)

struct Failure {
    std::string message;
};

void check(OrtStatus* status) {
    if (status == nullptr) return;
    using GetMessage = const char* (*)(const OrtStatus*);
    std::string message = ort::at<GetMessage>(g_api, ort::kGetErrorMessage)(status);
    ort::at<ort::ReleaseStatusFn>(g_api, ort::kReleaseStatus)(status);
    throw Failure{message};
}

std::vector<int64_t> shape_of(const OrtValue* value) {
    OrtTensorTypeAndShapeInfo* info = nullptr;
    check(ort::at<ort::GetTensorTypeAndShapeFn>(g_api, ort::kGetTensorTypeAndShape)(value, &info));
    size_t count = 0;
    OrtStatus* status = ort::at<ort::GetDimensionsCountFn>(g_api, ort::kGetDimensionsCount)(info, &count);
    std::vector<int64_t> dims(count);
    if (status == nullptr && count)
        status = ort::at<ort::GetDimensionsFn>(g_api, ort::kGetDimensions)(info, dims.data(), count);
    ort::at<ort::ReleaseTensorTypeAndShapeInfoFn>(g_api, ort::kReleaseTensorTypeAndShapeInfo)(info);
    check(status);
    return dims;
}

const void* input(OrtKernelContext* context, size_t index, std::vector<int64_t>* dims) {
    const OrtValue* value = nullptr;
    check(ort::at<ort::KernelContextGetInputFn>(g_api, ort::kKernelContextGetInput)(context, index, &value));
    *dims = shape_of(value);
    void* data = nullptr;
    check(ort::at<ort::GetTensorMutableDataFn>(g_api, ort::kGetTensorMutableData)(const_cast<OrtValue*>(value), &data));
    return data;
}

void* output(OrtKernelContext* context, const std::vector<int64_t>& dims, size_t index = 0) {
    OrtValue* value = nullptr;
    check(ort::at<ort::KernelContextGetOutputFn>(g_api, ort::kKernelContextGetOutput)(context, index, dims.data(),
                                                                                      dims.size(), &value));
    void* data = nullptr;
    check(ort::at<ort::GetTensorMutableDataFn>(g_api, ort::kGetTensorMutableData)(value, &data));
    return data;
}

void parallel(OrtKernelContext* context, size_t total, void (*fn)(void*, size_t), void* job) {
    if (total == 1) {
        fn(job, 0);
        return;
    }
    check(ort::at<ort::KernelContextParallelForFn>(g_api, ort::kKernelContextParallelFor)(context, fn, total, 0, job));
}

int64_t element_count(const std::vector<int64_t>& dims, size_t until) {
    int64_t count = 1;
    for (size_t i = 0; i < until; ++i) count *= dims[i];
    return count;
}

struct Kernel {
    int64_t type = 0;
    int64_t k = 0;  // GgmlGather's row length
    bool gather = false;
    bool swiglu = false;  // GgmlMatMul: A is [gate | up]; multiply silu(gate) · up instead
    bool interleaved = false;  // the rows interleaved by eights (kInterleave)
    bool attention = false;
    AttentionShape shape{};  // GgmlAttention's attributes (the sizes are set per call)
};

// -- GgmlMatMul ------------------------------------------------------------------------

struct MatMulJob {
    bool swiglu, interleaved;
    int64_t type, m, n, blocks;
    size_t row_bytes, rounded_row;  // bytes of a weight row; of a rounded input row
    const float* a;
    const uint8_t* b;
    uint8_t* rounded;
    float* y;
    float* sums = nullptr;  // for repacked products: each rounded row's sums over sub-blocks
    int64_t sums_row = 0;
    float* scales4 = nullptr;  // a prompt's 32-weight products: the input scales, [group of 4 rows][block][row]
};

// silu(gate) · up, a row of a feed-forward. e^x (x = -gate, clamped to [-87, 88]) is 2^n · e^r
// with r = x - n·ln 2 and a degree-7 polynomial for e^r on |r| <= ln 2 / 2 (Cephes' expf
// coefficients), within a couple of ulp. SSE2 does four at a time: a prompt's feed-forward
// takes hundreds of millions of these, and libm's scalar expf made it 5% of a 1.5B model's
// prompt time.
constexpr float kLog2e = 1.44269504088896341f, kLn2High = 0.693359375f, kLn2Low = -2.12194440e-4f;
constexpr float kExpPoly[] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                              4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};

inline float silu_times(float gate, float up) {
    const float x = std::min(std::max(-gate, -87.0f), 88.0f);
    const float whole = std::nearbyint(x * kLog2e);
    const float r = (x - whole * kLn2High) - whole * kLn2Low;
    float p = kExpPoly[0];
    for (int i = 1; i < 6; ++i) p = p * r + kExpPoly[i];
    p = p * r * r + r + 1.0f;
    return gate / (1.0f + std::ldexp(p, static_cast<int>(whole))) * up;
}

void swiglu_row(const float* gate, const float* up, float* out, int64_t k) {
    int64_t j = 0;
#if defined(__SSE2__) || defined(_M_X64)
    const __m128 low = _mm_set1_ps(-87.0f), high = _mm_set1_ps(88.0f), one = _mm_set1_ps(1.0f);
    for (; j + 4 <= k; j += 4) {
        const __m128 g = _mm_loadu_ps(gate + j);
        const __m128 x = _mm_min_ps(_mm_max_ps(_mm_sub_ps(_mm_setzero_ps(), g), low), high);
        const __m128i n = _mm_cvtps_epi32(_mm_mul_ps(x, _mm_set1_ps(kLog2e)));  // to the nearest
        const __m128 whole = _mm_cvtepi32_ps(n);
        const __m128 r = _mm_sub_ps(_mm_sub_ps(x, _mm_mul_ps(whole, _mm_set1_ps(kLn2High))),
                                    _mm_mul_ps(whole, _mm_set1_ps(kLn2Low)));
        __m128 p = _mm_set1_ps(kExpPoly[0]);
        for (int i = 1; i < 6; ++i) p = _mm_add_ps(_mm_mul_ps(p, r), _mm_set1_ps(kExpPoly[i]));
        p = _mm_add_ps(_mm_add_ps(_mm_mul_ps(_mm_mul_ps(p, r), r), r), one);
        const __m128 scale = _mm_castsi128_ps(_mm_slli_epi32(_mm_add_epi32(n, _mm_set1_epi32(127)), 23));
        const __m128 sigmoid_den = _mm_add_ps(one, _mm_mul_ps(p, scale));
        _mm_storeu_ps(out + j, _mm_mul_ps(_mm_div_ps(g, sigmoid_den), _mm_loadu_ps(up + j)));
    }
#endif
    for (; j < k; ++j) out[j] = silu_times(gate[j], up[j]);
}

void round_rows(void* data, size_t task) {
    auto* job = static_cast<MatMulJob*>(data);
    const int64_t k = job->blocks * block_weights(job->type);
    uint8_t* rounded = job->rounded + task * job->rounded_row;
    if (job->swiglu) {  // the feed-forward's gate and up, multiplied here rather than by three nodes
        thread_local std::vector<float> activated;
        activated.resize(static_cast<size_t>(k));
        const float* gate = job->a + task * 2 * k;
        const float* up = gate + k;
        swiglu_row(gate, up, activated.data(), k);
        round_input(job->type, activated.data(), rounded, k);
    } else {
        round_input(job->type, job->a + task * k, rounded, k);
    }
    if (job->scales4) {
        const auto* blocks32 = reinterpret_cast<const BlockQ8x32*>(rounded);
        float* to = job->scales4 + (task / kRowsAtOnce) * job->blocks * kRowsAtOnce + task % kRowsAtOnce;
        for (int64_t i = 0; i < job->blocks; ++i) to[kRowsAtOnce * i] = blocks32[i].d;
    }
    if (job->sums)
        input_sums(job->type, reinterpret_cast<const BlockQ8K*>(rounded), job->blocks, job->sums + task * job->sums_row);
}

void multiply_repacked_rows(void* data, size_t task) {
    auto* job = static_cast<MatMulJob*>(data);
    const int64_t first = static_cast<int64_t>(task) * kRowsPerTask;
    const int cols = static_cast<int>(std::min(job->n, first + kRowsPerTask) - first);
    multiply_repacked(job->type, job->b + first * job->row_bytes, job->row_bytes, cols,
                      reinterpret_cast<const BlockQ8K*>(job->rounded), job->sums, job->m, job->blocks, job->y + first,
                      job->n);
}

void multiply(void* data, size_t task) {
    auto* job = static_cast<MatMulJob*>(data);
    const int64_t first = static_cast<int64_t>(task) * kRowsPerTask;
    const int64_t last = std::min(job->n, first + kRowsPerTask);
    if (job->interleaved) {  // any number of input rows: each gets the same arithmetic
        const BlockQ8x32* tile[kInputTile];
        for (int64_t i = 0; i < job->m; i += kInputTile) {  // a group's weights stay near for a tile's inputs
            const int count = static_cast<int>(std::min<int64_t>(kInputTile, job->m - i));
            for (int r = 0; r < count; ++r)
                tile[r] = reinterpret_cast<const BlockQ8x32*>(job->rounded + (i + r) * job->rounded_row);
            dot_groups_32(job->type, job->b + first * job->row_bytes, job->row_bytes, last - first, tile, count,
                          job->blocks, job->y + i * job->n + first, job->n);
        }
        return;
    }
    const void* inputs[kRowsAtOnce];
    if (job->m <= kRowsAtOnce) {  // a decoded token: the task's weight rows in one call
        for (int r = 0; r < job->m; ++r) inputs[r] = job->rounded + r * job->rounded_row;
        dot_rows(job->type, job->b + first * job->row_bytes, job->row_bytes, last - first, inputs,
                 static_cast<int>(job->m), job->blocks, job->y + first, job->n);
        return;
    }
    const bool four_at_once = job->scales4 != nullptr;
    if (!four_at_once && job->m <= kInputTile) {  // checked guesses: each four inputs over the task's rows, as decoding
        for (int64_t i = 0; i < job->m; i += kRowsAtOnce) {
            const int count = static_cast<int>(std::min<int64_t>(kRowsAtOnce, job->m - i));
            for (int r = 0; r < count; ++r) inputs[r] = job->rounded + (i + r) * job->rounded_row;
            dot_rows(job->type, job->b + first * job->row_bytes, job->row_bytes, last - first, inputs, count,
                     job->blocks, job->y + i * job->n + first, job->n);
        }
        return;
    }
    for (int64_t tile = 0; tile < job->m; tile += kInputTile) {  // a weight row stays in L1 for a tile's inputs
        const int64_t tile_end = std::min(job->m, tile + kInputTile);
        for (int64_t col = first; col < last; ++col) {
            const uint8_t* row = job->b + col * job->row_bytes;
            for (int64_t i = tile; i < tile_end; i += kRowsAtOnce) {
                const int count = static_cast<int>(std::min<int64_t>(kRowsAtOnce, tile_end - i));
                for (int r = 0; r < count; ++r) inputs[r] = job->rounded + (i + r) * job->rounded_row;
                float four[kRowsAtOnce];
                const float* scales = four_at_once ? job->scales4 + i * job->blocks : nullptr;  // i: a multiple of 4
                if (scales && count == kRowsAtOnce &&
                    dot_four_32(job->type, row, reinterpret_cast<const BlockQ8x32* const*>(inputs), scales, job->blocks,
                                four)) {
                    for (int r = 0; r < count; ++r) job->y[(i + r) * job->n + col] = four[r];
                    continue;
                }
                dot_rows(job->type, row, job->row_bytes, 1, inputs, count, job->blocks, job->y + i * job->n + col,
                         job->n);
            }
        }
    }
}

void compute_matmul(const Kernel& kernel, OrtKernelContext* context) {
    std::vector<int64_t> a_dims, b_dims;
    const auto* a = static_cast<const float*>(input(context, 0, &a_dims));
    const auto* b = static_cast<const uint8_t*>(input(context, 1, &b_dims));
    const int64_t per_block = block_weights(kernel.type);
    if (a_dims.empty() || b_dims.size() != 2) throw Failure{"GgmlMatMul: A needs a last axis and B two axes"};
    if (kernel.swiglu && a_dims.back() % 2) throw Failure{"GgmlMatMul: swiglu needs [gate | up] of even length"};
    const int64_t k = kernel.swiglu ? a_dims.back() / 2 : a_dims.back(), n = b_dims[0], blocks = k / per_block;
    if (k % per_block || static_cast<size_t>(b_dims[1]) != static_cast<size_t>(blocks) * block_bytes(kernel.type))
        throw Failure{"GgmlMatMul: B's rows do not hold K = " + std::to_string(k) + " weights of this type"};
    if (kernel.interleaved && n % kInterleave)
        throw Failure{"GgmlMatMul: interleaved rows come in eights, and B has " + std::to_string(n)};
    std::vector<int64_t> y_dims(a_dims);
    y_dims.back() = n;
    auto* y = static_cast<float*>(output(context, y_dims));
    const int64_t m = element_count(a_dims, a_dims.size() - 1);
    if (m == 0 || n == 0) return;
    const size_t rounded_row = static_cast<size_t>(blocks) * rounded_block_bytes(kernel.type);
    thread_local std::vector<uint64_t> rounded;  // 8-byte aligned for the rounded blocks' floats
    rounded.resize((static_cast<size_t>(m) * rounded_row + 7) / 8);
    auto* rounded_bytes = reinterpret_cast<uint8_t*>(rounded.data());
    MatMulJob job{kernel.swiglu, kernel.interleaved, kernel.type, m, n, blocks, static_cast<size_t>(b_dims[1]),
                  rounded_row, a, b, rounded_bytes, y};
    const int sub = m >= kRepackInputs ? repacked_sub_block(kernel.type) : 0;
    thread_local std::vector<float> sums;
    if (sub) {
        job.sums_row = blocks * (kSuperBlock / sub);
        sums.resize(static_cast<size_t>(m * job.sums_row));
        job.sums = sums.data();
    }
    thread_local std::vector<float> scales4;
    if (m >= kRepackInputs && block32_bytes(kernel.type) && !kernel.interleaved) {
        scales4.resize(static_cast<size_t>((m + kRowsAtOnce - 1) / kRowsAtOnce * kRowsAtOnce * blocks));
        job.scales4 = scales4.data();
    }
    parallel(context, static_cast<size_t>(m), round_rows, &job);
    parallel(context, static_cast<size_t>((n + kRowsPerTask - 1) / kRowsPerTask), sub ? multiply_repacked_rows : multiply,
             &job);
    if (rounded.capacity() * 8 > kKeptScratch) std::vector<uint64_t>().swap(rounded);  // a long prompt's: let it go
    if (sums.capacity() * 4 > kKeptScratch) std::vector<float>().swap(sums);
    if (scales4.capacity() * 4 > kKeptScratch) std::vector<float>().swap(scales4);
}

// -- GgmlGather ------------------------------------------------------------------------

void compute_gather(const Kernel& kernel, OrtKernelContext* context) {
    std::vector<int64_t> table_dims, index_dims;
    const auto* table = static_cast<const uint8_t*>(input(context, 0, &table_dims));
    const auto* indices = static_cast<const int64_t*>(input(context, 1, &index_dims));
    const int64_t per_block = block_weights(kernel.type);
    const size_t row_bytes = static_cast<size_t>(kernel.k / per_block) * block_bytes(kernel.type);
    if (kernel.k % per_block || table_dims.size() != 2 || static_cast<size_t>(table_dims[1]) != row_bytes)
        throw Failure{"GgmlGather: the table's rows do not hold K = " + std::to_string(kernel.k) + " weights"};
    if (kernel.interleaved && table_dims[0] % kInterleave)
        throw Failure{"GgmlGather: interleaved rows come in eights, and the table has " + std::to_string(table_dims[0])};
    std::vector<int64_t> out_dims(index_dims);
    out_dims.push_back(kernel.k);
    auto* out = static_cast<float*>(output(context, out_dims));
    const int64_t count = element_count(index_dims, index_dims.size());
    for (int64_t i = 0; i < count; ++i) {
        int64_t row = indices[i];
        if (row < 0) row += table_dims[0];
        if (row < 0 || row >= table_dims[0]) throw Failure{"GgmlGather: index out of range"};
        if (kernel.interleaved)
            dequantize_interleaved(kernel.type, table, row_bytes, row, out + i * kernel.k, kernel.k);
        else
            dequantize_row(kernel.type, table + row * row_bytes, out + i * kernel.k, kernel.k);
    }
}

// -- GgmlAttention -----------------------------------------------------------------------

void run_parallel(void* context, size_t total, void (*fn)(void*, size_t), void* job) {
    parallel(static_cast<OrtKernelContext*>(context), total, fn, job);
}

void compute_attention(const Kernel& kernel, OrtKernelContext* context) {
    std::vector<int64_t> qkv_dims, key_dims, value_dims, lengths_dims, cos_dims, sin_dims;
    const auto* qkv = static_cast<const float*>(input(context, 0, &qkv_dims));
    auto* past_key = static_cast<float*>(const_cast<void*>(input(context, 1, &key_dims)));
    auto* past_value = static_cast<float*>(const_cast<void*>(input(context, 2, &value_dims)));
    const auto* seqlens = static_cast<const int32_t*>(input(context, 3, &lengths_dims));
    const auto* cos = static_cast<const float*>(input(context, 4, &cos_dims));
    const auto* sin = static_cast<const float*>(input(context, 5, &sin_dims));
    AttentionShape s = kernel.shape;
    const int64_t packed = s.heads + 2 * s.kv_heads;
    if (qkv_dims.size() != 3 || key_dims.size() != 4 || key_dims != value_dims || cos_dims.size() != 2 ||
        cos_dims != sin_dims || qkv_dims[2] % packed)
        throw Failure{"GgmlAttention: inputs of unexpected ranks or shapes"};
    s.batch = qkv_dims[0];
    s.rows = qkv_dims[1];
    s.dim = qkv_dims[2] / packed;
    s.rotary = 2 * cos_dims[1];
    if (key_dims[0] != s.batch || key_dims[1] != s.kv_heads || key_dims[3] != s.dim || s.rotary > s.dim ||
        element_count(lengths_dims, lengths_dims.size()) != s.batch)
        throw Failure{"GgmlAttention: the cache, lengths or rotary tables do not fit the query"};
    int64_t length = 0;
    for (int64_t b = 0; b < s.batch; ++b) length = std::max<int64_t>(length, seqlens[b] + 1);
    if (length > cos_dims[0]) throw Failure{"GgmlAttention: a position past the rotary tables"};
    const int64_t past = key_dims[2];
    s.capacity = std::max(past, length);
    const std::vector<int64_t> present_dims{s.batch, s.kv_heads, s.capacity, s.dim};
    auto* keys = static_cast<float*>(output(context, present_dims, 1));
    auto* values = static_cast<float*>(output(context, present_dims, 2));
    auto* out = static_cast<float*>(output(context, {s.batch, s.rows, s.heads * s.dim}, 0));
    if (keys != past_key || values != past_value) {  // not bound in place: the past is copied first
        for (int64_t bh = 0; bh < s.batch * s.kv_heads; ++bh) {
            std::memcpy(keys + bh * s.capacity * s.dim, past_key + bh * past * s.dim, past * s.dim * sizeof(float));
            std::memcpy(values + bh * s.capacity * s.dim, past_value + bh * past * s.dim, past * s.dim * sizeof(float));
        }
    }
    attention(s, qkv, seqlens, cos, sin, keys, values, out, Parallel{run_parallel, context});
}

// -- the operator table --------------------------------------------------------------------

OrtStatus* create_kernel_v2(const OrtCustomOp* op, const OrtApi*, const OrtKernelInfo* info, void** out) try {
    auto* kernel = new Kernel();
    kernel->gather = std::strcmp(op->GetName(op), "GgmlGather") == 0;
    kernel->attention = std::strcmp(op->GetName(op), "GgmlAttention") == 0;
    auto attribute = ort::at<ort::KernelInfoGetAttributeInt64Fn>(g_api, ort::kKernelInfoGetAttributeInt64);
    if (kernel->attention) {
        auto real = ort::at<ort::KernelInfoGetAttributeFloatFn>(g_api, ort::kKernelInfoGetAttributeFloat);
        AttentionShape& s = kernel->shape;
        int64_t interleaved = 0;
        OrtStatus* status = attribute(info, "num_heads", &s.heads);
        if (status == nullptr) status = attribute(info, "kv_num_heads", &s.kv_heads);
        if (status == nullptr) status = attribute(info, "window", &s.window);
        if (status == nullptr) status = attribute(info, "interleaved", &interleaved);
        if (status == nullptr) status = real(info, "scale", &s.scale);
        if (status == nullptr) status = real(info, "softcap", &s.softcap);
        s.interleaved = interleaved != 0;
        if (status == nullptr && (s.heads <= 0 || s.kv_heads <= 0 || s.heads % s.kv_heads))
            status = ort::at<ort::CreateStatusFn>(g_api, ort::kCreateStatus)(
                kOrtInvalidArgument, "inkwell.ggml: GgmlAttention's heads do not group over its kv heads");
        if (status != nullptr) {
            delete kernel;
            return status;
        }
        *out = kernel;
        return nullptr;
    }
    OrtStatus* status = attribute(info, "ggml_type", &kernel->type);
    if (status == nullptr && kernel->gather) status = attribute(info, "K", &kernel->k);
    if (status == nullptr) {  // optional: absent in graphs made before it
        int64_t interleave = 0;
        OrtStatus* missing = attribute(info, "interleave", &interleave);
        if (missing != nullptr) ort::at<ort::ReleaseStatusFn>(g_api, ort::kReleaseStatus)(missing);
        kernel->interleaved = missing == nullptr && interleave != 0;
        if (kernel->interleaved && (interleave != kInterleave || !interleavable(kernel->type)))
            status = ort::at<ort::CreateStatusFn>(
                g_api, ort::kCreateStatus)(kOrtInvalidArgument, "inkwell.ggml: rows are interleaved by 8, and only "
                                                                "for Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0");
    }
    if (status == nullptr && !kernel->gather) {  // optional: absent in graphs made before it
        int64_t swiglu = 0;
        OrtStatus* missing = attribute(info, "swiglu", &swiglu);
        if (missing != nullptr) ort::at<ort::ReleaseStatusFn>(g_api, ort::kReleaseStatus)(missing);
        kernel->swiglu = missing == nullptr && swiglu != 0;
    }
    if (status == nullptr && block_bytes(kernel->type) == 0)
        status = ort::at<ort::CreateStatusFn>(g_api, ort::kCreateStatus)(
            kOrtInvalidArgument, ("inkwell.ggml: GGML type " + std::to_string(kernel->type) + " is not held").c_str());
    if (status != nullptr) {
        delete kernel;
        return status;
    }
    *out = kernel;
    return nullptr;
} catch (const std::exception& error) {
    return ort::at<ort::CreateStatusFn>(g_api, ort::kCreateStatus)(kOrtFail, error.what());
}

OrtStatus* compute_v2(void* data, OrtKernelContext* context) {
    const auto* kernel = static_cast<const Kernel*>(data);
    try {
        if (kernel->attention)
            compute_attention(*kernel, context);
        else if (kernel->gather)
            compute_gather(*kernel, context);
        else
            compute_matmul(*kernel, context);
    } catch (const Failure& failure) {
        return ort::at<ort::CreateStatusFn>(g_api, ort::kCreateStatus)(kOrtInvalidArgument, failure.message.c_str());
    } catch (const std::exception& error) {
        return ort::at<ort::CreateStatusFn>(g_api, ort::kCreateStatus)(kOrtFail, error.what());
    }
    return nullptr;
}

void destroy(void* kernel) { delete static_cast<Kernel*>(kernel); }

OrtElementType matmul_input(const OrtCustomOp*, size_t index) { return index == 0 ? kOrtFloat : kOrtUint8; }
OrtElementType gather_input(const OrtCustomOp*, size_t index) { return index == 0 ? kOrtUint8 : kOrtInt64; }
OrtElementType float_output(const OrtCustomOp*, size_t) { return kOrtFloat; }
size_t two(const OrtCustomOp*) { return 2; }
size_t one(const OrtCustomOp*) { return 1; }
const char* cpu(const OrtCustomOp*) { return nullptr; }
OrtCharacteristic required(const OrtCustomOp*, size_t) { return kOrtRequired; }
OrtMemoryType default_memory(const OrtCustomOp*, size_t) { return kOrtMemDefault; }
int zero(const OrtCustomOp*) { return 0; }
const char* matmul_name(const OrtCustomOp*) { return "GgmlMatMul"; }
const char* gather_name(const OrtCustomOp*) { return "GgmlGather"; }
const char* attention_name(const OrtCustomOp*) { return "GgmlAttention"; }
OrtElementType attention_input(const OrtCustomOp*, size_t index) { return index == 3 ? kOrtInt32 : kOrtFloat; }
size_t six(const OrtCustomOp*) { return 6; }
size_t three(const OrtCustomOp*) { return 3; }

enum class Op { kMatMul, kGather, kAttention };

OrtCustomOp make_op(Op which) {
    OrtCustomOp op{};
    op.version = ort::kCustomOpVersion;
    const bool gather = which == Op::kGather, attention = which == Op::kAttention;
    op.GetName = attention ? attention_name : gather ? gather_name : matmul_name;
    op.GetExecutionProviderType = cpu;
    op.GetInputType = attention ? attention_input : gather ? gather_input : matmul_input;
    op.GetInputTypeCount = attention ? six : two;
    op.GetOutputType = float_output;
    op.GetOutputTypeCount = attention ? three : one;
    op.KernelDestroy = destroy;
    op.GetInputCharacteristic = required;
    op.GetOutputCharacteristic = required;
    op.GetInputMemoryType = default_memory;
    op.GetVariadicInputMinArity = zero;
    op.GetVariadicInputHomogeneity = zero;
    op.GetVariadicOutputMinArity = zero;
    op.GetVariadicOutputHomogeneity = zero;
    op.CreateKernelV2 = create_kernel_v2;
    op.KernelComputeV2 = compute_v2;
    return op;
}

OrtCustomOp g_matmul = make_op(Op::kMatMul);
OrtCustomOp g_gather = make_op(Op::kGather);
OrtCustomOp g_attention = make_op(Op::kAttention);

}  // namespace
}  // namespace inkwell

extern "C" INKWELL_EXPORT OrtStatus* RegisterCustomOps(OrtSessionOptions* options,
                                                                                const OrtApiBase* base) {
    using namespace inkwell;

    // One domain for the process: sessions keep a reference to it, so it lives as long.
    static OrtCustomOpDomain* domain = nullptr;
    static std::mutex made;
    std::lock_guard<std::mutex> lock(made);
    if (g_api == nullptr) g_api = base->GetApi(ort::kApiVersion);
    if (g_api == nullptr) return nullptr;  // a runtime older than 1.17: the graph then fails to load, and says so
    OrtStatus* status = nullptr;
    if (domain == nullptr) {
        OrtCustomOpDomain* fresh = nullptr;
        status = ort::at<ort::CreateCustomOpDomainFn>(g_api, ort::kCreateCustomOpDomain)(kDomain, &fresh);
        if (status == nullptr) status = ort::at<ort::CustomOpDomainAddFn>(g_api, ort::kCustomOpDomainAdd)(fresh, &g_matmul);
        if (status == nullptr) status = ort::at<ort::CustomOpDomainAddFn>(g_api, ort::kCustomOpDomainAdd)(fresh, &g_gather);
        if (status == nullptr)
            status = ort::at<ort::CustomOpDomainAddFn>(g_api, ort::kCustomOpDomainAdd)(fresh, &g_attention);
        if (status != nullptr) return status;
        domain = fresh;
    }
    return ort::at<ort::AddCustomOpDomainFn>(g_api, ort::kAddCustomOpDomain)(options, domain);
}

// A name Python's importer would look for, so the library can also live as an extension
// module of the package (setuptools builds it); nothing imports it as a module.
extern "C" INKWELL_EXPORT void* PyInit__ggml_ops() { return nullptr; }

// For tests: whether the AVX2 kernels are in use.
extern "C" INKWELL_EXPORT int inkwell_ggml_uses_avx2() { return inkwell::using_avx2() ? 1 : 0; }

// For tests: an input row rounded as a product of `type` rounds it (the bytes of its
// rounded blocks, which `out` must have room for); returns their count.
extern "C" INKWELL_EXPORT int64_t inkwell_ggml_round_input(int64_t type, const float* x, void* out, int64_t k) {
    inkwell::round_input(type, x, out, k);
    return static_cast<int64_t>(k / inkwell::block_weights(type) * inkwell::rounded_block_bytes(type));
}

// The input rows from which Q4_K products are repacked (0: never, on this CPU), for the tests.
extern "C" INKWELL_EXPORT int64_t inkwell_ggml_repacked_from() {
    return inkwell::repacked_sub_block(inkwell::kQ4K) ? inkwell::kRepackInputs : 0;
}
