#include "symp/nn/runtime.h"

#include <thread>

#include "symp/nn/torch_compat.h"

namespace symp::nn {

int set_num_threads(int threads) {
  // Debian's torch defaults to one thread on some machines; use every core unless told otherwise.
  const int n = threads > 0 ? threads : std::max(1u, std::thread::hardware_concurrency());
  torch::set_num_threads(n);
  static bool interop_set = false;  // torch allows setting inter-op threads once, before any parallel work
  if (!interop_set) {
    interop_set = true;
    try {
      torch::set_num_interop_threads(std::max(1, n / 2));
    } catch (const std::exception&) {
      // Already started by an earlier call into torch: keep torch's choice.
    }
  }
  return n;
}

std::string torch_version() {
#if defined(TORCH_VERSION)
  return TORCH_VERSION;
#else
  return "unknown";
#endif
}

bool cuda_available() { return torch::cuda::is_available(); }

}  // namespace symp::nn
