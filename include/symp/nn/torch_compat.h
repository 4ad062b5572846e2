#pragma once
// The one place where libtorch 1.13 (Debian, CPU) and 2.x (CUDA builds) differ for symp.
#include <torch/torch.h>

#include <cmath>
#include <limits>

#if __has_include(<torch/version.h>)
#include <torch/version.h>
#endif

namespace symp::nn::compat {

#if defined(TORCH_VERSION_MAJOR) && TORCH_VERSION_MAJOR >= 2
constexpr bool kTorch2 = true;
#else
constexpr bool kTorch2 = false;
#endif

// Additive causal mask [tq, tk] for the last tq of tk positions (aligned bottom-right): query i sees keys
// up to tk - tq + i, and -inf beyond. Used by attention() below on 1.13 and by GLM decoding with a cache.
inline torch::Tensor causal_bias(int64_t tq, int64_t tk, const torch::TensorOptions& options) {
  auto upper = torch::ones({tq, tk}, options.dtype(torch::kBool)).triu(tk - tq + 1);
  return torch::zeros({tq, tk}, options).masked_fill(upper, -std::numeric_limits<float>::infinity());
}

// scaled_dot_product_attention exists from torch 2.0; 1.13 gets the explicit softmax(QK^T/sqrt(d))V.
// q, k, v: [B, H, T, D]; mask: additive float mask broadcastable to [B, H, Tq, Tk] or undefined.
inline torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               const torch::Tensor& mask, bool causal) {
#if defined(TORCH_VERSION_MAJOR) && TORCH_VERSION_MAJOR >= 2
  if (mask.defined()) return at::scaled_dot_product_attention(q, k, v, mask, 0.0, false);
  return at::scaled_dot_product_attention(q, k, v, {}, 0.0, causal);
#else
  // As PyTorch's multi-head attention does on 1.13: the scale and the mask folded into one batched GEMM.
  const int64_t b = q.size(0), h = q.size(1), tq = q.size(2), tk = k.size(2), d = q.size(3);
  auto q3 = q.reshape({b * h, tq, d});
  auto k3 = k.reshape({b * h, tk, d});
  auto v3 = v.reshape({b * h, tk, v.size(3)});
  torch::Tensor bias = mask;
  if (causal && !bias.defined()) bias = causal_bias(tq, tk, q.options());
  if (bias.defined() && bias.dim() == 4) bias = bias.expand({b, h, tq, tk}).reshape({b * h, tq, tk});
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  auto scores = bias.defined() ? torch::baddbmm(bias.to(q.scalar_type()), q3, k3.transpose(1, 2), 1.0, scale)
                               : torch::bmm(q3, k3.transpose(1, 2)) * scale;
  auto probs = torch::softmax(scores.to(torch::kFloat), -1).to(q.scalar_type());
  return torch::bmm(probs, v3).view({b, h, tq, v.size(3)});
#endif
}

}  // namespace symp::nn::compat
