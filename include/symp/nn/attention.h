#pragma once
// Softmax attention for long sequences on the CPU, a few heads at a time. Includes torch.
//
// [B, heads, T, T] scores for a 16 s reply (1,400 mel frames) or a 30 s WhisperVQ window (1,500 frames) are
// 120-180 MB per call; glibc maps blocks that large afresh on every allocation and the kernel zero-fills
// them, so the speech decoder spent more time in page faults than in arithmetic. Blocks of at most
// `block_bytes` of scores are served from the heap and reused.
//
//   auto out = symp::nn::blocked_attention(q, k, v, bias, 1.0 / std::sqrt(head_dim));
#include <torch/torch.h>

namespace symp::nn {

// softmax(scale * q k^T + bias) v. q [B, H, Tq, D], k [B, H, Tk, D], v [B, H, Tk, Dv]; bias undefined or
// [B or 1, H or 1, Tq, Tk] (added after scaling). Returns [B, H, Tq, Dv]. On a GPU it is one fused call
// (scaled_dot_product_attention where torch has it), where memory is pooled and blocks only add launches.
torch::Tensor blocked_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                const torch::Tensor& bias, double scale,
                                int64_t block_bytes = int64_t{16} << 20);

}  // namespace symp::nn
