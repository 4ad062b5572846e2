#pragma once
// Word error rate with jiwer's conventions: words are whitespace-separated (jiwer's default transform:
// collapse spaces, strip, split; no case folding), each pair is aligned by Levenshtein distance, and the
// corpus WER is (S + D + I) / N summed over all pairs, N = reference words (not a mean of per-pair rates).
#include <string>
#include <vector>

namespace symp::text {

struct WerCounts {
  size_t hits = 0;
  size_t substitutions = 0;
  size_t deletions = 0;
  size_t insertions = 0;
  size_t reference_words = 0;
  double wer() const;  // (S + D + I) / N; 0 when N is 0 and there is no insertion
};

std::vector<std::string> split_words(const std::string& text);

// One aligned pair; an empty reference is allowed here (every hypothesis word is an insertion).
WerCounts align_words(const std::vector<std::string>& reference, const std::vector<std::string>& hypothesis);

// Corpus-level counts. InputError when the sizes differ or a reference has no word (jiwer refuses those).
WerCounts word_error_rate(const std::vector<std::string>& references,
                          const std::vector<std::string>& hypotheses);

// The reference code's normalisation before WER: lower-case (ASCII), drop ASCII punctuation ("don't" ->
// "dont"), collapse whitespace to single spaces.
std::string normalize_for_wer(const std::string& text);

}  // namespace symp::text
