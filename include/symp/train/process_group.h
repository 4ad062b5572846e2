#pragma once
// The trainer's view of data parallelism: which rank this process is, how many there are, and the
// collectives a step needs. A single process is the trivial group; a c10d group (Gloo on CPU tensors,
// NCCL on CUDA ones) joins the ranks a launcher started. Includes torch.
#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "symp/train/distributed.h"

namespace symp::train {

class ProcessGroup {
 public:
  virtual ~ProcessGroup() = default;
  virtual int rank() const = 0;
  virtual int world_size() const = 0;
  // Starts summing `tensor` (contiguous) over the ranks, in place; the returned function waits for it and
  // throws a RuntimeError when a rank has gone or the timeout passed. Calls must come in the same order
  // on every rank.
  virtual std::function<void()> all_reduce_sum_async(torch::Tensor tensor) = 0;
  // Copies each tensor of rank `root` into the others' (in place).
  virtual void broadcast(std::vector<torch::Tensor>& tensors, int root) = 0;
  // Every rank's `tensor` (same shape everywhere), by rank.
  virtual std::vector<torch::Tensor> all_gather(const torch::Tensor& tensor) = 0;
  virtual void barrier() = 0;
  // "single", "gloo" or "nccl".
  virtual std::string backend() const = 0;
  // Where tensors of this group's collectives live (CUDA for NCCL).
  virtual torch::Device device() const { return torch::kCPU; }

  bool is_main() const { return rank() == 0; }
  // Sums each value over the ranks, in place (loss sums and token counts).
  void all_reduce_sum(std::vector<double>& values);
};

// World size 1: every collective is the identity.
class SingleProcessGroup : public ProcessGroup {
 public:
  int rank() const override { return 0; }
  int world_size() const override { return 1; }
  std::function<void()> all_reduce_sum_async(torch::Tensor) override {
    return [] {};
  }
  void broadcast(std::vector<torch::Tensor>&, int) override {}
  std::vector<torch::Tensor> all_gather(const torch::Tensor& tensor) override { return {tensor.clone()}; }
  void barrier() override {}
  std::string backend() const override { return "single"; }
};

// Joins the run described by `env` through a TCPStore at master_addr:master_port (rank 0 hosts it).
// backend: "gloo", "nccl" or "auto" (nccl for a CUDA device when this build has it, else gloo).
// Collectives and the rendezvous fail after `timeout` instead of waiting for a rank that is gone.
std::unique_ptr<ProcessGroup> make_c10d_group(const DistEnv& env, const std::string& backend,
                                              const torch::Device& device, std::chrono::milliseconds timeout);

// Whether this build can make a c10d group with `backend` ("gloo", "nccl").
bool c10d_available(const std::string& backend);

// Data-parallel gradient averaging, bucketed and overlapped with backward: arm() before the backward of
// the last micro-batch of a step makes each bucket's all-reduce start as soon as all its gradients are
// ready (in a fixed bucket order, the same on every rank); finish() starts what is left, waits, and puts
// the averaged gradients in the parameters' .grad. Micro-batches before the last one communicate nothing.
class GradientSync {
 public:
  GradientSync(ProcessGroup& group, const std::vector<torch::Tensor>& params, int64_t bucket_bytes);
  ~GradientSync();
  GradientSync(const GradientSync&) = delete;
  GradientSync& operator=(const GradientSync&) = delete;
  void arm();
  void finish();
  size_t buckets() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::vector<size_t> params;  // indices into params_
    std::vector<int64_t> offsets;
    torch::Tensor flat;
    size_t ready = 0;
    bool launched = false;
    std::function<void()> wait;
  };
  void on_grad(size_t param, const torch::Tensor& grad);
  void launch_ready();
  void launch(Bucket& bucket);

  ProcessGroup& group_;
  std::vector<torch::Tensor> params_;
  std::vector<std::pair<size_t, size_t>> where_;  // param -> (bucket, position in bucket)
  std::vector<bool> seen_;
  std::vector<unsigned> hooks_;
  std::vector<Bucket> buckets_;
  size_t next_launch_ = 0;
  bool armed_ = false;
  std::mutex mutex_;
};

}  // namespace symp::train
