// GLM-4's tiktoken-format BPE tokenizer with its added tokens and PCRE2 pre-tokenisation.
#include "symp/text/glm_tokenizer.h"

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/io/jsonl.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>
#include <unordered_map>

namespace symp::text {

namespace {

std::string base64_decode(const std::string& in, bool& ok) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  uint32_t buffer = 0;
  int bits = 0;
  ok = in.size() % 4 == 0 && !in.empty();
  size_t i = 0;
  for (; i < in.size() && in[i] != '='; ++i) {
    const int v = value(in[i]);
    if (v < 0) {
      ok = false;
      return out;
    }
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  for (; i < in.size(); ++i) ok = ok && in[i] == '=';
  return out;
}

}  // namespace

struct GlmTokenizer::Impl {
  std::unordered_map<std::string, int64_t> ranks;     // token bytes -> rank (= id)
  std::unordered_map<int64_t, std::string> bytes_of;  // id -> token bytes (ranks and added tokens)
  std::unordered_map<std::string, int64_t> added;     // added token content -> id
  std::vector<size_t> added_lengths;                  // distinct lengths of added tokens, longest first
  std::set<char> added_first;                         // first characters of added tokens
  int64_t vocab = 0;
  int64_t audio_codes = 0;
  pcre2_code* regex = nullptr;

  ~Impl() {
    if (regex) pcre2_code_free(regex);
  }

  // tiktoken's byte-pair merge: repeatedly join the adjacent pair whose joined bytes have the lowest
  // rank (leftmost on ties) until no joined pair is a token.
  void bpe(const std::string& piece, std::vector<int64_t>& out) const {
    if (const auto it = ranks.find(piece); it != ranks.end()) {
      out.push_back(it->second);
      return;
    }
    std::vector<std::string> parts;
    for (char c : piece) parts.emplace_back(1, c);
    while (parts.size() > 1) {
      int64_t best = std::numeric_limits<int64_t>::max();
      size_t at = 0;
      for (size_t i = 0; i + 1 < parts.size(); ++i) {
        const auto it = ranks.find(parts[i] + parts[i + 1]);
        if (it != ranks.end() && it->second < best) {
          best = it->second;
          at = i;
        }
      }
      if (best == std::numeric_limits<int64_t>::max()) break;
      parts[at] += parts[at + 1];
      parts.erase(parts.begin() + static_cast<std::ptrdiff_t>(at) + 1);
    }
    for (const auto& p : parts) {
      const auto it = ranks.find(p);
      if (it == ranks.end())
        throw InputError(
            fmt::format("GLM tokenizer: byte 0x{:02X} has no token", static_cast<unsigned char>(p[0])));
      out.push_back(it->second);
    }
  }

  void encode_plain(const std::string& text, std::vector<int64_t>& out) const {
    pcre2_match_data* match = pcre2_match_data_create_from_pattern(regex, nullptr);
    size_t offset = 0;
    const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
    while (offset < text.size()) {
      const int rc = pcre2_match(regex, subject, text.size(), offset, 0, match, nullptr);
      if (rc == PCRE2_ERROR_NOMATCH) break;
      if (rc < 0) {
        pcre2_match_data_free(match);
        PCRE2_UCHAR message[256];
        pcre2_get_error_message(rc, message, sizeof(message));
        throw InputError(std::string("GLM tokenizer: cannot pre-tokenise the text: ") +
                         reinterpret_cast<const char*>(message));
      }
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(match);
      if (ov[1] == ov[0]) {  // the pattern cannot match empty, but never loop forever
        ++offset;
        continue;
      }
      bpe(text.substr(ov[0], ov[1] - ov[0]), out);
      offset = ov[1];
    }
    pcre2_match_data_free(match);
  }
};

const char* GlmTokenizer::pattern() {
  return R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
}

GlmTokenizer::GlmTokenizer() : impl_(std::make_unique<Impl>()) {}
GlmTokenizer::GlmTokenizer(GlmTokenizer&&) noexcept = default;
GlmTokenizer& GlmTokenizer::operator=(GlmTokenizer&&) noexcept = default;
GlmTokenizer::~GlmTokenizer() = default;

GlmTokenizer GlmTokenizer::load(const std::string& dir) {
  GlmTokenizer tok;
  Impl& m = *tok.impl_;
  const std::string model_path = (fs::path(dir) / "tokenizer.model").string();
  std::ifstream in(model_path);
  if (!in) throw InputError(model_path + ": cannot open the GLM tokenizer's rank file");
  std::string line;
  size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::istringstream fields(line);
    std::string b64;
    int64_t rank = -1;
    std::string extra;
    if (!(fields >> b64 >> rank) || (fields >> extra) || rank < 0)
      throw InputError(fmt::format("{}:{}: expected \"<base64 token> <rank>\"", model_path, line_no));
    bool ok = false;
    const std::string bytes = base64_decode(b64, ok);
    if (!ok) throw InputError(fmt::format("{}:{}: token is not valid base64", model_path, line_no));
    if (!m.ranks.emplace(bytes, rank).second || !m.bytes_of.emplace(rank, bytes).second)
      throw InputError(fmt::format("{}:{}: duplicate token or rank {}", model_path, line_no, rank));
    m.vocab = std::max(m.vocab, rank + 1);
  }
  for (int b = 0; b < 256; ++b)
    if (!m.ranks.count(std::string(1, static_cast<char>(b))))
      throw InputError(
          fmt::format("{}: byte 0x{:02X} has no token (byte-level BPE needs all 256)", model_path, b));

  const std::string config_path = (fs::path(dir) / "tokenizer_config.json").string();
  with_context(config_path, [&] {
    const io::Json config = io::read_json(config_path);
    const io::Json& added = io::require_field(config, "added_tokens_decoder", config_path);
    std::set<size_t> lengths;
    for (const auto& [key, value] : added.items()) {
      // An id is a non-negative decimal integer (a negative or huge one would index outside the vocabulary).
      if (key.empty() || key.size() > 9 || key.find_first_not_of("0123456789") != std::string::npos)
        throw InputError(config_path + ": added_tokens_decoder: '" + key +
                         "' is not a token id (0 to 999999999)");
      const int64_t id = std::stoll(key);
      const std::string content = io::require_string(value, "content", "added token " + key);
      if (content.empty()) throw InputError("added token " + key + " is empty");
      if (m.ranks.count(content) && m.ranks.at(content) != id)
        throw InputError("added token " + io::Json(content).dump() + " has another id in tokenizer.model");
      m.added[content] = id;
      m.bytes_of[id] = content;
      m.vocab = std::max(m.vocab, id + 1);
      lengths.insert(content.size());
      m.added_first.insert(content[0]);
    }
    m.added_lengths.assign(lengths.rbegin(), lengths.rend());
    for (const char* required : {"[gMASK]", "<sop>"})
      if (!m.added.count(required)) throw InputError(std::string("no added token ") + required);
  });
  while (m.added.count("<|audio_" + std::to_string(m.audio_codes) + "|>")) ++m.audio_codes;

  int error = 0;
  PCRE2_SIZE error_offset = 0;
  m.regex = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern()), PCRE2_ZERO_TERMINATED,
                          PCRE2_UTF | PCRE2_UCP, &error, &error_offset, nullptr);
  if (!m.regex) throw RuntimeError(fmt::format("GLM tokenizer: pattern does not compile (error {})", error));
  return tok;
}

std::vector<int64_t> GlmTokenizer::encode(const std::string& text) const {
  const Impl& m = *impl_;
  std::vector<int64_t> ids;
  size_t plain_start = 0, i = 0;
  while (i < text.size()) {
    bool matched = false;
    if (m.added_first.count(text[i])) {
      for (size_t len : m.added_lengths) {  // longest added token first, as transformers' trie does
        if (i + len > text.size()) continue;
        const auto it = m.added.find(text.substr(i, len));
        if (it == m.added.end()) continue;
        if (i > plain_start) m.encode_plain(text.substr(plain_start, i - plain_start), ids);
        ids.push_back(it->second);
        i = plain_start = i + len;
        matched = true;
        break;
      }
    }
    if (!matched) ++i;
  }
  if (text.size() > plain_start) m.encode_plain(text.substr(plain_start), ids);
  return ids;
}

std::string GlmTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string out;
  for (size_t i = 0; i < ids.size(); ++i) {
    const auto it = impl_->bytes_of.find(ids[i]);
    if (it == impl_->bytes_of.end())
      throw InputError(fmt::format("GLM tokenizer: id {} at position {} is not a token", ids[i], i));
    out += it->second;
  }
  return out;
}

int64_t GlmTokenizer::special_id(const std::string& token) const {
  const auto it = impl_->added.find(token);
  if (it == impl_->added.end()) throw InputError("GLM tokenizer: no added token " + io::Json(token).dump());
  return it->second;
}

int64_t GlmTokenizer::audio_id(int64_t code) const {
  if (code < 0 || code >= impl_->audio_codes)
    throw InputError(fmt::format("GLM tokenizer: audio code {} outside [0, {})", code, impl_->audio_codes));
  return impl_->added.at("<|audio_" + std::to_string(code) + "|>");
}

std::vector<int64_t> GlmTokenizer::prefix_ids() const {
  return {special_id("[gMASK]"), special_id("<sop>")};
}
int64_t GlmTokenizer::vocab_size() const {
  return impl_->vocab;
}
int64_t GlmTokenizer::audio_codes() const {
  return impl_->audio_codes;
}

}  // namespace symp::text
