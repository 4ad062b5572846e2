// Field access under the records' one strictness policy.
#include "symp/records/fields.h"

#include "symp/core/error.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace symp::records {
namespace {

// An integer JSON number that int64_t holds (nlohmann keeps numbers above INT64_MAX as unsigned).
bool fits_int64(const io::Json& v) {
  if (v.is_number_unsigned()) return v.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX);
  return v.is_number_integer();
}

}  // namespace

Fields::Fields(const io::Json& object, std::string where) : j_(object), where_(std::move(where)) {
  if (!j_.is_object()) throw InputError(where_ + ": expected a JSON object");
}

bool Fields::has(const char* field) const {
  auto it = j_.find(field);
  return it != j_.end() && !it->is_null();
}

void Fields::fail(const char* field, const std::string& message) const {
  throw InputError(where_ + ": field '" + field + "': " + message);
}

std::optional<std::string> Fields::opt_str(const char* field) const {
  if (!has(field)) return std::nullopt;
  const auto& v = j_.at(field);
  if (!v.is_string()) fail(field, "expected a string, got " + v.dump());
  return v.get<std::string>();
}

std::string Fields::str(const char* field) const {
  auto v = opt_str(field);
  if (!v) fail(field, "missing");
  if (v->empty()) fail(field, "empty");
  return *v;
}

std::string Fields::first(std::initializer_list<const char*> fields) const {
  for (const char* f : fields) {
    auto it = j_.find(f);
    if (it != j_.end() && it->is_string() && !it->get<std::string>().empty()) return it->get<std::string>();
  }
  return "";
}

std::optional<std::string> Fields::opt_id(const char* field) const {
  if (!has(field)) return std::nullopt;
  const auto& v = j_.at(field);
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_unsigned()) return std::to_string(v.get<uint64_t>());
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  fail(field, "expected a string or an integer, got " + v.dump());
}

std::string Fields::id(const char* field) const {
  auto v = opt_id(field);
  if (!v) fail(field, "missing, or not a string or integer");
  if (v->empty()) fail(field, "empty");
  return *v;
}

std::optional<double> Fields::opt_num(const char* field) const {
  if (!has(field)) return std::nullopt;
  const auto& v = j_.at(field);
  if (!v.is_number()) fail(field, "expected a number, got " + v.dump());
  const double x = v.get<double>();
  if (!std::isfinite(x)) fail(field, "not a finite number");
  return x;
}

double Fields::num(const char* field) const {
  auto v = opt_num(field);
  if (!v) fail(field, "missing");
  return *v;
}

std::optional<int64_t> Fields::opt_integer(const char* field) const {
  if (!has(field)) return std::nullopt;
  const auto& v = j_.at(field);
  if (!fits_int64(v)) fail(field, "expected an integer (64-bit signed), got " + v.dump());
  return v.get<int64_t>();
}

int64_t Fields::integer(const char* field) const {
  auto v = opt_integer(field);
  if (!v) fail(field, "missing");
  return *v;
}

std::optional<std::vector<int64_t>> Fields::opt_integers(const char* field) const {
  if (!has(field)) return std::nullopt;
  const auto& v = j_.at(field);
  if (!v.is_array()) fail(field, "expected an array of integers");
  std::vector<int64_t> out;
  out.reserve(v.size());
  for (const auto& x : v) {
    if (!fits_int64(x)) fail(field, x.dump() + " is not an integer (64-bit signed)");
    out.push_back(x.get<int64_t>());
  }
  return out;
}

std::vector<int64_t> Fields::integers(const char* field) const {
  auto v = opt_integers(field);
  if (!v) fail(field, "missing");
  return *v;
}

std::optional<std::vector<std::string>> Fields::opt_strings(const char* field) const {
  if (!has(field)) return std::nullopt;
  const auto& v = j_.at(field);
  if (!v.is_array()) fail(field, "expected an array of strings");
  std::vector<std::string> out;
  for (const auto& x : v) {
    if (!x.is_string()) fail(field, x.dump() + " is not a string");
    out.push_back(x.get<std::string>());
  }
  return out;
}

int Fields::schema_version(int newest) const {
  const auto v = opt_integer(kSchemaVersionField);
  if (!v) return 1;
  if (*v < 1 || *v > newest)
    fail(kSchemaVersionField, std::to_string(*v) + " is not a version this symp reads (1 to " +
                                  std::to_string(newest) + "): written by a newer symp?");
  return static_cast<int>(*v);
}

io::Json Fields::unknown(std::initializer_list<const char*> known) const {
  io::Json out = io::Json::object();
  for (auto it = j_.begin(); it != j_.end(); ++it) {
    const bool is_known =
        std::any_of(known.begin(), known.end(), [&](const char* k) { return it.key() == k; });
    if (!is_known) out[it.key()] = it.value();
  }
  return out;
}

void merge_unknown(io::Json& record, const io::Json& extra) {
  if (!extra.is_object()) return;
  for (auto it = extra.begin(); it != extra.end(); ++it)
    if (!record.contains(it.key())) record[it.key()] = it.value();
}

}  // namespace symp::records
