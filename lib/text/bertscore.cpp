#include "symp/text/bertscore.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "symp/core/error.h"

namespace symp::text {
namespace {

std::vector<std::vector<double>> normalised(const TokenVectors& t) {
  std::vector<std::vector<double>> out;
  out.reserve(t.vectors.size());
  for (const auto& v : t.vectors) {
    double norm = 0.0;
    for (float x : v) norm += static_cast<double>(x) * x;
    norm = std::sqrt(norm);
    std::vector<double> row(v.size());
    for (size_t i = 0; i < v.size(); ++i) row[i] = norm > 0 ? v[i] / norm : 0.0;
    out.push_back(std::move(row));
  }
  return out;
}

bool is_special(int64_t id, const std::vector<int64_t>& special) {
  return std::find(special.begin(), special.end(), id) != special.end();
}

// Mean over the non-special tokens of `side` of each one's best cosine against the non-special tokens
// of `other`.
double greedy_side(const std::vector<std::vector<double>>& side, const std::vector<int64_t>& side_ids,
                   const std::vector<std::vector<double>>& other, const std::vector<int64_t>& other_ids,
                   const std::vector<int64_t>& special) {
  double total = 0.0, weight = 0.0;
  for (size_t i = 0; i < side.size(); ++i) {
    if (is_special(side_ids[i], special)) continue;
    double best = -std::numeric_limits<double>::infinity();
    for (size_t j = 0; j < other.size(); ++j) {
      if (is_special(other_ids[j], special)) continue;
      double dot = 0.0;
      for (size_t k = 0; k < other[j].size(); ++k) dot += side[i][k] * other[j][k];
      best = std::max(best, dot);
    }
    total += best;
    weight += 1.0;
  }
  return weight > 0 ? total / weight : 0.0;
}

}  // namespace

BertScore bert_score(const TokenVectors& candidate, const TokenVectors& reference,
                     const std::vector<int64_t>& special_ids) {
  if (candidate.ids.size() != candidate.vectors.size() || reference.ids.size() != reference.vectors.size()) {
    throw RuntimeError("bert_score: token ids and vectors differ in count");
  }
  auto cand = normalised(candidate), ref = normalised(reference);
  auto weighted = [&](const std::vector<int64_t>& ids) {
    return std::any_of(ids.begin(), ids.end(), [&](int64_t id) {
      return std::find(special_ids.begin(), special_ids.end(), id) == special_ids.end();
    });
  };
  BertScore s;
  if (!weighted(candidate.ids) || !weighted(reference.ids)) return s;
  s.precision = greedy_side(cand, candidate.ids, ref, reference.ids, special_ids);
  s.recall = greedy_side(ref, reference.ids, cand, candidate.ids, special_ids);
  double sum = s.precision + s.recall;
  s.f1 = sum != 0.0 ? 2.0 * s.precision * s.recall / sum : 0.0;
  return s;
}

std::vector<BertScore> bert_score(TokenEncoder& encoder, const std::vector<std::string>& candidates,
                                  const std::vector<std::string>& references) {
  if (candidates.size() != references.size()) {
    throw InputError("bert_score: " + std::to_string(candidates.size()) + " candidates but " +
                     std::to_string(references.size()) + " references");
  }
  std::map<std::string, size_t> index;
  std::vector<std::string> unique;
  for (const auto* list : {&candidates, &references}) {
    for (const auto& t : *list) {
      if (index.emplace(t, unique.size()).second) unique.push_back(t);
    }
  }
  auto encoded = encoder.encode_tokens(unique);
  if (encoded.size() != unique.size()) throw RuntimeError("bert_score: the encoder returned the wrong count");
  auto special = encoder.special_ids();
  std::vector<BertScore> out;
  out.reserve(candidates.size());
  for (size_t k = 0; k < candidates.size(); ++k) {
    out.push_back(bert_score(encoded[index[candidates[k]]], encoded[index[references[k]]], special));
  }
  return out;
}

}  // namespace symp::text
