#pragma once
// A progress bar on stderr for long work: count, percentage, rate and ETA. On a terminal it redraws one
// line at most 10 times a second; otherwise (CI, a log file) it prints a plain line every 10 s.
// Thread-safe: workers may call advance() concurrently. Silent when the log level is above info.
//
//   symp::Progress bar("gen-data", total, "utt");
//   for (...) { ...; bar.advance(); }
//   bar.finish();
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace symp {

class Progress {
 public:
  Progress(std::string label, int64_t total, std::string unit = "it");
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(int64_t n = 1);
  // Work already done before this run (a resumed job): counted in the bar, not in the rate.
  void set_initial(int64_t done);
  // Extra text shown after the counters (e.g. "loss 2.31").
  void set_note(const std::string& note);
  void finish();
  int64_t done() const { return done_.load(); }

 private:
  void draw(bool final_line);

  std::string label_, unit_, note_;
  int64_t total_;
  std::atomic<int64_t> done_{0};
  int64_t initial_ = 0;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::mutex mutex_;
  bool tty_ = false, finished_ = false, enabled_ = true;
};

}  // namespace symp
