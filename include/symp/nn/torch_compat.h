#pragma once
// The one place where libtorch 1.13 (Debian, CPU) and 2.x (CUDA builds) differ for symp.
#include <torch/torch.h>

#if __has_include(<torch/version.h>)
#include <torch/version.h>
#endif

namespace symp::nn::compat {

#if defined(TORCH_VERSION_MAJOR) && TORCH_VERSION_MAJOR >= 2
constexpr bool kTorch2 = true;
#else
constexpr bool kTorch2 = false;
#endif

// scaled_dot_product_attention exists from torch 2.0; 1.13 gets the explicit softmax(QK^T/sqrt(d))V.
// q, k, v: [B, H, T, D]; mask: additive float mask broadcastable to [B, H, Tq, Tk] or undefined.
inline torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                               const torch::Tensor& mask, bool causal) {
#if defined(TORCH_VERSION_MAJOR) && TORCH_VERSION_MAJOR >= 2
  if (mask.defined()) return at::scaled_dot_product_attention(q, k, v, mask, 0.0, false);
  return at::scaled_dot_product_attention(q, k, v, {}, 0.0, causal);
#else
  auto scores = torch::matmul(q, k.transpose(-2, -1)) / std::sqrt(static_cast<double>(q.size(-1)));
  if (mask.defined()) scores = scores + mask;
  if (causal && !mask.defined()) {
    auto tq = q.size(-2), tk = k.size(-2);
    auto upper = torch::ones({tq, tk}, torch::TensorOptions().dtype(torch::kBool).device(q.device()))
                     .triu(tk - tq + 1);
    scores = scores.masked_fill(upper, -std::numeric_limits<float>::infinity());
  }
  return torch::matmul(torch::softmax(scores.to(torch::kFloat), -1).to(q.scalar_type()), v);
#endif
}

}  // namespace symp::nn::compat
