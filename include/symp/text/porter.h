#pragma once
// The Porter stemmer as NLTK's PorterStemmer() runs it by default (mode NLTK_EXTENSIONS), which is what
// rouge-score uses for ROUGE with stemming: the original 1980 algorithm plus NLTK's irregular forms
// ("dying" -> "die"), the 1-2 letter short-cut, "ies"/"ied" on 4-letter words, and the step-2 changes.
#include <string>

namespace symp::text {

// Stems one lower-case ASCII word ("running" -> "run", "happiness" -> "happi"). Other input is
// lower-cased first (ASCII only) and then stemmed byte by byte.
std::string porter_stem(const std::string& word);

}  // namespace symp::text
