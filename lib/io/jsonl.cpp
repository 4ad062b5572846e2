#include "symp/io/jsonl.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/format.h>

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"

namespace symp::io {

bool json_too_deep(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return true;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return false;
}

Json read_json(const std::string& path) {
  const std::string text = read_text_file(path);
  if (json_too_deep(text))
    throw InputError(fmt::format("{}: arrays or objects nested deeper than {} levels", path, kMaxJsonDepth));
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw InputError(fmt::format("{}: invalid JSON at byte {}: {}", path, e.byte, e.what()));
  } catch (const Json::exception& e) {  // out_of_range: a number too large for a double
    throw InputError(fmt::format("{}: invalid JSON: {}", path, e.what()));
  }
}

void write_json_atomic(const std::string& path, const Json& value, int indent) {
  write_file_atomic(path, value.dump(indent) + "\n");
}

void for_each_jsonl(const std::string& path, const std::function<void(const Json&, size_t)>& fn,
                    bool tolerate_torn_tail) {
  const std::string text = read_text_file(path);
  size_t line_no = 0, pos = 0;
  while (pos < text.size()) {
    auto end = text.find('\n', pos);
    const bool last_without_newline = end == std::string::npos;
    if (last_without_newline) end = text.size();
    ++line_no;
    std::string_view line(text.data() + pos, end - pos);
    pos = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    Json record;
    if (json_too_deep(line))
      throw InputError(
          fmt::format("{}:{}: arrays or objects nested deeper than {} levels", path, line_no, kMaxJsonDepth));
    try {
      record = Json::parse(line);
    } catch (const Json::exception& e) {  // parse_error, and out_of_range for a number too large
      if (tolerate_torn_tail && last_without_newline) {
        log_warn("jsonl", "{}:{}: skipping an incomplete last line (an interrupted write)", path, line_no);
        break;
      }
      throw InputError(fmt::format("{}:{}: malformed JSON: {}", path, line_no, e.what()));
    }
    if (!record.is_object()) throw InputError(fmt::format("{}:{}: expected a JSON object", path, line_no));
    fn(record, line_no);
  }
}

std::vector<Json> read_jsonl(const std::string& path, bool tolerate_torn_tail) {
  std::vector<Json> records;
  for_each_jsonl(
      path, [&](const Json& r, size_t) { records.push_back(r); }, tolerate_torn_tail);
  return records;
}

void write_jsonl_atomic(const std::string& path, const std::vector<Json>& records) {
  std::string out;
  for (const auto& r : records) {
    out += r.dump();
    out += '\n';
  }
  write_file_atomic(path, out);
}

JsonlAppender::JsonlAppender(const std::string& path, bool sync_each) : path_(path), sync_each_(sync_each) {
  ensure_dir(fs::path(path).parent_path());
  if (fs::exists(path)) {
    // Cut a torn last line so that the next record starts on a line of its own.
    const std::string text = read_text_file(path);
    const auto keep = text.empty() || text.back() == '\n' ? text.size() : text.rfind('\n') + 1;
    if (keep != text.size()) {
      log_warn("jsonl", "{}: removing an incomplete last line left by an interrupted run", path);
      fs::resize_file(path, text.rfind('\n') == std::string::npos ? 0 : keep);
    }
  }
  file_ = std::fopen(path.c_str(), "ab");
  if (!file_) throw RuntimeError(path + ": cannot open for appending (" + std::strerror(errno) + ")");
}

JsonlAppender::~JsonlAppender() {
  if (file_) std::fclose(file_);
}

void JsonlAppender::append(const Json& record) {
  const std::string line = record.dump() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    throw RuntimeError(path_ + ": append failed (" + std::strerror(errno) + ")");
  }
  if (sync_each_) ::fsync(fileno(file_));
}

const Json& require_field(const Json& object, const std::string& key, const std::string& context) {
  if (!object.is_object()) throw InputError(context + ": expected a JSON object");
  auto it = object.find(key);
  if (it == object.end()) throw InputError(context + ": missing field '" + key + "'");
  return *it;
}

double require_number(const Json& object, const std::string& key, const std::string& context) {
  const auto& v = require_field(object, key, context);
  if (!v.is_number()) throw InputError(context + ": field '" + key + "': expected a number, got " + v.dump());
  return v.get<double>();
}

std::string require_string(const Json& object, const std::string& key, const std::string& context) {
  const auto& v = require_field(object, key, context);
  if (!v.is_string()) throw InputError(context + ": field '" + key + "': expected a string, got " + v.dump());
  return v.get<std::string>();
}

}  // namespace symp::io
