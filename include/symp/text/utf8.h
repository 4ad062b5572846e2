#pragma once
// UTF-8 repair for text decoded from sampled ids: a model can emit byte tokens that do not join into valid
// UTF-8 (half a character at the end of a reply, random bytes from an untrained model), and JSON needs valid
// text. Each invalid byte becomes U+FFFD, as Python's bytes.decode(errors="replace") does for the
// reference code.
#include <string>

namespace symp::text {

// `bytes` with every byte that does not start a well-formed sequence (no overlong forms, no surrogates,
// nothing above U+10FFFF) replaced by U+FFFD; valid text comes back unchanged.
std::string to_valid_utf8(const std::string& bytes);

// The code points of `bytes`, each byte that does not start a well-formed sequence read as U+FFFD (the
// same rule as to_valid_utf8).
std::u32string decode_utf8(const std::string& bytes);

}  // namespace symp::text
