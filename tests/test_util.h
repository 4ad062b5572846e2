#pragma once
// Helpers shared by the tests: a scratch folder per test and running the symp binary.
#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include <sys/wait.h>

namespace symp::test {

// A fresh empty folder under the system temp dir, removed when the object goes.
class ScratchDir {
 public:
  explicit ScratchDir(const std::string& name) {
    path_ = std::filesystem::temp_directory_path() /
            ("symp-test-" + name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  static int& counter() {
    static int c = 0;
    return c;
  }
  std::filesystem::path path_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

// Runs a shell command; collects stdout, stderr and the exit code.
inline RunResult run_command(const std::string& command) {
  const auto err_file =
      std::filesystem::temp_directory_path() / ("symp-test-stderr-" + std::to_string(::getpid()));
  RunResult result;
  FILE* pipe = ::popen((command + " 2>" + err_file.string()).c_str(), "r");
  if (!pipe) return result;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) result.out.append(buf.data(), n);
  const int status = ::pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (FILE* f = std::fopen(err_file.c_str(), "r")) {
    while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) result.err.append(buf.data(), n);
    std::fclose(f);
  }
  std::filesystem::remove(err_file);
  return result;
}

// Runs `symp args` (args are passed to the shell as written; optionally behind a command such as
// "env -u VAR") and collects stdout, stderr and the code.
inline RunResult run_symp(const std::string& args, const std::string& prefix = "") {
  return run_command((prefix.empty() ? "" : prefix + " ") + std::string(SYMP_BINARY) + " " + args);
}

inline std::string fixtures_dir() {
  return std::string(SYMP_SHARED_DIR) + "/fixtures";
}

// Standard base64 (with padding): tiktoken's tokenizer.model stores each token's bytes this way.
inline std::string base64(const std::string& bytes) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8) | uint8_t(bytes[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out += table[(v >> s) & 63];
  }
  if (bytes.size() - i == 1) {
    const uint32_t v = uint8_t(bytes[i]) << 16;
    out += std::string{table[(v >> 18) & 63], table[(v >> 12) & 63], '=', '='};
  } else if (bytes.size() - i == 2) {
    const uint32_t v = (uint8_t(bytes[i]) << 16) | (uint8_t(bytes[i + 1]) << 8);
    out += std::string{table[(v >> 18) & 63], table[(v >> 12) & 63], table[(v >> 6) & 63], '='};
  }
  return out;
}

}  // namespace symp::test
