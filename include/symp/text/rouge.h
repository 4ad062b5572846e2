#pragma once
// ROUGE-L as Google's rouge-score computes it (rouge_scorer.RougeScorer(["rougeL"], use_stemmer)):
// lower-case, every run of characters outside [a-z0-9] becomes a space, tokens are the remaining
// [a-z0-9]+ words, and with stemming, words longer than 3 letters go through the Porter stemmer (porter.h).
// ROUGE-L is the longest common subsequence of tokens: P = LCS/|prediction|, R = LCS/|target|, F = 2PR/(P+R).
#include <string>
#include <vector>

namespace symp::text {

// rouge-score's tokenizer. Non-ASCII characters separate words (Python lower-cases Unicode first, so a
// few letters such as the Kelvin sign would become "k" there; they vanish here).
std::vector<std::string> rouge_tokenize(const std::string& text, bool stem);

struct RougeScore {
  double precision = 0.0;
  double recall = 0.0;
  double fmeasure = 0.0;
};

// Length of the longest common subsequence of two token lists.
size_t lcs_length(const std::vector<std::string>& a, const std::vector<std::string>& b);

// rouge-score's order of arguments: score(target, prediction). All zero when either side has no token.
RougeScore rouge_l(const std::string& target, const std::string& prediction, bool stem = true);
RougeScore rouge_l_tokens(const std::vector<std::string>& target, const std::vector<std::string>& prediction);

}  // namespace symp::text
