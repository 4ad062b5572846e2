#pragma once
// Kill -9 at chosen points of a long job: start a command, watch a progress count it writes (records in
// its output so far, steps logged, ...), and SIGKILL it the moment that count reaches a point chosen at
// random. The caller proves the kill landed during the work: the process died of the signal
// (killed_by_signal) with the count short of the whole job.
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace symp::test {

struct KillResult {
  bool killed_by_signal = false;  // false: the command ended on its own before the point was reached
  size_t progress = 0;            // the count when the kill was sent
};

inline KillResult kill_when(const std::string& command, const std::function<size_t()>& progress, size_t at,
                            double timeout_s = 300) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", ("exec " + command + " >/dev/null 2>&1").c_str(),
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  KillResult r;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, &status, WNOHANG) == pid) return r;  // finished (or failed) first
    r.progress = progress();
    if (r.progress >= at) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  r.killed_by_signal = WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL;
  return r;
}

// Complete lines in a file (a torn last line does not count); 0 when the file is absent.
inline size_t complete_lines(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  size_t n = 0;
  for (std::string line; std::getline(in, line);)
    if (!in.eof()) ++n;
  return n;
}

// The random generator of a kill test: SYMP_KILL_SEED when set (to replay a failure), else fresh; the
// caller prints the seed with INFO.
inline unsigned kill_seed() {
  if (const char* s = std::getenv("SYMP_KILL_SEED"); s && *s) return static_cast<unsigned>(std::stoul(s));
  return std::random_device{}();
}

// `count` distinct kill points in [lo, hi], in increasing order (fewer when the range is smaller).
inline std::vector<size_t> kill_points(std::mt19937& gen, size_t count, size_t lo, size_t hi) {
  std::set<size_t> points;
  while (points.size() < count && points.size() < hi - lo + 1) points.insert(lo + gen() % (hi - lo + 1));
  return {points.begin(), points.end()};
}

}  // namespace symp::test
