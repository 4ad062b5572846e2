#include "symp/text/wer.h"

#include <algorithm>
#include <cctype>

#include "symp/core/error.h"

namespace symp::text {

double WerCounts::wer() const {
  size_t errors = substitutions + deletions + insertions;
  if (reference_words == 0) return errors == 0 ? 0.0 : static_cast<double>(errors);
  return static_cast<double>(errors) / static_cast<double>(reference_words);
}

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  for (char c : text) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!word.empty()) words.push_back(std::move(word));
      word.clear();
    } else {
      word.push_back(c);
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  return words;
}

WerCounts align_words(const std::vector<std::string>& ref, const std::vector<std::string>& hyp) {
  const size_t n = ref.size(), m = hyp.size();
  // Full table, then a backtrace that prefers a match/substitution, then deletion, then insertion.
  std::vector<std::vector<size_t>> d(n + 1, std::vector<size_t>(m + 1, 0));
  for (size_t i = 0; i <= n; ++i) d[i][0] = i;
  for (size_t j = 0; j <= m; ++j) d[0][j] = j;
  for (size_t i = 1; i <= n; ++i) {
    for (size_t j = 1; j <= m; ++j) {
      size_t diag = d[i - 1][j - 1] + (ref[i - 1] == hyp[j - 1] ? 0 : 1);
      d[i][j] = std::min({diag, d[i - 1][j] + 1, d[i][j - 1] + 1});
    }
  }
  WerCounts counts;
  counts.reference_words = n;
  size_t i = n, j = m;
  while (i > 0 || j > 0) {
    if (i > 0 && j > 0 && d[i][j] == d[i - 1][j - 1] + (ref[i - 1] == hyp[j - 1] ? 0 : 1)) {
      (ref[i - 1] == hyp[j - 1] ? counts.hits : counts.substitutions)++;
      --i;
      --j;
    } else if (i > 0 && d[i][j] == d[i - 1][j] + 1) {
      ++counts.deletions;
      --i;
    } else {
      ++counts.insertions;
      --j;
    }
  }
  return counts;
}

WerCounts word_error_rate(const std::vector<std::string>& references,
                          const std::vector<std::string>& hypotheses) {
  if (references.size() != hypotheses.size()) {
    throw InputError("word_error_rate: " + std::to_string(references.size()) + " references but " +
                     std::to_string(hypotheses.size()) + " hypotheses");
  }
  WerCounts total;
  for (size_t k = 0; k < references.size(); ++k) {
    auto ref = split_words(references[k]);
    if (ref.empty()) throw InputError("word_error_rate: reference " + std::to_string(k) + " has no word");
    WerCounts c = align_words(ref, split_words(hypotheses[k]));
    total.hits += c.hits;
    total.substitutions += c.substitutions;
    total.deletions += c.deletions;
    total.insertions += c.insertions;
    total.reference_words += c.reference_words;
  }
  return total;
}

std::string normalize_for_wer(const std::string& text) {
  std::string out;
  bool space = false;
  for (unsigned char c : text) {
    if (std::isspace(c)) {
      space = true;
      continue;
    }
    if (c < 128 && std::ispunct(c)) continue;  // "don't" -> "dont", "well," -> "well"
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(static_cast<char>(std::tolower(c)));
  }
  return out;
}

}  // namespace symp::text
