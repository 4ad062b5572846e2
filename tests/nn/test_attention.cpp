#include <catch2/catch.hpp>

#include "symp/nn/attention.h"

namespace {

torch::Tensor naive(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                    const torch::Tensor& bias, double scale) {
  auto scores = torch::matmul(q, k.transpose(-2, -1)) * scale;
  if (bias.defined()) scores = scores + bias;
  return torch::matmul(torch::softmax(scores, -1), v);
}

double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

}  // namespace

TEST_CASE("nn: blocked attention equals softmax attention for every bias shape and block size", "[nn]") {
  torch::manual_seed(3);
  const int64_t batch = 2, heads = 5, tq = 7, tk = 9, d = 4;
  auto q = torch::randn({batch, heads, tq, d}), k = torch::randn({batch, heads, tk, d});
  auto v = torch::randn({batch, heads, tk, 6});
  const double scale = 0.37;
  const std::vector<torch::Tensor> biases = {
      torch::Tensor(), torch::randn({batch, 1, tq, tk}), torch::randn({1, 1, tq, tk}),
      torch::randn({batch, heads, tq, tk}), torch::randn({1, heads, tq, tk})};
  // One head per block, two heads per block (5 = 2 + 2 + 1), and all heads at once.
  const int64_t per_head = tq * tk * 4;
  for (const auto& bias : biases) {
    for (int64_t block : {per_head, 2 * per_head + 1, int64_t{1} << 30}) {
      auto out = symp::nn::blocked_attention(q, k, v, bias, scale, block);
      CHECK(out.sizes() == torch::IntArrayRef({batch, heads, tq, 6}));
      CHECK(max_diff(out, naive(q, k, v, bias, scale)) < 1e-5);
    }
  }
  // Non-contiguous inputs (heads split from [B, T, H * D] as the models do) and a -inf style mask.
  auto x = torch::randn({batch, tq, heads * d});
  auto split = x.view({batch, tq, heads, d}).transpose(1, 2);
  auto mask =
      torch::zeros({batch, 1, tq, tq})
          .masked_fill(torch::ones({tq, tq}).triu(1).to(torch::kBool), std::numeric_limits<float>::lowest());
  CHECK(max_diff(symp::nn::blocked_attention(split, split, split, mask, 1.0, per_head / 2),
                 naive(split, split, split, mask, 1.0)) < 1e-5);
}
