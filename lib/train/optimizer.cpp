#include "symp/train/optimizer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "symp/core/error.h"

namespace symp::train {

AdamW::AdamW(std::vector<std::pair<std::string, torch::Tensor>> params,
             const std::vector<std::string>& no_decay, AdamWOptions options)
    : params_(std::move(params)), options_(options) {
  for (const auto& [name, p] : params_) {
    // Moments in fp32 whatever the parameter's dtype.
    exp_avg_.push_back(torch::zeros(p.sizes(), p.options().dtype(torch::kFloat32)));
    exp_avg_sq_.push_back(torch::zeros(p.sizes(), p.options().dtype(torch::kFloat32)));
    decay_.push_back(std::find(no_decay.begin(), no_decay.end(), name) == no_decay.end());
  }
}

void AdamW::step(double lr) {
  torch::NoGradGuard no_grad;
  ++steps_;
  const double correction1 = 1.0 - std::pow(options_.beta1, static_cast<double>(steps_));
  const double correction2 = 1.0 - std::pow(options_.beta2, static_cast<double>(steps_));
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& p = params_[i].second;
    auto grad = p.grad().defined() ? p.grad().to(torch::kFloat32) : torch::zeros_like(exp_avg_[i]);
    // The order of torch.optim.AdamW (single-tensor path): decay, moments, then the step.
    if (decay_[i] && options_.weight_decay != 0) p.mul_(1.0 - lr * options_.weight_decay);
    exp_avg_[i].mul_(options_.beta1).add_(grad, 1.0 - options_.beta1);
    exp_avg_sq_[i].mul_(options_.beta2).addcmul_(grad, grad, 1.0 - options_.beta2);
    auto denom = (exp_avg_sq_[i].sqrt() / std::sqrt(correction2)).add_(options_.eps);
    if (p.scalar_type() == torch::kFloat32) {
      p.addcdiv_(exp_avg_[i], denom, -lr / correction1);
    } else {
      p.copy_(p.to(torch::kFloat32).addcdiv_(exp_avg_[i], denom, -lr / correction1));
    }
  }
}

void AdamW::zero_grad() {
  for (auto& [name, p] : params_) {
    if (p.grad().defined()) p.mutable_grad() = torch::Tensor();
  }
}

std::map<std::string, torch::Tensor> AdamW::state() const {
  std::map<std::string, torch::Tensor> out;
  for (size_t i = 0; i < params_.size(); ++i) {
    out["m." + params_[i].first] = exp_avg_[i].cpu();
    out["v." + params_[i].first] = exp_avg_sq_[i].cpu();
  }
  return out;
}

void AdamW::load_state(const std::map<std::string, torch::Tensor>& state, int64_t steps,
                       const std::string& context) {
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < params_.size(); ++i) {
    for (auto [prefix, target] : {std::pair{"m.", &exp_avg_[i]}, std::pair{"v.", &exp_avg_sq_[i]}}) {
      const std::string key = prefix + params_[i].first;
      auto it = state.find(key);
      if (it == state.end()) throw InputError(fmt::format("{}: missing optimiser state '{}'", context, key));
      if (it->second.sizes() != target->sizes()) {
        throw InputError(fmt::format("{}: optimiser state '{}' has {} values, the model needs {}", context,
                                     key, it->second.numel(), target->numel()));
      }
      target->copy_(it->second);
    }
  }
  steps_ = steps;
}

double clip_grad_norm(const std::vector<torch::Tensor>& params, double max_norm) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> norms;
  for (const auto& p : params) {
    if (p.grad().defined()) norms.push_back(p.grad().to(torch::kFloat32).norm());
  }
  if (norms.empty()) return 0.0;
  const double total = torch::stack(norms).norm().item<double>();
  if (max_norm > 0 && total > max_norm) {
    const double factor = max_norm / (total + 1e-6);  // torch's clip_grad_norm_
    for (const auto& p : params) {
      if (p.grad().defined()) p.grad().mul_(factor);
    }
  }
  return total;
}

double scheduled_lr(double peak, int64_t step, int64_t warmup, int64_t total, const std::string& schedule) {
  if (step < warmup)
    return peak * static_cast<double>(step) / static_cast<double>(std::max<int64_t>(1, warmup));
  if (schedule == "constant") return peak;
  const double left =
      static_cast<double>(total - step) / static_cast<double>(std::max<int64_t>(1, total - warmup));
  return peak * std::max(0.0, left);
}

}  // namespace symp::train
