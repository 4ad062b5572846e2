// parallel_for: an atomic cursor over the items, first-error capture, join.
#include "symp/core/worker_pool.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace symp {

size_t worker_count(int threads, size_t n) {
  const size_t want =
      threads > 0 ? static_cast<size_t>(threads) : std::max<size_t>(1, std::thread::hardware_concurrency());
  return std::max<size_t>(1, std::min(want, n));
}

void parallel_for(size_t n, int threads, const std::function<void(size_t)>& task) {
  if (n == 0) return;
  std::atomic<size_t> next{0};
  std::mutex error_mutex;
  std::exception_ptr first_error;
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) {
      try {
        task(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        next = n;  // start nothing new; items already running finish
      }
    }
  };
  std::vector<std::thread> pool;
  const size_t workers = worker_count(threads, n);
  pool.reserve(workers - 1);
  for (size_t w = 1; w < workers; ++w) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (first_error) std::rethrow_exception(first_error);
}

}  // namespace symp
