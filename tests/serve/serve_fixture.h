#pragma once
// A `symp serve` process for tests: started on a free port of 127.0.0.1 (--port 0; the "listening on" line
// says which), stopped with SIGTERM when the test ends. The models are the infer tests' tiny pipeline.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "../infer/infer_fixture.h"
#include "symp/io/http.h"

namespace symp::test::serve {

namespace fs = std::filesystem;

class ServerProcess {
 public:
  // Starts `[env_prefix] symp [global] serve <args> --port 0` and waits for its "listening on" line.
  explicit ServerProcess(const std::string& args, const std::string& env_prefix = "",
                         const std::string& global = "") {
    log_ = std::filesystem::temp_directory_path() /
           ("symp-serve-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter()++) + ".log");
    int out[2];
    REQUIRE(::pipe(out) == 0);
    const std::string cmd = "exec " + env_prefix + " " + std::string(SYMP_BINARY) + " " + global + " serve " +
                            args + " --port 0 2>" + log_.string();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], 1);
      ::close(out[0]);
      ::close(out[1]);
      ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(out[1]);
    FILE* f = ::fdopen(out[0], "r");
    char line[512];
    std::string first = std::fgets(line, sizeof line, f) ? line : "";
    std::fclose(f);
    INFO("serve " << args << "\n" << log());
    REQUIRE(first.rfind("listening on http://127.0.0.1:", 0) == 0);
    url_ = first.substr(std::string("listening on ").size());
    while (!url_.empty() && (url_.back() == '\n' || url_.back() == '\r')) url_.pop_back();
  }
  ~ServerProcess() {
    if (pid_ > 0) stop();
    std::filesystem::remove(log_);
  }
  // Sends SIGTERM (once).
  void terminate() {
    if (pid_ > 0 && !terminated_) ::kill(pid_, SIGTERM);
    terminated_ = true;
  }
  // SIGTERM unless sent already, then waits; returns the exit status (-1 when a signal killed it).
  int stop() {
    if (pid_ <= 0) return exit_code_;
    terminate();
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return exit_code_;
  }
  pid_t pid() const { return pid_; }
  const std::string& url() const { return url_; }
  std::string log() const { return infer::read_text(log_); }

 private:
  static int& counter() {
    static int c = 0;
    return c;
  }
  pid_t pid_ = -1;
  bool terminated_ = false;
  int exit_code_ = -1;
  std::filesystem::path log_;
  std::string url_;
};

// One HTTP exchange (no retries: the test looks at every status).
inline io::HttpResponse request(const std::string& method, const std::string& url,
                                const std::string& body = "",
                                const std::vector<std::string>& headers = {"Content-Type: application/json"},
                                double timeout_s = 300) {
  io::HttpRequest r;
  r.method = method;
  r.url = url;
  r.body = body;
  r.headers = headers;
  r.timeout_s = timeout_s;
  return io::http_send(r);
}

// A chat request answering `wav_bytes` with `extra` merged in at the top level.
inline std::string chat_body(const std::string& wav_bytes, const io::Json& extra = io::Json::object()) {
  io::Json body = {
      {"modalities", {"text", "audio"}},
      {"audio", {{"format", "wav"}}},
      {"messages",
       {{{"role", "user"},
         {"content",
          {{{"type", "input_audio"}, {"input_audio", {{"data", base64(wav_bytes)}, {"format", "wav"}}}}}}}}}};
  for (const auto& [k, v] : extra.items()) body[k] = v;
  return body.dump();
}

}  // namespace symp::test::serve
