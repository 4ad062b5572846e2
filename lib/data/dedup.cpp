// Hashed n-gram embedder and greedy near-duplicate clustering.
#include "symp/data/dedup.h"

#include <fmt/format.h>

#include <cctype>
#include <cmath>

#include "symp/core/error.h"
#include "symp/core/rng.h"

namespace symp::data {
namespace {

std::vector<std::string> words_of(const std::string& text) {
  std::vector<std::string> words;
  std::string cur;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '\'') {
      cur += static_cast<char>(std::tolower(c));
    } else if (!cur.empty()) {
      words.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) words.push_back(cur);
  return words;
}

}  // namespace

HashedNgramEmbedder::HashedNgramEmbedder(int dim) : dim_(dim) {
  if (dim < 16) throw UsageError(fmt::format("hashed embedder: dim {} is too small (at least 16)", dim));
}

std::vector<float> HashedNgramEmbedder::embed_one(const std::string& text) const {
  std::vector<float> v(static_cast<size_t>(dim_), 0.0f);
  auto add = [&](const std::string& feature, uint64_t kind, float weight) {
    const uint64_t h =
        stable_hash(feature.data(), feature.size(), 1469598103934665603ULL ^ (kind * 0x9E3779B97F4A7C15ULL));
    const float sign = (h >> 63) ? -1.0f : 1.0f;
    v[static_cast<size_t>(h % static_cast<uint64_t>(dim_))] += sign * weight;
  };
  const auto words = words_of(text);
  for (size_t i = 0; i < words.size(); ++i) {
    add(words[i], 1, 1.0f);
    if (i + 1 < words.size()) add(words[i] + ' ' + words[i + 1], 2, 1.0f);
    const std::string padded = ' ' + words[i] + ' ';
    for (size_t k = 0; k + 3 <= padded.size(); ++k) add(padded.substr(k, 3), 3, 0.5f);
  }
  double norm = 0.0;
  for (float x : v) norm += double(x) * x;
  if (norm > 0.0) {
    const float inv = static_cast<float>(1.0 / std::sqrt(norm));
    for (float& x : v) x *= inv;
  }
  return v;
}

std::vector<std::vector<float>> HashedNgramEmbedder::embed(const std::vector<std::string>& texts) {
  std::vector<std::vector<float>> out;
  out.reserve(texts.size());
  for (const auto& t : texts) out.push_back(embed_one(t));
  return out;
}

std::string HashedNgramEmbedder::describe() const {
  return fmt::format(
      "hashed n-grams (word 1-2 grams + char 3-grams, signed FNV-1a hashing to {} dims, TF, L2-normalised; a "
      "lexical proxy for all-MiniLM-L6-v2)",
      dim_);
}

NearDuplicateFilter::NearDuplicateFilter(int dim, double threshold)
    : dim_(dim), threshold_(threshold), ids_(static_cast<size_t>(dim)), values_(static_cast<size_t>(dim)) {
  if (!(threshold > 0.0 && threshold <= 1.0))
    throw UsageError(fmt::format("dedup threshold {} must lie in (0, 1]", threshold));
}

int64_t NearDuplicateFilter::offer(const std::vector<float>& v) {
  if (static_cast<int>(v.size()) != dim_)
    throw RuntimeError(fmt::format("dedup: vector of {} dims, expected {}", v.size(), dim_));
  // Similarity to every kept item through the inverted index: only dimensions where v is non-zero.
  std::fill(scores_.begin(), scores_.end(), 0.0f);
  for (size_t d = 0; d < v.size(); ++d) {
    const float x = v[d];
    if (x == 0.0f) continue;
    const auto& ids = ids_[d];
    const auto& vals = values_[d];
    float* scores = scores_.data();
    for (size_t k = 0; k < ids.size(); ++k) scores[ids[k]] += x * vals[k];
  }
  int64_t best = -1;
  float best_score = 0.0f;
  for (size_t k = 0; k < scores_.size(); ++k)
    if (scores_[k] > best_score) {
      best_score = scores_[k];
      best = static_cast<int64_t>(k);
    }
  last_similarity_ = best_score;
  // 1e-6: float accumulation error, so that a threshold of 1 still catches exact copies.
  if (best >= 0 && best_score >= threshold_ - 1e-6) return best;
  const auto id = static_cast<int32_t>(kept_++);
  for (size_t d = 0; d < v.size(); ++d)
    if (v[d] != 0.0f) {
      ids_[d].push_back(id);
      values_[d].push_back(v[d]);
    }
  scores_.push_back(0.0f);
  return -1;
}

}  // namespace symp::data
