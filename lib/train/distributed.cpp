#include "symp/train/distributed.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <thread>

#include "symp/core/error.h"
#include "symp/core/log.h"

namespace symp::train {
namespace {

std::optional<std::string> env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

int env_int(const char* name, int min_value) {
  const auto text = env(name);
  if (!text) throw UsageError(fmt::format("distributed: environment variable {} is not set", name));
  char* end = nullptr;
  errno = 0;
  const long value = std::strtol(text->c_str(), &end, 10);
  if (errno != 0 || end == text->c_str() || *end != '\0' || value < min_value || value > 1 << 20) {
    throw UsageError(fmt::format("distributed: environment variable {} = '{}': expected an integer >= {}",
                                 name, *text, min_value));
  }
  return static_cast<int>(value);
}

int env_int_or(const char* name, int min_value, int fallback) {
  return env(name) ? env_int(name, min_value) : fallback;
}

// SLURM_STEP_TASKS_PER_NODE ("4(x2),3") expanded to one count per node.
std::vector<int> tasks_per_node(const std::string& text) {
  std::vector<int> out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t comma = text.find(',', pos);
    const std::string item = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    int count = 0, repeat = 1;
    if (std::sscanf(item.c_str(), "%d(x%d)", &count, &repeat) < 1 || count < 1 || repeat < 1) {
      throw UsageError(fmt::format("distributed: SLURM_STEP_TASKS_PER_NODE = '{}' is not understood", text));
    }
    out.insert(out.end(), static_cast<size_t>(repeat), count);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return out;
}

void check(const DistEnv& e) {
  if (e.rank >= e.world_size) {
    throw UsageError(fmt::format("distributed ({}): rank {} is not below the world size {}", e.source, e.rank,
                                 e.world_size));
  }
  if (e.local_rank >= e.local_world_size) {
    throw UsageError(fmt::format("distributed ({}): local rank {} is not below the local world size {}",
                                 e.source, e.local_rank, e.local_world_size));
  }
  if (e.master_port < 1 || e.master_port > 65535) {
    throw UsageError(fmt::format("distributed: MASTER_PORT = {} is not a TCP port", e.master_port));
  }
}

std::atomic<bool> g_forward_signals{false};
std::vector<pid_t> g_children;  // written before the handler is installed, read-only afterwards

void forward_signal(int sig) {
  if (!g_forward_signals) return;
  for (pid_t pid : g_children) ::kill(pid, sig);
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exited with status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return fmt::format("was killed by signal {} ({})", WTERMSIG(status), strsignal(WTERMSIG(status)));
  return "stopped";
}

}  // namespace

std::optional<DistEnv> detect_dist_env() {
  DistEnv e;
  if (env("WORLD_SIZE")) {
    e.source = "torchrun";
    e.world_size = env_int("WORLD_SIZE", 1);
    e.rank = env_int("RANK", 0);
    e.local_rank = env_int_or("LOCAL_RANK", 0, e.rank);
    e.local_world_size = env_int_or("LOCAL_WORLD_SIZE", 1, e.world_size);
    e.master_addr = env("MASTER_ADDR").value_or("127.0.0.1");
    e.master_port = env_int_or("MASTER_PORT", 1, 29500);
  } else if (env("SLURM_STEP_NUM_TASKS") && env("SLURM_PROCID")) {  // inside an srun step
    e.source = "slurm";
    e.world_size = env_int("SLURM_STEP_NUM_TASKS", 1);
    e.rank = env_int("SLURM_PROCID", 0);
    e.local_rank = env_int_or("SLURM_LOCALID", 0, 0);
    e.local_world_size = 1;
    if (auto per_node = env("SLURM_STEP_TASKS_PER_NODE")) {
      const auto counts = tasks_per_node(*per_node);
      const int node = env_int_or("SLURM_NODEID", 0, 0);
      if (node < static_cast<int>(counts.size())) e.local_world_size = counts[static_cast<size_t>(node)];
    }
    if (e.world_size > 1) {
      auto addr = env("MASTER_ADDR");
      if (!addr) addr = env("SLURM_LAUNCH_NODE_IPADDR");
      if (!addr) {
        throw UsageError(
            "distributed (slurm): set MASTER_ADDR to the first node's address, e.g. "
            "MASTER_ADDR=$(scontrol show hostnames \"$SLURM_JOB_NODELIST\" | head -n1)");
      }
      e.master_addr = *addr;
    }
    e.master_port = env_int_or("MASTER_PORT", 1, 29500);
  } else {
    return std::nullopt;
  }
  check(e);
  if (e.world_size == 1) return std::nullopt;
  return e;
}

int free_local_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw RuntimeError(fmt::format("distributed: cannot open a socket: {}", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw RuntimeError(fmt::format("distributed: cannot find a free port: {}", std::strerror(errno)));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::vector<std::string> own_command_line() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  const std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> argv;
  size_t pos = 0;
  while (pos < all.size()) {
    const size_t end = all.find('\0', pos);
    argv.push_back(all.substr(pos, end == std::string::npos ? std::string::npos : end - pos));
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  if (argv.empty()) throw RuntimeError("train --nproc: cannot read this process's command line");
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n > 0) argv[0] = std::string(exe, static_cast<size_t>(n));
  return argv;
}

std::vector<std::string> without_nproc(const std::vector<std::string>& argv) {
  std::vector<std::string> out;
  for (size_t i = 0; i < argv.size(); ++i) {
    if (argv[i] == "--nproc") {
      ++i;  // and its value
      continue;
    }
    if (argv[i].rfind("--nproc=", 0) == 0) continue;
    out.push_back(argv[i]);
  }
  return out;
}

int launch_local(int nproc, const std::vector<std::string>& argv, std::chrono::seconds grace) {
  if (nproc < 1) throw UsageError(fmt::format("train: --nproc = {} must be positive", nproc));
  if (argv.empty()) throw UsageError("train --nproc: empty command line");
  std::vector<std::string> args = without_nproc(argv);
  const bool has_threads = std::any_of(args.begin(), args.end(), [](const std::string& a) {
    return a == "--threads" || a.rfind("--threads=", 0) == 0;
  });
  if (!has_threads) {
    const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    args.insert(args.begin() + 1, {"--threads", std::to_string(std::max(1, cores / nproc))});
  }
  const int port = free_local_port();
  log_info("train", "starting {} ranks on 127.0.0.1:{}", nproc, port);

  std::vector<char*> cargv;
  for (auto& a : args) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  g_children.assign(static_cast<size_t>(nproc), -1);
  for (int rank = 0; rank < nproc; ++rank) {
    const pid_t pid = ::fork();
    if (pid < 0) {
      for (pid_t child : g_children) {
        if (child > 0) ::kill(child, SIGTERM);
      }
      throw RuntimeError(fmt::format("train --nproc: fork failed: {}", std::strerror(errno)));
    }
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);  // a rank does not outlive its launcher
      ::setenv("RANK", std::to_string(rank).c_str(), 1);
      ::setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
      ::setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("LOCAL_WORLD_SIZE", std::to_string(nproc).c_str(), 1);
      ::setenv("MASTER_ADDR", "127.0.0.1", 1);
      ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
      ::execv(cargv[0], cargv.data());
      std::fprintf(stderr, "symp: error: train --nproc: cannot run %s: %s\n", cargv[0], std::strerror(errno));
      std::_Exit(127);
    }
    g_children[static_cast<size_t>(rank)] = pid;
  }
  struct sigaction action {};
  action.sa_handler = forward_signal;
  sigemptyset(&action.sa_mask);
  struct sigaction old_int {
  }, old_term{};
  ::sigaction(SIGINT, &action, &old_int);
  ::sigaction(SIGTERM, &action, &old_term);
  g_forward_signals = true;

  int result = 0, running = nproc;
  bool killing = false;  // SIGKILL whoever is left at kill_at
  auto kill_at = std::chrono::steady_clock::now();
  while (running > 0) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno == ECHILD) break;
    if (pid <= 0) {
      if (killing && std::chrono::steady_clock::now() >= kill_at) {
        for (pid_t child : g_children) {
          if (child > 0) ::kill(child, SIGKILL);
        }
        killing = false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    const auto it = std::find(g_children.begin(), g_children.end(), pid);
    if (it == g_children.end()) continue;
    const int rank = static_cast<int>(it - g_children.begin());
    *it = -1;
    --running;
    const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!ok && result == 0) {
      result = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      log_error("train", "rank {} (pid {}) {}; stopping the other {} rank(s)", rank, pid,
                describe_status(status), running);
      for (pid_t child : g_children) {
        if (child > 0) ::kill(child, SIGTERM);
      }
      kill_at = std::chrono::steady_clock::now() + grace;
      killing = true;
    }
  }
  g_forward_signals = false;
  ::sigaction(SIGINT, &old_int, nullptr);
  ::sigaction(SIGTERM, &old_term, nullptr);
  g_children.clear();
  return result;
}

}  // namespace symp::train
