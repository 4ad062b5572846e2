#pragma once
// Near-duplicate filtering of generated queries (PAPER.md section 3: cosine >= 0.85 of sentence
// embeddings counts as a duplicate), with the embedded default embedder that needs no download.
#include <cstdint>
#include <string>
#include <vector>

#include "symp/text/embedder.h"

namespace symp::data {

// Hashed bag of n-grams: lower-cased word unigrams and bigrams plus character 3-grams inside words
// (padded with spaces), each feature hashed (FNV-1a) to one of `dim` buckets with a hash-derived sign,
// term frequencies with the character n-grams weighted 0.5, L2-normalised. It is a lexical proxy for
// all-MiniLM-L6-v2: it catches reworded copies that share most words, but not paraphrases with
// different words; pass a MiniLM model directory to use the real encoder instead.
class HashedNgramEmbedder : public text::Embedder {
 public:
  explicit HashedNgramEmbedder(int dim = 1024);
  std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) override;
  int dim() const override { return dim_; }
  std::string describe() const override;
  std::vector<float> embed_one(const std::string& text) const;

 private:
  int dim_;
};

// Greedy clustering at a cosine threshold: each vector offered either joins the cluster of the most
// similar kept vector (similarity >= threshold: a duplicate, dropped) or is kept and starts its own
// cluster. Vectors must be L2-normalised. Sparse vectors are cheap: the search runs over an inverted
// index of non-zero dimensions.
class NearDuplicateFilter {
 public:
  NearDuplicateFilter(int dim, double threshold);
  // Returns -1 when `v` is kept (it becomes kept item number kept()-1), else the index of the kept
  // item it duplicates.
  int64_t offer(const std::vector<float>& v);
  int64_t kept() const { return kept_; }
  // Highest similarity seen for the last offered vector (0 when nothing was kept before it).
  double last_similarity() const { return last_similarity_; }

 private:
  int dim_;
  double threshold_;
  int64_t kept_ = 0;
  double last_similarity_ = 0.0;
  std::vector<std::vector<int32_t>> ids_;   // per dimension: kept items with a non-zero value
  std::vector<std::vector<float>> values_;  // their values
  std::vector<float> scores_;
};

}  // namespace symp::data
