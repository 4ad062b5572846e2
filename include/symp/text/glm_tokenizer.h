#pragma once
// GLM-4's text tokenizer as it ships with glm-4-voice-9b: `tokenizer.model` (tiktoken format: one
// "base64(token bytes) rank" per line), the added tokens of `tokenizer_config.json`
// ("added_tokens_decoder": {"151329": {"content": "<|endoftext|>", ...}, ...}) matched whole before
// anything else, GLM-4's pre-tokenisation regex (cl100k's, through PCRE2 with Unicode properties), and
// byte-level BPE merging by rank. Every prompt starts with [gMASK]<sop> (prefix_ids()). Special and
// audio ids are looked up by name, never hard-coded.
//
//   auto tok = symp::text::GlmTokenizer::load("glm-4-voice-9b");
//   std::vector<int64_t> ids = tok.prefix_ids();  // [gMASK]<sop>
//   auto body = tok.encode("<|user|>\nhello");
#include "symp/text/sequence_tokenizer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace symp::text {

class GlmTokenizer : public ChatTokenizer {
 public:
  // The pre-tokenisation pattern of GLM-4's tokenization_chatglm.py (the same as cl100k_base).
  static const char* pattern();

  // Reads <dir>/tokenizer.model and <dir>/tokenizer_config.json. InputError naming the file and line
  // for a malformed rank line, a duplicate rank, or a missing [gMASK]/<sop>.
  static GlmTokenizer load(const std::string& dir);

  GlmTokenizer(GlmTokenizer&&) noexcept;
  GlmTokenizer& operator=(GlmTokenizer&&) noexcept;
  ~GlmTokenizer() override;

  // Added tokens are split out first and map to their ids; the rest is pre-tokenised and BPE-merged.
  // No prefix is added. InputError for text that is not valid UTF-8.
  std::vector<int64_t> encode(const std::string& text) const override;
  // Bytes of every id joined; invalid UTF-8 left by a cut sequence is kept as is.
  std::string decode(const std::vector<int64_t>& ids) const override;
  // Id of an added token by its content; InputError naming it when absent.
  int64_t special_id(const std::string& token) const override;
  // Id of "<|audio_N|>"; InputError when the tokenizer has no such token.
  int64_t audio_id(int64_t code) const override;
  std::vector<int64_t> prefix_ids() const override;
  int64_t vocab_size() const override;
  // Number of `<|audio_N|>` added tokens (GLM-4-Voice: 16,384).
  int64_t audio_codes() const;

 private:
  GlmTokenizer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace symp::text
