#pragma once
// Optional integer-list fields of config files (kernel sizes, dilations, channel lists), read element by
// element with io::read_optional's integer check: nlohmann alone would truncate 2.5 and cast 1e30 out of
// range.
#include <string>
#include <vector>

#include "symp/io/jsonl.h"

namespace symp::io {

// Reads `value` (an array of integers, or of such arrays) into `out`; InputError "context: field
// 'key[i]': ..." for an element that is not an integer that fits.
inline void read_list(const Json& value, const std::string& key, int& out, const std::string& context) {
  const Json holder = {{key, value}};
  read_optional(holder, key, out, context);
}
template <class T>
void read_list(const Json& value, const std::string& key, std::vector<T>& out, const std::string& context) {
  if (!value.is_array())
    throw InputError(context + ": field '" + key + "': expected an array, got " + value.dump());
  std::vector<T> items(value.size());
  for (size_t i = 0; i < items.size(); ++i)
    read_list(value[i], key + "[" + std::to_string(i) + "]", items[i], context);
  out = std::move(items);
}

// An optional list field (left as it is when absent or null).
template <class T>
void read_optional_list(const Json& object, const std::string& key, std::vector<T>& out,
                        const std::string& context) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return;
  read_list(*it, key, out, context);
}

}  // namespace symp::io
