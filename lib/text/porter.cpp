#include "symp/text/porter.h"

#include <cctype>
#include <functional>
#include <map>
#include <vector>

// Follows the structure of NLTK's nltk/stem/porter.py (mode NLTK_EXTENSIONS): each step is a list of
// (suffix, replacement, condition) rules where the first rule whose suffix matches decides, whether or
// not its condition holds.
namespace symp::text {
namespace {

bool ends_with(const std::string& word, const std::string& suffix) {
  return word.size() >= suffix.size() &&
         word.compare(word.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string cut(const std::string& word, size_t n) {
  return word.substr(0, word.size() - n);
}

bool is_consonant(const std::string& word, size_t i) {
  char c = word[i];
  if (c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u') return false;
  if (c == 'y') return i == 0 ? true : !is_consonant(word, i - 1);
  return true;
}

// m in [C](VC)^m[V]: the number of vowel-consonant transitions.
int measure(const std::string& stem) {
  int m = 0;
  for (size_t i = 1; i < stem.size(); ++i) {
    if (!is_consonant(stem, i - 1) && is_consonant(stem, i)) ++m;
  }
  return m;
}

bool contains_vowel(const std::string& stem) {
  for (size_t i = 0; i < stem.size(); ++i) {
    if (!is_consonant(stem, i)) return true;
  }
  return false;
}

bool ends_double_consonant(const std::string& word) {
  size_t n = word.size();
  return n >= 2 && word[n - 1] == word[n - 2] && is_consonant(word, n - 1);
}

// *o: consonant-vowel-consonant with the last not w, x or y; NLTK also accepts a 2-letter vowel-consonant.
bool ends_cvc(const std::string& word) {
  size_t n = word.size();
  if (n >= 3 && is_consonant(word, n - 3) && !is_consonant(word, n - 2) && is_consonant(word, n - 1) &&
      word[n - 1] != 'w' && word[n - 1] != 'x' && word[n - 1] != 'y') {
    return true;
  }
  return n == 2 && !is_consonant(word, 0) && is_consonant(word, 1);
}

using Condition = std::function<bool(const std::string& stem)>;
struct Rule {
  std::string suffix;  // "*d" stands for any double consonant
  std::string replacement;
  Condition condition;  // empty: always
};

std::string apply_rules(const std::string& word, const std::vector<Rule>& rules) {
  for (const auto& rule : rules) {
    if (rule.suffix == "*d") {
      if (!ends_double_consonant(word)) continue;
      std::string stem = cut(word, 2);
      return !rule.condition || rule.condition(stem) ? stem + rule.replacement : word;
    }
    if (ends_with(word, rule.suffix)) {
      std::string stem = cut(word, rule.suffix.size());
      return !rule.condition || rule.condition(stem) ? stem + rule.replacement : word;
    }
  }
  return word;
}

bool positive_measure(const std::string& stem) {
  return measure(stem) > 0;
}

std::string step1a(const std::string& word) {
  if (ends_with(word, "ies") && word.size() == 4) return cut(word, 3) + "ie";
  return apply_rules(word, {{"sses", "ss", {}}, {"ies", "i", {}}, {"ss", "ss", {}}, {"s", "", {}}});
}

std::string step1b(const std::string& word) {
  if (ends_with(word, "ied")) return cut(word, 3) + (word.size() == 4 ? "ie" : "i");
  if (ends_with(word, "eed")) {
    std::string stem = cut(word, 3);
    return measure(stem) > 0 ? stem + "ee" : word;
  }
  std::string stem;
  bool removed = false;
  for (const char* suffix : {"ed", "ing"}) {
    if (ends_with(word, suffix)) {
      stem = cut(word, std::string(suffix).size());
      if (contains_vowel(stem)) {
        removed = true;
        break;
      }
    }
  }
  if (!removed) return word;
  char last = stem.back();
  return apply_rules(stem,
                     {{"at", "ate", {}},
                      {"bl", "ble", {}},
                      {"iz", "ize", {}},
                      {"*d", std::string(1, last),
                       [last](const std::string&) { return last != 'l' && last != 's' && last != 'z'; }},
                      {"", "e", [](const std::string& s) { return measure(s) == 1 && ends_cvc(s); }}});
}

std::string step1c(const std::string& word) {
  // NLTK: y -> i only after a consonant that is not the whole stem ("happy" -> "happi", "enjoy" stays).
  return apply_rules(
      word, {{"y", "i", [](const std::string& s) { return s.size() > 1 && is_consonant(s, s.size() - 1); }}});
}

std::string step2(const std::string& word) {
  // NLTK applies ALLI -> AL first and reruns the step on the result.
  if (ends_with(word, "alli") && positive_measure(cut(word, 4))) return step2(cut(word, 4) + "al");
  Condition m0 = positive_measure;
  std::vector<Rule> rules = {
      {"ational", "ate", m0},
      {"tional", "tion", m0},
      {"enci", "ence", m0},
      {"anci", "ance", m0},
      {"izer", "ize", m0},
      {"bli", "ble", m0},
      {"alli", "al", m0},
      {"entli", "ent", m0},
      {"eli", "e", m0},
      {"ousli", "ous", m0},
      {"ization", "ize", m0},
      {"ation", "ate", m0},
      {"ator", "ate", m0},
      {"alism", "al", m0},
      {"iveness", "ive", m0},
      {"fulness", "ful", m0},
      {"ousness", "ous", m0},
      {"aliti", "al", m0},
      {"iviti", "ive", m0},
      {"biliti", "ble", m0},
      {"fulli", "ful", m0},
      // The 'l' of "logi" stays with the stem, so that short stems like "geo" work.
      {"logi", "log", [&word](const std::string&) { return positive_measure(cut(word, 3)); }},
  };
  return apply_rules(word, rules);
}

std::string step3(const std::string& word) {
  Condition m0 = positive_measure;
  return apply_rules(word, {{"icate", "ic", m0},
                            {"ative", "", m0},
                            {"alize", "al", m0},
                            {"iciti", "ic", m0},
                            {"ical", "ic", m0},
                            {"ful", "", m0},
                            {"ness", "", m0}});
}

std::string step4(const std::string& word) {
  Condition m1 = [](const std::string& s) { return measure(s) > 1; };
  Condition ion = [](const std::string& s) {
    return measure(s) > 1 && !s.empty() && (s.back() == 's' || s.back() == 't');
  };
  return apply_rules(word, {{"al", "", m1},
                            {"ance", "", m1},
                            {"ence", "", m1},
                            {"er", "", m1},
                            {"ic", "", m1},
                            {"able", "", m1},
                            {"ible", "", m1},
                            {"ant", "", m1},
                            {"ement", "", m1},
                            {"ment", "", m1},
                            {"ent", "", m1},
                            {"ion", "", ion},
                            {"ou", "", m1},
                            {"ism", "", m1},
                            {"ate", "", m1},
                            {"iti", "", m1},
                            {"ous", "", m1},
                            {"ive", "", m1},
                            {"ize", "", m1}});
}

std::string step5a(const std::string& word) {
  // Both conditions are tried (Martin's examples need it), so no rule list here.
  if (ends_with(word, "e")) {
    std::string stem = cut(word, 1);
    int m = measure(stem);
    if (m > 1) return stem;
    if (m == 1 && !ends_cvc(stem)) return stem;
  }
  return word;
}

std::string step5b(const std::string& word) {
  return apply_rules(word, {{"ll", "l", [&word](const std::string&) { return measure(cut(word, 1)) > 1; }}});
}

const std::map<std::string, std::string>& irregular_forms() {
  static const std::map<std::string, std::string> pool = {
      {"sky", "sky"},        {"skies", "sky"},       {"dying", "die"},        {"lying", "lie"},
      {"tying", "tie"},      {"news", "news"},       {"innings", "inning"},   {"inning", "inning"},
      {"outings", "outing"}, {"outing", "outing"},   {"cannings", "canning"}, {"canning", "canning"},
      {"howe", "howe"},      {"proceed", "proceed"}, {"exceed", "exceed"},    {"succeed", "succeed"},
  };
  return pool;
}

}  // namespace

std::string porter_stem(const std::string& word) {
  std::string stem = word;
  for (auto& c : stem) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  // NLTK looks the un-lowered word up in the pool; for the lower-case input rouge-score gives, the same.
  const auto& pool = irregular_forms();
  if (auto it = pool.find(word); it != pool.end()) return it->second;
  if (word.size() <= 2) return stem;
  stem = step1a(stem);
  stem = step1b(stem);
  stem = step1c(stem);
  stem = step2(stem);
  stem = step3(stem);
  stem = step4(stem);
  stem = step5a(stem);
  stem = step5b(stem);
  return stem;
}

}  // namespace symp::text
