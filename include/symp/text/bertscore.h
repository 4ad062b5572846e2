#pragma once
// BERTScore (Zhang et al. 2020) as the bert-score package computes it without idf and without baseline
// rescaling: contextual token vectors from one layer of a BERT-family encoder, cosine similarity, each
// candidate token matched greedily to its most similar reference token (precision) and each reference
// token to its most similar candidate token (recall), averaged over tokens, F = 2PR/(P+R). [CLS] and
// [SEP] take no part on either side (checked against bert-score's output on the DistilBERT fixture).
// No torch here: the encoder comes in through TokenEncoder (symp/nn/bert.h makes one).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace symp::text {

// One text's token vectors: ids (with [CLS]/[SEP]) and one row per id.
struct TokenVectors {
  std::vector<int64_t> ids;
  std::vector<std::vector<float>> vectors;
};

class TokenEncoder {
 public:
  virtual ~TokenEncoder() = default;
  virtual std::vector<TokenVectors> encode_tokens(const std::vector<std::string>& texts) = 0;
  // The ids left out of the matching ([CLS], [SEP]).
  virtual std::vector<int64_t> special_ids() const = 0;
  virtual std::string describe() const = 0;
};

struct BertScore {
  double precision = 0.0;
  double recall = 0.0;
  double f1 = 0.0;
};

// Greedy cosine matching of one candidate against one reference. A side with no weighted token (an
// empty text) scores 0, as bert-score does after its warning.
BertScore bert_score(const TokenVectors& candidate, const TokenVectors& reference,
                     const std::vector<int64_t>& special_ids);

// Scores candidate k against reference k for every k, encoding each distinct text once.
std::vector<BertScore> bert_score(TokenEncoder& encoder, const std::vector<std::string>& candidates,
                                  const std::vector<std::string>& references);

}  // namespace symp::text
