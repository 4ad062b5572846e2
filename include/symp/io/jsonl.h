#pragma once
// JSON and JSONL files (manifests, metrics, configs). Reading reports a malformed line as file:line;
// whole-file writes are atomic; JsonlAppender appends one record at a time for resumable jobs.
#include <nlohmann/json.hpp>

#include "symp/core/error.h"

#include <cstdio>
#include <exception>
#include <functional>
#include <limits>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace symp::io {

using Json = nlohmann::json;

// Arrays and objects nested deeper than this are refused before parsing: nlohmann's writer, copies and
// comparisons recurse, and a hostile file of 30,000 '[' would exhaust the stack. Nothing symp reads comes
// near it (its deepest files nest about ten levels).
constexpr int kMaxJsonDepth = 512;
// Whether `text` nests arrays/objects deeper than max_depth (brackets inside strings do not count).
bool json_too_deep(std::string_view text, int max_depth = kMaxJsonDepth);

Json read_json(const std::string& path);
void write_json_atomic(const std::string& path, const Json& value, int indent = 2);

// Calls fn(record, line_number) for each non-blank line. InputError "path:line: ..." for a line that is
// not a JSON object. With tolerate_torn_tail, a last line without its newline that fails to parse (a
// write interrupted by a crash) is skipped with a warning instead.
void for_each_jsonl(const std::string& path, const std::function<void(const Json&, size_t)>& fn,
                    bool tolerate_torn_tail = false);
std::vector<Json> read_jsonl(const std::string& path, bool tolerate_torn_tail = false);
void write_jsonl_atomic(const std::string& path, const std::vector<Json>& records);

// Appends records, one line each, flushed (and fsync'd) per record. Opening an existing file first cuts
// a torn last line left by a crash, so the file always ends with a complete record.
class JsonlAppender {
 public:
  explicit JsonlAppender(const std::string& path, bool sync_each = true);
  ~JsonlAppender();
  JsonlAppender(const JsonlAppender&) = delete;
  JsonlAppender& operator=(const JsonlAppender&) = delete;
  void append(const Json& record);
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* file_ = nullptr;
  bool sync_each_;
};

// Field access with errors naming the context and the field: "manifest.jsonl:3: field 'valence': ...".
const Json& require_field(const Json& object, const std::string& key, const std::string& context);
double require_number(const Json& object, const std::string& key, const std::string& context);
std::string require_string(const Json& object, const std::string& key, const std::string& context);
// Reads an optional field into `out` (left as it is when absent or null): config files whose defaults
// live in the C++ struct. A value of the wrong type is an InputError "context: field 'key': ...".
// An integer field must hold an integer that fits T (nlohmann would truncate 2.5 and cast 1e30 or
// 2^40 out of range).
template <class T>
void read_optional(const Json& object, const std::string& key, T& out, const std::string& context) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    const bool fits = (it->is_number_unsigned() &&
                       it->template get<uint64_t>() <= uint64_t(std::numeric_limits<T>::max())) ||
                      (it->is_number_integer() && !it->is_number_unsigned() &&
                       it->template get<int64_t>() >= int64_t(std::numeric_limits<T>::min()) &&
                       it->template get<int64_t>() <= int64_t(std::numeric_limits<T>::max()));
    if (!fits)
      throw InputError(context + ": field '" + key + "': expected an integer in [" +
                       std::to_string(std::numeric_limits<T>::min()) + ", " +
                       std::to_string(std::numeric_limits<T>::max()) + "], got " + it->dump());
  }
  try {
    out = it->template get<T>();
  } catch (const std::exception& e) {
    throw InputError(context + ": field '" + key + "': " + e.what());
  }
}

}  // namespace symp::io
