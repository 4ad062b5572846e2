#pragma once
// The one worker pool of the toolkit: every stage that works through a list of independent items (files to
// analyse, records to encode, replies to judge, requests to send) runs them here.
//
//   symp::parallel_for(files.size(), threads, [&](size_t i) { rows[i] = measure(files[i]); });
//
// Items are handed out in index order to min(threads, n) threads (threads <= 0: one per core); the calling
// thread is one of them. A task that throws stops the pool from starting further items; once every worker
// has stopped, the first exception is rethrown as thrown, so its kind (UsageError, InputError,
// RuntimeError) and hence the exit code survive. Tasks that must carry on past a failure (a per-item error
// column) catch it themselves.
#include <cstddef>
#include <functional>

namespace symp {

// The number of workers parallel_for() starts for `threads` (<= 0: the machine's cores) and n items.
size_t worker_count(int threads, size_t n);

void parallel_for(size_t n, int threads, const std::function<void(size_t)>& task);

}  // namespace symp
