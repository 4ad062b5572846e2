#pragma once
// The embedded model's text tokenizer: a SentencePiece model trained on the corpus text, plus the chat
// special tokens of PAPER.md section 2 as single ids and the speech codec's codes as one contiguous id
// range after the text vocabulary (`<|audio_N|>` = audio_offset() + N).
//
//   symp::text::SpmTokenizer::train(texts, codec.vocab_size(), {}, "model/");
//   auto tok = symp::text::SpmTokenizer::load("model/");
//   std::vector<int64_t> ids = tok.encode("<|user|>\n<|audio_7|>hello");
//
// encode() splits special tokens and audio tags out of the text itself, so any string the sequence
// builder writes maps to ids and back (decode(encode(s)) == s for text SentencePiece can represent;
// byte fallback covers the rest). No torch here.
#include "symp/text/sequence_tokenizer.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace symp::text {

// The special tokens every symp tokenizer knows, each one id: GLM-4's chat roles and audio brackets,
// its prompt prefix, and the newline that separates the parts of a record.
const std::vector<std::string>& chat_special_tokens();
// "-0.00", "-1.00", "-0.99", ..., "1.00": the pieces of SpmTrainOptions::condition_pieces.
const std::vector<std::string>& condition_value_pieces();

struct SpmTrainOptions {
  int vocab_size = 4000;               // text pieces including specials and byte fallback (a soft limit)
  std::string model_type = "unigram";  // SentencePiece model: "unigram" or "bpe"
  double character_coverage = 1.0;     // share of characters covered by pieces; the rest go to bytes
  int max_sentences = 2000000;         // sentences sampled for training (SentencePiece's input_sentence_size)
  uint64_t seed = 42;                  // SentencePiece's sampling seed
  int threads = 2;                     // training threads
  // One piece per two-decimal value in [-1, 1] ("-1.00" ... "1.00", and "-0.00"), so the VA condition's
  // numbers are two ids instead of a digit conjunction; the prompt's text is unchanged. They come on top
  // of vocab_size.
  bool condition_pieces = true;
  void validate() const;  // UsageError naming the field
};

class SpmTokenizer : public ChatTokenizer {
 public:
  static constexpr const char* kConfigFile = "tokenizer.json";
  static constexpr const char* kModelFile = "text.model";
  static constexpr int kVersion = 1;

  // Trains on `texts` and writes <dir>/text.model and <dir>/tokenizer.json (text vocabulary size, audio
  // offset and code count). audio_codes: the codec's vocab_size().
  static void train(const std::vector<std::string>& texts, int64_t audio_codes,
                    const SpmTrainOptions& options, const std::string& dir);
  // InputError naming the file for a missing, foreign or inconsistent tokenizer.
  static SpmTokenizer load(const std::string& dir);

  SpmTokenizer(SpmTokenizer&&) noexcept;
  SpmTokenizer& operator=(SpmTokenizer&&) noexcept;
  ~SpmTokenizer() override;

  int64_t text_vocab_size() const { return text_vocab_size_; }
  int64_t audio_offset() const { return text_vocab_size_; }
  int64_t audio_codes() const { return audio_codes_; }
  int64_t vocab_size() const override { return text_vocab_size_ + audio_codes_; }
  // Id of a special token ("<|assistant|>", "\n", ...); InputError for an unknown one.
  int64_t special_id(const std::string& token) const override;
  int64_t audio_id(int64_t code) const override;  // InputError outside [0, audio_codes)
  std::vector<int64_t> prefix_ids() const override { return {}; }

  // InputError naming the tag for an `<|audio_N|>` with N outside the codec's range.
  std::vector<int64_t> encode(const std::string& text) const override;
  // InputError naming the first id outside [0, vocab_size()).
  std::string decode(const std::vector<int64_t>& ids) const override;

 private:
  SpmTokenizer();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int64_t text_vocab_size_ = 0;
  int64_t audio_codes_ = 0;
};

}  // namespace symp::text
