#pragma once
// What the sequence builder needs of a text tokenizer: text to ids and back with special tokens and
// `<|audio_N|>` tags as single ids, and the ids every prompt starts with. Implemented by the embedded
// model's SentencePiece tokenizer (symp/text/sentencepiece.h) and GLM-4's (symp/text/glm_tokenizer.h).
#include <cstdint>
#include <string>
#include <vector>

namespace symp::text {

class ChatTokenizer {
 public:
  virtual ~ChatTokenizer() = default;
  // Text -> ids; special tokens and audio tags in the text become their single ids.
  virtual std::vector<int64_t> encode(const std::string& text) const = 0;
  virtual std::string decode(const std::vector<int64_t>& ids) const = 0;
  // Id of a special token such as "<|assistant|>"; InputError when the tokenizer has none.
  virtual int64_t special_id(const std::string& token) const = 0;
  // Id of audio code `code` (`<|audio_N|>`); InputError outside the tokenizer's audio range.
  virtual int64_t audio_id(int64_t code) const = 0;
  // Ids put before every sequence (GLM-4: [gMASK]<sop>; the embedded tokenizer: none).
  virtual std::vector<int64_t> prefix_ids() const = 0;
  // Total ids (text, specials and audio).
  virtual int64_t vocab_size() const = 0;
};

}  // namespace symp::text
