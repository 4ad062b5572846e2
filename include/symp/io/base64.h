#pragma once
// Standard base64 (RFC 4648, with padding), as OpenAI-style APIs carry audio in JSON.
#include <string>

namespace symp::io {

std::string base64_encode(const std::string& bytes);
// Strict decoding: the standard alphabet, length a multiple of 4, '=' only as the last one or two
// characters (whitespace is not skipped). InputError naming `where` and the first bad position.
std::string base64_decode(const std::string& text, const std::string& where);

}  // namespace symp::io
