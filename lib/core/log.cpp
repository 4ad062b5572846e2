#include "symp/core/log.h"

#include <atomic>
#include <cstdio>
#include <mutex>

#include "symp/core/error.h"

namespace symp {
namespace {

std::atomic<int> g_level{static_cast<int>(LogLevel::Info)};
std::mutex g_mutex;
LogSink g_sink;        // guarded by g_mutex
std::string g_prefix;  // guarded by g_mutex

const char* level_name(LogLevel level) {
  switch (level) {
    case LogLevel::Debug:
      return "debug";
    case LogLevel::Info:
      return "info";
    case LogLevel::Warn:
      return "warn";
    case LogLevel::Error:
      return "error";
    case LogLevel::Off:
      break;
  }
  return "off";
}

}  // namespace

void set_log_level(LogLevel level) {
  g_level = static_cast<int>(level);
}
LogLevel log_level() {
  return static_cast<LogLevel>(g_level.load());
}

LogLevel parse_log_level(const std::string& name) {
  for (auto level : {LogLevel::Debug, LogLevel::Info, LogLevel::Warn, LogLevel::Error, LogLevel::Off}) {
    if (name == level_name(level)) return level;
  }
  throw UsageError("--log-level: unknown level '" + name + "' (debug, info, warn, error, off)");
}

void set_log_sink(LogSink sink) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_sink = std::move(sink);
}

void set_log_prefix(std::string prefix) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_prefix = prefix.empty() ? std::string() : "[" + prefix + "] ";
}

void log_message(LogLevel level, std::string_view tag, std::string_view message) {
  if (level < log_level()) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  if (g_sink) {
    g_sink(level, tag, message);
    return;
  }
  // "\r\033[K" clears a progress line a bar may have left on a terminal.
  std::fprintf(stderr, "%s[%s] %.*s: %.*s\n", g_prefix.c_str(), level_name(level), int(tag.size()),
               tag.data(), int(message.size()), message.data());
  std::fflush(stderr);
}

}  // namespace symp
