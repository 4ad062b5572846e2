#pragma once
// One logger for the whole toolkit: diagnostics go to stderr as "[level] tag: message"; results go to
// stdout or files, never through here. Use the typed helpers:  symp::log_info("gen-data", "{} rows", n);
#include <fmt/format.h>

#include <functional>
#include <string>
#include <string_view>

namespace symp {

enum class LogLevel { Debug = 0, Info = 1, Warn = 2, Error = 3, Off = 4 };

void set_log_level(LogLevel level);
LogLevel log_level();
// "debug", "info", "warn", "error", "off"; throws UsageError naming the bad value.
LogLevel parse_log_level(const std::string& name);

// Replaces the stderr sink (tests capture warnings this way); pass nullptr to restore stderr.
using LogSink = std::function<void(LogLevel, std::string_view tag, std::string_view message)>;
void set_log_sink(LogSink sink);
// Text put before every line of the stderr sink, e.g. "rank 1" in a multi-process run ("" = none).
void set_log_prefix(std::string prefix);

void log_message(LogLevel level, std::string_view tag, std::string_view message);

template <class... Args>
void log_debug(std::string_view tag, fmt::format_string<Args...> f, Args&&... args) {
  if (log_level() <= LogLevel::Debug)
    log_message(LogLevel::Debug, tag, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void log_info(std::string_view tag, fmt::format_string<Args...> f, Args&&... args) {
  if (log_level() <= LogLevel::Info)
    log_message(LogLevel::Info, tag, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void log_warn(std::string_view tag, fmt::format_string<Args...> f, Args&&... args) {
  if (log_level() <= LogLevel::Warn)
    log_message(LogLevel::Warn, tag, fmt::format(f, std::forward<Args>(args)...));
}
template <class... Args>
void log_error(std::string_view tag, fmt::format_string<Args...> f, Args&&... args) {
  if (log_level() <= LogLevel::Error)
    log_message(LogLevel::Error, tag, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace symp
