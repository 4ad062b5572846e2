// The one worker pool: every item once, the first error with its kind, nothing new started after it.
#include <catch2/catch.hpp>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "symp/core/error.h"
#include "symp/core/worker_pool.h"

TEST_CASE("worker pool: every item runs once, on at most the threads asked for", "[core]") {
  for (int threads : {1, 3, 0}) {
    std::vector<std::atomic<int>> runs(101);
    std::mutex mutex;
    std::set<std::thread::id> workers;
    symp::parallel_for(runs.size(), threads, [&](size_t i) {
      ++runs[i];
      std::lock_guard<std::mutex> lock(mutex);
      workers.insert(std::this_thread::get_id());
    });
    for (const auto& r : runs) CHECK(r == 1);
    CHECK(workers.size() <= symp::worker_count(threads, runs.size()));
  }
  CHECK(symp::worker_count(8, 3) == 3);
  CHECK(symp::worker_count(2, 0) == 1);
  CHECK(symp::worker_count(0, 1000) >= 1);
  symp::parallel_for(0, 4, [](size_t) { FAIL("no item to run"); });
}

TEST_CASE("worker pool: the first error comes back with its kind and stops new items", "[core]") {
  std::atomic<int> started{0};
  try {
    symp::parallel_for(50, 1, [&](size_t i) {
      ++started;
      if (i == 3) throw symp::UsageError("item 3: bad option");
      if (i == 5) throw symp::RuntimeError("item 5 must never start");
    });
    FAIL("no error came back");
  } catch (const symp::UsageError& e) {
    CHECK(std::string(e.what()) == "item 3: bad option");
    CHECK(e.kind() == symp::ErrorKind::Usage);
  }
  CHECK(started == 4);  // one thread: items 0..3, nothing after the failure

  // With several threads the error is still the first one caught, and its type survives.
  CHECK_THROWS_AS(symp::parallel_for(20, 4,
                                     [](size_t i) {
                                       if (i % 2) throw symp::InputError("odd item " + std::to_string(i));
                                     }),
                  symp::InputError);
}
