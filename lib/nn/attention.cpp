#include "symp/nn/attention.h"

#include <algorithm>
#include <cmath>

#include "symp/nn/torch_compat.h"

namespace symp::nn {

torch::Tensor blocked_attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                const torch::Tensor& bias, double scale, int64_t block_bytes) {
  const int64_t batch = q.size(0), heads = q.size(1), tq = q.size(2), tk = k.size(2);
  if (!q.device().is_cpu()) {
    // compat::attention scales by 1/sqrt(D): fold the difference into q.
    const double folded = scale * std::sqrt(static_cast<double>(q.size(3)));
    return compat::attention(folded == 1.0 ? q : q * folded, k, v, bias, false);
  }
  const int64_t per_head = tq * tk * static_cast<int64_t>(q.element_size());
  const int64_t per_block = std::clamp<int64_t>(block_bytes / std::max<int64_t>(per_head, 1), 1, heads);
  auto out = torch::empty({batch, heads, tq, v.size(3)}, q.options());
  for (int64_t i = 0; i < batch; ++i) {
    torch::Tensor bias_i;
    if (bias.defined()) bias_i = bias[bias.size(0) == 1 ? 0 : i];  // [H or 1, Tq, Tk]
    for (int64_t h = 0; h < heads; h += per_block) {
      const int64_t n = std::min(per_block, heads - h);
      auto qb = q[i].narrow(0, h, n), kt = k[i].narrow(0, h, n).transpose(1, 2);
      torch::Tensor scores;
      if (bias_i.defined()) {
        auto b = bias_i.size(0) == 1 ? bias_i.expand({n, tq, tk}) : bias_i.narrow(0, h, n);
        scores = torch::baddbmm(b.to(q.scalar_type()), qb, kt, 1.0, scale);
      } else {
        scores = torch::bmm(qb, kt);
        if (scale != 1.0) scores.mul_(scale);
      }
      out[i].narrow(0, h, n).copy_(torch::bmm(torch::softmax(scores, -1), v[i].narrow(0, h, n)));
    }
  }
  return out;
}

}  // namespace symp::nn
