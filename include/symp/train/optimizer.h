#pragma once
// AdamW with decoupled weight decay (Loshchilov & Hutter), the update torch.optim.AdamW makes, with its
// state exposed by parameter name so checkpoints are plain safetensors; and the learning-rate schedule of
// transformers' get_linear_schedule_with_warmup. Includes torch.
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace symp::train {

struct AdamWOptions {
  double beta1 = 0.9, beta2 = 0.999, eps = 1e-8;  // PAPER.md section 5
  double weight_decay = 0.01;
};

class AdamW {
 public:
  // `params`: name -> tensor (requires_grad); names in `no_decay` get no weight decay.
  AdamW(std::vector<std::pair<std::string, torch::Tensor>> params, const std::vector<std::string>& no_decay,
        AdamWOptions options);
  // One update with learning rate `lr` from the gradients now in the parameters (absent = zero).
  void step(double lr);
  void zero_grad();
  int64_t steps() const { return steps_; }
  // exp_avg / exp_avg_sq by "m.<name>" / "v.<name>", on the CPU; load_state checks every name and shape.
  std::map<std::string, torch::Tensor> state() const;
  void load_state(const std::map<std::string, torch::Tensor>& state, int64_t steps,
                  const std::string& context);
  const std::vector<std::pair<std::string, torch::Tensor>>& params() const { return params_; }

 private:
  std::vector<std::pair<std::string, torch::Tensor>> params_;
  std::vector<torch::Tensor> exp_avg_, exp_avg_sq_;
  std::vector<bool> decay_;
  AdamWOptions options_;
  int64_t steps_ = 0;
};

// Global L2 norm of the gradients, and scales them down to max_norm when above it (torch's
// clip_grad_norm_); returns the norm before clipping.
double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm);

// Learning rate of optimiser step `step` (0-based) of `total`: linear warm-up from 0 over `warmup`
// steps, then "linear" decay to 0 at `total` or "constant" (transformers' schedules, step for step).
double scheduled_lr(double peak, int64_t step, int64_t warmup, int64_t total, const std::string& schedule);

}  // namespace symp::train
