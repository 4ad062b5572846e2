// gen-data's parallel synthesis: forked espeak-ng workers talking over pipes, or threads sharing an HTTP
// backend (gen_data_units.h).
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <sstream>
#include <thread>

#include "gen_data_units.h"
#include "symp/core/error.h"
#include "symp/core/log.h"
#include "symp/core/worker_pool.h"
#include "symp/data/espeak_tts.h"

namespace symp::data::detail {
namespace {

// Serialises a unit result as one line for the pipe from a worker process.
std::string encode(const UnitResult& u) {
  std::string line = fmt::format("{} {:.17g}", u.query, u.query_duration);
  for (const auto& [ri, d] : u.responses) line += fmt::format(" {}:{:.17g}", ri, d);
  return line + "\n";
}

UnitResult decode(const std::string& line) {
  std::istringstream in(line);
  UnitResult u;
  in >> u.query >> u.query_duration;
  std::string item;
  while (in >> item) {
    const auto colon = item.find(':');
    u.responses.emplace_back(std::stoul(item.substr(0, colon)), std::stod(item.substr(colon + 1)));
  }
  if (in.bad()) throw RuntimeError("gen-data: malformed worker message '" + line + "'");
  return u;
}

void write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) ::_exit(4);  // the parent is gone
    done += static_cast<size_t>(n);
  }
}

}  // namespace

void run_forked(const Context& ctx, const Work& work, int n,
                const std::function<void(const UnitResult&)>& on_done) {
  struct Child {
    pid_t pid = -1;
    int fd = -1;
    std::string buffer;
  };
  std::vector<Child> children;
  const pid_t parent = ::getpid();
  std::fflush(nullptr);
  for (int k = 0; k < n; ++k) {
    int fds[2];
    if (::pipe(fds) != 0) throw RuntimeError(fmt::format("gen-data: pipe failed ({})", std::strerror(errno)));
    const pid_t pid = ::fork();
    if (pid < 0) throw RuntimeError(fmt::format("gen-data: fork failed ({})", std::strerror(errno)));
    if (pid == 0) {
      ::close(fds[0]);
      for (const auto& c : children) ::close(c.fd);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // a killed parent takes its workers with it
      if (::getppid() != parent) ::_exit(4);
      int code = 0;
      try {
        // libespeak-ng's output depends on what the engine said before (a few samples to tens of
        // milliseconds), so every unit is spoken by a fresh fork of one initialised engine, and always
        // in full (query, then all its responses): the audio is the same whatever ran before, on a
        // resume too.
        EspeakBackend tts(ctx.style);
        for (size_t i = static_cast<size_t>(k); i < work.queries.size(); i += static_cast<size_t>(n)) {
          const pid_t unit = ::fork();
          if (unit < 0) throw RuntimeError(fmt::format("fork failed ({})", std::strerror(errno)));
          if (unit == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            int unit_code = 0;
            try {
              write_all(fds[1], encode(synthesize_unit(ctx, tts, work.queries[i], work.all_of[i], false)));
            } catch (const std::exception& e) {
              std::string msg = e.what();
              std::replace(msg.begin(), msg.end(), '\n', ' ');
              write_all(fds[1], "E " + msg + "\n");
              unit_code = 3;
            }
            ::_exit(unit_code);
          }
          int status = 0;
          while (::waitpid(unit, &status, 0) < 0 && errno == EINTR) {
          }
          if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0))
            throw RuntimeError(fmt::format("synthesis of query {} ended abnormally (status {})",
                                           ctx.plan.queries[work.queries[i]].id, status));
        }
      } catch (const std::exception& e) {
        std::string msg = e.what();
        std::replace(msg.begin(), msg.end(), '\n', ' ');
        write_all(fds[1], "E " + msg + "\n");
        code = 3;
      }
      ::close(fds[1]);
      ::_exit(code);
    }
    ::close(fds[1]);
    children.push_back({pid, fds[0], {}});
  }

  std::string failure;
  size_t open = children.size();
  while (open > 0) {
    std::vector<pollfd> pfds;
    std::vector<Child*> owners;
    for (auto& c : children)
      if (c.fd >= 0) {
        pfds.push_back({c.fd, POLLIN, 0});
        owners.push_back(&c);
      }
    if (::poll(pfds.data(), pfds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      throw RuntimeError(fmt::format("gen-data: poll failed ({})", std::strerror(errno)));
    }
    for (size_t i = 0; i < pfds.size(); ++i) {
      if (!(pfds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Child& c = *owners[i];
      char buf[65536];
      const ssize_t got = ::read(c.fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        ::close(c.fd);
        c.fd = -1;
        --open;
        continue;
      }
      c.buffer.append(buf, static_cast<size_t>(got));
      for (size_t nl = c.buffer.find('\n'); nl != std::string::npos; nl = c.buffer.find('\n')) {
        const std::string line = c.buffer.substr(0, nl);
        c.buffer.erase(0, nl + 1);
        if (line.rfind("E ", 0) == 0) {
          if (failure.empty()) failure = line.substr(2);
        } else {
          on_done(decode(line));
        }
      }
    }
  }
  for (auto& c : children) {
    int status = 0;
    while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (failure.empty() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
      failure = fmt::format("worker process {} ended abnormally (status {})", c.pid, status);
  }
  if (!failure.empty()) throw RuntimeError("gen-data: synthesis failed: " + failure);
}

std::vector<std::string> run_threaded(const Context& ctx, const Work& work, int n, SpeechBackend& tts,
                                      const std::function<void(const UnitResult&)>& on_done) {
  std::mutex mutex;
  std::vector<std::string> failures;
  parallel_for(work.queries.size(), n, [&](size_t i) {
    try {
      UnitResult u = synthesize_unit(ctx, tts, work.queries[i], work.records_of[i], true);
      std::lock_guard<std::mutex> lock(mutex);
      on_done(u);
    } catch (const std::exception& e) {
      std::lock_guard<std::mutex> lock(mutex);
      failures.push_back(
          fmt::format("speech for query {}: {}", ctx.plan.queries[work.queries[i]].id, e.what()));
    }
  });
  std::sort(failures.begin(), failures.end());
  return failures;
}

}  // namespace symp::data::detail
