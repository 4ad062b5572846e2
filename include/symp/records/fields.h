#pragma once
// The one strictness policy of the files that pass between stages (symp/records/*.h):
//   - a required field that is missing, null or of the wrong type is an InputError
//     "FILE:LINE: field 'F': ...";
//   - an optional field may be absent or null; present with the wrong type, it is the same error;
//   - fields the record type does not know are kept (Fields::unknown) and written back unchanged.
// Readers of files other tools wrote may accept alias names for a field (first()); the record module lists
// them, never the stage.
// Versions: a record may carry "schema_version" (an integer). Every format is at version 1 today, which is
// implicit: writers leave the field out, so files stay as they have always been. A writer whose format
// changes writes the new number; a reader given a number above the one it knows stops with an error
// naming the file, line and field instead of misreading the record.
#include "symp/io/jsonl.h"

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace symp::records {

class Fields {
 public:
  // `where` names the record in errors: "FILE:LINE". Not an object: InputError.
  Fields(const io::Json& object, std::string where);

  const std::string& where() const { return where_; }
  const io::Json& json() const { return j_; }
  bool has(const char* field) const;  // present and not null

  std::string str(const char* field) const;  // required, non-empty string
  std::optional<std::string> opt_str(const char* field) const;
  std::string str_or(const char* field, const std::string& fallback) const {
    return opt_str(field).value_or(fallback);
  }
  // The first of `fields` holding a non-empty string, or "": aliases of other tools' files.
  std::string first(std::initializer_list<const char*> fields) const;
  // A string, or an integer written as its digits (ids of files other tools wrote).
  std::string id(const char* field) const;
  std::optional<std::string> opt_id(const char* field) const;

  double num(const char* field) const;  // required, finite number
  std::optional<double> opt_num(const char* field) const;
  int64_t integer(const char* field) const;
  std::optional<int64_t> opt_integer(const char* field) const;
  std::vector<int64_t> integers(const char* field) const;  // required array of integers
  std::optional<std::vector<int64_t>> opt_integers(const char* field) const;
  std::optional<std::vector<std::string>> opt_strings(const char* field) const;

  // The record's schema_version (1 when absent); InputError when it is not an integer in [1, newest].
  int schema_version(int newest) const;

  // The record's fields not in `known`, to be written back as they came.
  io::Json unknown(std::initializer_list<const char*> known) const;

  // InputError "WHERE: field 'F': MESSAGE".
  [[noreturn]] void fail(const char* field, const std::string& message) const;

 private:
  const io::Json& j_;
  std::string where_;
};

// The field name of the version (for known-field lists).
constexpr const char* kSchemaVersionField = "schema_version";

// Copies every field of `extra` that `record` does not hold yet (the pass-through of unknown fields).
void merge_unknown(io::Json& record, const io::Json& extra);
// Json(value) or null.
template <class T>
io::Json or_null(const std::optional<T>& v) {
  return v ? io::Json(*v) : io::Json(nullptr);
}
inline io::Json or_null(const std::string& s) {
  return s.empty() ? io::Json(nullptr) : io::Json(s);
}

}  // namespace symp::records
