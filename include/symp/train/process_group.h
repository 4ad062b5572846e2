#pragma once
// The trainer's view of data parallelism: which rank this process is, how many there are, and the
// collectives a step needs. Today only the single-process group exists; a c10d (Gloo/NCCL) group drops in
// behind the same interface (issue #10). Includes torch.
#include <torch/torch.h>

#include <memory>
#include <vector>

namespace symp::train {

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Averages each tensor over the ranks, in place (gradients after backward).
  virtual void all_reduce_mean(std::vector<torch::Tensor>& tensors) = 0;
  // Sums each value over the ranks, in place (loss sums and token counts for logging).
  virtual void all_reduce_sum(std::vector<double>& values) = 0;
  virtual void barrier() = 0;
  bool is_main() const { return rank() == 0; }
};

// World size 1: every collective is the identity.
class SingleProcessGroup : public ProcessGroup {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  void all_reduce_mean(std::vector<torch::Tensor>&) override {}
  void all_reduce_sum(std::vector<double>&) override {}
  void barrier() override {}
};

}  // namespace symp::train
