#include "symp/io/base64.h"

#include <array>
#include <cstdint>

#include <fmt/format.h>

#include "symp/core/error.h"

namespace symp::io {
namespace {
const char* const kTable = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

std::array<int8_t, 256> reverse_table() {
  std::array<int8_t, 256> r{};
  r.fill(-1);
  for (int i = 0; i < 64; ++i) r[static_cast<uint8_t>(kTable[i])] = static_cast<int8_t>(i);
  return r;
}
}  // namespace

std::string base64_encode(const std::string& bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8) |
                 static_cast<uint8_t>(bytes[i + 2]);
    out += {kTable[v >> 18], kTable[(v >> 12) & 63], kTable[(v >> 6) & 63], kTable[v & 63]};
  }
  if (i + 1 == bytes.size()) {
    uint32_t v = static_cast<uint8_t>(bytes[i]) << 16;
    out += {kTable[v >> 18], kTable[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == bytes.size()) {
    uint32_t v = (static_cast<uint8_t>(bytes[i]) << 16) | (static_cast<uint8_t>(bytes[i + 1]) << 8);
    out += {kTable[v >> 18], kTable[(v >> 12) & 63], kTable[(v >> 6) & 63], '='};
  }
  return out;
}

std::string base64_decode(const std::string& text, const std::string& where) {
  static const auto rev = reverse_table();
  if (text.size() % 4 != 0)
    throw InputError(fmt::format("{}: not base64 (length {} is not a multiple of 4)", where, text.size()));
  const size_t pad = text.empty() ? 0 : text.back() != '=' ? 0 : text[text.size() - 2] == '=' ? 2 : 1;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) {
      const size_t at = i + k;
      const auto c = static_cast<uint8_t>(text[at]);
      if (c == '=' && at >= text.size() - pad) {
        v <<= 6;
        continue;
      }
      if (rev[c] < 0) throw InputError(fmt::format("{}: not base64 (character {} is invalid)", where, at));
      v = (v << 6) | static_cast<uint32_t>(rev[c]);
    }
    out += static_cast<char>((v >> 16) & 0xFF);
    if (i + 4 < text.size() || pad < 2) out += static_cast<char>((v >> 8) & 0xFF);
    if (i + 4 < text.size() || pad < 1) out += static_cast<char>(v & 0xFF);
  }
  return out;
}

}  // namespace symp::io
