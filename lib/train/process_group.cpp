#include "symp/train/process_group.h"

#include <fmt/format.h>

#include "symp/core/error.h"

namespace symp::train {

void ProcessGroup::all_reduce_sum(std::vector<double>& values) {
  if (world_size() == 1 || values.empty()) return;
  auto t = torch::tensor(values, torch::kFloat64).to(device());
  all_reduce_sum_async(t)();
  t = t.cpu();
  for (size_t i = 0; i < values.size(); ++i) values[i] = t[static_cast<int64_t>(i)].item<double>();
}

GradientSync::GradientSync(ProcessGroup& group, const std::vector<torch::Tensor>& params,
                           int64_t bucket_bytes)
    : group_(group), params_(params), where_(params.size()), seen_(params.size(), false) {
  // Backward meets the parameters roughly in reverse order of registration: bucket them that way.
  int64_t bytes = 0;
  for (size_t k = params_.size(); k-- > 0;) {
    const auto& p = params_[k];
    if (buckets_.empty() || bytes >= bucket_bytes) {
      buckets_.emplace_back();
      bytes = 0;
    }
    auto& bucket = buckets_.back();
    where_[k] = {buckets_.size() - 1, bucket.params.size()};
    bucket.offsets.push_back(
        bucket.params.empty() ? 0 : bucket.offsets.back() + params_[bucket.params.back()].numel());
    bucket.params.push_back(k);
    bytes += p.numel() * static_cast<int64_t>(sizeof(float));
  }
  for (auto& bucket : buckets_) {
    const int64_t size = bucket.offsets.back() + params_[bucket.params.back()].numel();
    bucket.flat = torch::zeros({size}, torch::TensorOptions().dtype(torch::kFloat32).device(group_.device()));
  }
  for (size_t k = 0; k < params_.size(); ++k) {
    hooks_.push_back(params_[k].register_hook([this, k](torch::Tensor grad) {
      if (armed_) on_grad(k, grad);
    }));
  }
}

GradientSync::~GradientSync() {
  for (size_t k = 0; k < params_.size(); ++k) params_[k].remove_hook(hooks_[k]);
}

void GradientSync::arm() {
  std::lock_guard<std::mutex> lock(mutex_);
  armed_ = true;
}

void GradientSync::on_grad(size_t param, const torch::Tensor& grad) {
  std::lock_guard<std::mutex> lock(mutex_);
  const auto [b, pos] = where_[param];
  auto& bucket = buckets_[b];
  if (bucket.launched) {
    throw RuntimeError(
        fmt::format("gradient sync: a second gradient for parameter {} after its bucket was sent", param));
  }
  torch::NoGradGuard no_grad;
  auto slot = bucket.flat.narrow(0, bucket.offsets[pos], params_[param].numel());
  // The hook sees this micro-batch's gradient before it is accumulated: add what earlier ones left.
  const auto& accumulated = params_[param].grad();
  if (seen_[param]) {
    slot.add_(grad.reshape(-1).to(slot.dtype()));
    return;
  }
  if (accumulated.defined()) {
    slot.copy_((accumulated + grad).reshape(-1));
  } else {
    slot.copy_(grad.reshape(-1));
  }
  seen_[param] = true;
  if (++bucket.ready == bucket.params.size()) launch_ready();
}

void GradientSync::launch(Bucket& bucket) {
  bucket.launched = true;
  bucket.wait = group_.all_reduce_sum_async(bucket.flat);
}

void GradientSync::launch_ready() {
  while (next_launch_ < buckets_.size() &&
         buckets_[next_launch_].ready == buckets_[next_launch_].params.size()) {
    launch(buckets_[next_launch_++]);
  }
}

void GradientSync::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  torch::NoGradGuard no_grad;
  // Parameters backward did not reach this time: their accumulated gradient, or zero.
  for (size_t k = 0; k < params_.size(); ++k) {
    if (seen_[k]) continue;
    const auto [b, pos] = where_[k];
    auto slot = buckets_[b].flat.narrow(0, buckets_[b].offsets[pos], params_[k].numel());
    const auto& accumulated = params_[k].grad();
    if (accumulated.defined()) {
      slot.copy_(accumulated.reshape(-1));
    } else {
      slot.zero_();
    }
    seen_[k] = true;
    ++buckets_[b].ready;
  }
  launch_ready();
  const double world = group_.world_size();
  for (auto& bucket : buckets_) {
    bucket.wait();
    bucket.flat.div_(world);
    for (size_t i = 0; i < bucket.params.size(); ++i) {
      auto& p = params_[bucket.params[i]];
      auto averaged = bucket.flat.narrow(0, bucket.offsets[i], p.numel()).view(p.sizes());
      if (p.grad().defined()) {
        p.mutable_grad().copy_(averaged);
      } else {
        p.mutable_grad() = averaged.to(p.dtype()).clone();
      }
    }
    bucket.ready = 0;
    bucket.launched = false;
    bucket.wait = nullptr;
  }
  std::fill(seen_.begin(), seen_.end(), false);
  next_launch_ = 0;
  armed_ = false;
}

}  // namespace symp::train
