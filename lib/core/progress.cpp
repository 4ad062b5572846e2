#include "symp/core/progress.h"

#include <unistd.h>

#include <cstdio>

#include <fmt/format.h>

#include "symp/core/log.h"

namespace symp {
namespace {

std::string format_duration(double seconds) {
  if (!(seconds >= 0) || seconds > 1e7) return "?";
  auto s = static_cast<long>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace

Progress::Progress(std::string label, int64_t total, std::string unit)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total) {
  start_ = last_draw_ = std::chrono::steady_clock::now();
  tty_ = isatty(fileno(stderr)) != 0;
  enabled_ = log_level() <= LogLevel::Info;
}

Progress::~Progress() { finish(); }

void Progress::set_initial(int64_t done) {
  std::lock_guard<std::mutex> lock(mutex_);
  initial_ = done;
  done_ = done;
}

void Progress::set_note(const std::string& note) {
  std::lock_guard<std::mutex> lock(mutex_);
  note_ = note;
}

void Progress::advance(int64_t n) {
  done_ += n;
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  std::lock_guard<std::mutex> lock(mutex_);
  auto since = std::chrono::duration<double>(now - last_draw_).count();
  if (since < (tty_ ? 0.1 : 10.0)) return;
  last_draw_ = now;
  draw(false);
}

void Progress::finish() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (finished_) return;
  finished_ = true;
  if (enabled_) draw(true);
}

void Progress::draw(bool final_line) {
  const int64_t done = done_.load();
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? double(done - initial_) / elapsed : 0.0;
  std::string line;
  if (total_ > 0) {
    const double frac = std::min(1.0, double(done) / double(total_));
    const int width = 24, filled = static_cast<int>(frac * width);
    const double eta = rate > 0 ? double(total_ - done) / rate : -1;
    line = fmt::format("{} [{}{}] {}/{} {:5.1f}% {:.1f} {}/s elapsed {} eta {}", label_, std::string(filled, '#'),
                       std::string(width - filled, '.'), done, total_, 100 * frac, rate, unit_,
                       format_duration(elapsed), final_line ? "0:00" : format_duration(eta));
  } else {
    line = fmt::format("{} {} {} {:.1f} {}/s elapsed {}", label_, done, unit_, rate, unit_, format_duration(elapsed));
  }
  if (!note_.empty()) line += "  " + note_;
  if (tty_) {
    std::fprintf(stderr, "\r\033[K%s%s", line.c_str(), final_line ? "\n" : "");
  } else {
    std::fprintf(stderr, "[progress] %s\n", line.c_str());
  }
  std::fflush(stderr);
}

}  // namespace symp
