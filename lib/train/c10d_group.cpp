// The c10d process group behind multi-process training: a TCPStore rendezvous (rank 0 hosts it) and
// Gloo (or NCCL) collectives. Everything that differs between libtorch versions stays in this file.
#include <fmt/format.h>

#include <cstdlib>

#include "symp/core/error.h"
#include "symp/core/log.h"
#include "symp/train/process_group.h"

#if defined(SYMP_HAVE_GLOO)
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#if defined(SYMP_HAVE_NCCL)
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif
#if defined(SYMP_HAVE_GLOO) || defined(SYMP_HAVE_NCCL)
#define SYMP_HAVE_C10D
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace symp::train {

bool c10d_available(const std::string& backend) {
#if defined(SYMP_HAVE_GLOO)
  if (backend == "gloo") return true;
#endif
#if defined(SYMP_HAVE_NCCL)
  if (backend == "nccl") return true;
#endif
  (void)backend;
  return false;
}

#if defined(SYMP_HAVE_C10D)
namespace {

// A failed or timed-out collective, said once and plainly: the usual cause is a rank that has gone.
[[noreturn]] void collective_failed(const char* what, int rank, const std::exception& e) {
  throw RuntimeError(
      fmt::format("distributed: rank {}: {} failed (another rank exited, or the timeout passed): {}", rank,
                  what, e.what()));
}

template <class Backend>
class C10dGroup : public ProcessGroup {
 public:
  C10dGroup(c10::intrusive_ptr<c10d::Store> store, c10::intrusive_ptr<Backend> backend, int rank, int world,
            std::string name, torch::Device device)
      : store_(std::move(store)),
        backend_(std::move(backend)),
        rank_(rank),
        world_(world),
        name_(std::move(name)),
        device_(device) {}

  int rank() const override { return rank_; }
  int world_size() const override { return world_; }
  std::string backend() const override { return name_; }
  torch::Device device() const override { return device_; }

  std::function<void()> all_reduce_sum_async(torch::Tensor tensor) override {
    std::vector<at::Tensor> tensors{tensor};
    c10::intrusive_ptr<c10d::Work> work;
    try {
      work = backend_->allreduce(tensors);
    } catch (const std::exception& e) {
      collective_failed("all-reduce", rank_, e);
    }
    const int rank = rank_;
    return [work, rank] {
      try {
        work->wait();
      } catch (const std::exception& e) {
        collective_failed("all-reduce", rank, e);
      }
    };
  }

  void broadcast(std::vector<torch::Tensor>& tensors, int root) override {
    c10d::BroadcastOptions options;
    options.rootRank = root;
    for (auto& t : tensors) {
      std::vector<at::Tensor> one{t};
      wait("broadcast", backend_->broadcast(one, options));
    }
  }

  std::vector<torch::Tensor> all_gather(const torch::Tensor& tensor) override {
    std::vector<at::Tensor> input{tensor.contiguous()};
    std::vector<std::vector<at::Tensor>> output(1);
    for (int r = 0; r < world_; ++r) output[0].push_back(torch::empty_like(input[0]));
    wait("all-gather", backend_->allgather(output, input));
    return output[0];
  }

  void barrier() override { wait("barrier", backend_->barrier()); }

 private:
  void wait(const char* what, c10::intrusive_ptr<c10d::Work> work) {
    try {
      work->wait();
    } catch (const std::exception& e) {
      collective_failed(what, rank_, e);
    }
  }

  c10::intrusive_ptr<c10d::Store> store_;
  c10::intrusive_ptr<Backend> backend_;
  int rank_, world_;
  std::string name_;
  torch::Device device_;
};

c10::intrusive_ptr<c10d::Store> rendezvous(const DistEnv& env, std::chrono::milliseconds timeout) {
  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(env.master_port);
  options.isServer = env.rank == 0;
  options.numWorkers = static_cast<std::size_t>(env.world_size);
  options.waitWorkers = true;
  options.timeout = timeout;
  try {
    return c10::make_intrusive<c10d::TCPStore>(env.master_addr, options);
  } catch (const std::exception& e) {
    throw RuntimeError(fmt::format(
        "distributed: rank {} of {}: rendezvous at {}:{} failed (is rank 0 running, and the port free?): {}",
        env.rank, env.world_size, env.master_addr, env.master_port, e.what()));
  }
}

}  // namespace
#endif

std::unique_ptr<ProcessGroup> make_c10d_group(const DistEnv& env, const std::string& backend,
                                              const torch::Device& device,
                                              std::chrono::milliseconds timeout) {
  std::string chosen = backend;
  if (chosen == "auto") chosen = device.is_cuda() && c10d_available("nccl") ? "nccl" : "gloo";
  if (chosen != "gloo" && chosen != "nccl") {
    throw UsageError(fmt::format("train: dist_backend = '{}': expected auto, gloo or nccl", backend));
  }
  if (!c10d_available(chosen)) {
    throw UsageError(fmt::format(
        "train: this build of symp has no c10d {} process group (torch {}); multi-process training needs {}",
        chosen, TORCH_VERSION,
        chosen == "gloo" ? "gloo's headers at build time (Debian: libgloo-dev)"
                         : "a CUDA torch and cmake -DSYMP_WITH_NCCL=ON"));
  }
  if (chosen == "nccl" && !device.is_cuda()) {
    throw UsageError("train: the nccl backend needs --device cuda");
  }
#if defined(SYMP_HAVE_C10D)
  log_info("train", "rank {} of {} ({}): joining {}:{} with {}", env.rank, env.world_size, env.source,
           env.master_addr, env.master_port, chosen);
  auto store = rendezvous(env, timeout);
#endif
#if defined(SYMP_HAVE_NCCL)
  if (chosen == "nccl") {
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = timeout;
    auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, env.rank, env.world_size, options);
    return std::make_unique<C10dGroup<c10d::ProcessGroupNCCL>>(store, group, env.rank, env.world_size, "nccl",
                                                               device);
  }
#endif
#if defined(SYMP_HAVE_GLOO)
  auto options = c10d::ProcessGroupGloo::Options::create(timeout);
  const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
  if (interface != nullptr && *interface != '\0') {
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
  } else if (env.master_addr == "127.0.0.1" || env.master_addr == "localhost") {
    options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
  } else {
    options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
  }
  options->threads = 2;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
  try {
    group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, env.rank, env.world_size, options);
  } catch (const std::exception& e) {
    throw RuntimeError(
        fmt::format("distributed: rank {}: cannot connect the Gloo group: {}", env.rank, e.what()));
  }
  const torch::Device comm_device = device.is_cuda() ? device : torch::Device(torch::kCPU);
  return std::make_unique<C10dGroup<c10d::ProcessGroupGloo>>(store, group, env.rank, env.world_size, "gloo",
                                                             comm_device);
#else
  (void)env;
  (void)timeout;
  throw UsageError("train: this build of symp has no c10d Gloo process group");
#endif
}

}  // namespace symp::train
