#pragma once
// BERT's WordPiece tokenizer, as transformers' BertTokenizer runs it: clean the text (drop control
// characters, whitespace to spaces), put spaces around CJK ideographs, split on whitespace, lower-case and
// strip accents (when lower-casing), split off every punctuation character, then greedy longest-match
// WordPiece against vocab.txt with "##" continuations; a word with an unmatched piece, or over 100
// characters, becomes [UNK].
//
//   auto tok = symp::text::WordPieceTokenizer::from_model_dir("all-MiniLM-L6-v2");
//   std::vector<int64_t> ids = tok.encode("How are you?");  // [CLS] how are you ? [SEP]
//
// Unicode: categories, case and accents come from built-in tables covering ASCII, Latin-1, Latin
// Extended-A, Greek, Cyrillic, general and CJK punctuation and the CJK ideograph blocks; outside them a
// character counts as a letter that has no case and no accent.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace symp::text {

struct WordPieceOptions {
  bool lower_case = true;           // do_lower_case; accents are stripped along with it, as BERT does
  size_t max_chars_per_word = 100;  // longer words become [UNK]
  size_t max_length = 512;          // encode() truncates to this many ids, [CLS] and [SEP] included
  void validate() const;
};

class WordPieceTokenizer {
 public:
  // Reads vocab.txt (one token per line; a token listed twice keeps its last line, as transformers does).
  static WordPieceTokenizer load(const std::string& vocab_path, const WordPieceOptions& options = {});
  // vocab.txt of a model folder, with do_lower_case and model_max_length from tokenizer_config.json
  // when that file is there (sentence-transformers' max_seq_length from sentence_bert_config.json wins).
  static WordPieceTokenizer from_model_dir(const std::string& dir);

  // The words before WordPiece (cleaned, lower-cased, punctuation split).
  std::vector<std::string> basic_tokenize(const std::string& text) const;
  // Word pieces ("unbelievable" -> "un", "##believ", "##able").
  std::vector<std::string> tokenize(const std::string& text) const;
  // [CLS] pieces [SEP] as ids, truncated to options().max_length.
  std::vector<int64_t> encode(const std::string& text) const;

  // InputError naming the vocabulary when the token is absent.
  int64_t token_id(const std::string& token) const;
  int64_t cls_id() const { return cls_id_; }
  int64_t sep_id() const { return sep_id_; }
  int64_t pad_id() const { return pad_id_; }
  int64_t unk_id() const { return unk_id_; }
  size_t vocab_size() const { return vocab_size_; }
  const WordPieceOptions& options() const { return options_; }

 private:
  std::unordered_map<std::string, int64_t> vocab_;
  size_t vocab_size_ = 0;
  std::string path_;
  WordPieceOptions options_;
  int64_t cls_id_ = -1, sep_id_ = -1, pad_id_ = -1, unk_id_ = -1;
};

}  // namespace symp::text
