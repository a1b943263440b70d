// GgmlAttention's kernel (ggml_attention.cpp): attention over an in-place KV cache in which
// every query row is computed alone, so that it has the same bits in any pass.
#pragma once

#include <cstddef>
#include <cstdint>

namespace inkwell {

struct AttentionShape {
    int64_t batch, rows, heads, kv_heads, dim;
    int64_t rotary;    // the dims rotated (2 x the cos/sin tables' width)
    int64_t capacity;  // positions the cache buffers hold
    int64_t window;    // 0: every earlier position; else the last `window`, the row's own included
    float scale, softcap;
    bool interleaved;  // rotary pairs adjacent (2i, 2i+1), else halves (i, i + rotary/2)
};

// fn(job, task) for task < total, shared among threads.
struct Parallel {
    void (*run)(void* context, size_t total, void (*fn)(void*, size_t), void* job);
    void* context;
    void operator()(size_t total, void (*fn)(void*, size_t), void* job) const { run(context, total, fn, job); }
};

// qkv [batch, rows, (heads + 2 kv_heads) · dim]; seqlens[b] + 1 the valid length of batch
// row b after this call; cos/sin [positions, rotary / 2]; keys/values [batch, kv_heads,
// capacity, dim], the past already in place; out [batch, rows, heads · dim].
void attention(const AttentionShape& shape, const float* qkv, const int32_t* seqlens, const float* cos,
               const float* sin, float* keys, float* values, float* out, const Parallel& parallel);

}  // namespace inkwell
