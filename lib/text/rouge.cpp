#include "symp/text/rouge.h"

#include <algorithm>

#include "symp/text/porter.h"

namespace symp::text {

std::vector<std::string> rouge_tokenize(const std::string& text, bool stem) {
  std::vector<std::string> tokens;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    // rouge-score stems only words longer than 3 characters.
    tokens.push_back(stem && word.size() > 3 ? porter_stem(word) : word);
    word.clear();
  };
  for (unsigned char c : text) {
    if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      word.push_back(static_cast<char>(c));
    } else {
      flush();
    }
  }
  flush();
  // rouge-score drops tokens that are not [a-z0-9]+ after stemming; the stemmer never produces such.
  tokens.erase(std::remove(tokens.begin(), tokens.end(), std::string()), tokens.end());
  return tokens;
}

size_t lcs_length(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  // One row of the dynamic-programming table at a time: O(|a||b|) time, O(|b|) memory.
  std::vector<size_t> prev(b.size() + 1, 0), cur(b.size() + 1, 0);
  for (size_t i = 1; i <= a.size(); ++i) {
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = a[i - 1] == b[j - 1] ? prev[j - 1] + 1 : std::max(prev[j], cur[j - 1]);
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

RougeScore rouge_l_tokens(const std::vector<std::string>& target,
                          const std::vector<std::string>& prediction) {
  RougeScore score;
  if (target.empty() || prediction.empty()) return score;
  double lcs = static_cast<double>(lcs_length(target, prediction));
  score.precision = lcs / static_cast<double>(prediction.size());
  score.recall = lcs / static_cast<double>(target.size());
  double sum = score.precision + score.recall;
  score.fmeasure = sum > 0.0 ? 2.0 * score.precision * score.recall / sum : 0.0;
  return score;
}

RougeScore rouge_l(const std::string& target, const std::string& prediction, bool stem) {
  return rouge_l_tokens(rouge_tokenize(target, stem), rouge_tokenize(prediction, stem));
}

}  // namespace symp::text
