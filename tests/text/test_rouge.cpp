#include <catch2/catch.hpp>

#include "symp/text/porter.h"
#include "symp/text/rouge.h"

using symp::text::porter_stem;
using symp::text::rouge_l;
using symp::text::rouge_tokenize;

TEST_CASE("text: Porter stemmer gives NLTK's stems", "[text]") {
  // Martin Porter's vocabulary examples with NLTK_EXTENSIONS outputs (the mode rouge-score uses).
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"caresses", "caress"},
      {"ponies", "poni"},
      {"ties", "tie"},
      {"caress", "caress"},
      {"cats", "cat"},
      {"feed", "feed"},
      {"agreed", "agre"},
      {"plastered", "plaster"},
      {"bled", "bled"},
      {"motoring", "motor"},
      {"sing", "sing"},
      {"conflated", "conflat"},
      {"troubled", "troubl"},
      {"sized", "size"},
      {"hopping", "hop"},
      {"tanned", "tan"},
      {"falling", "fall"},
      {"hissing", "hiss"},
      {"fizzed", "fizz"},
      {"failing", "fail"},
      {"filing", "file"},
      {"happy", "happi"},
      {"sky", "sky"},
      {"relational", "relat"},
      {"conditional", "condit"},
      {"rational", "ration"},
      {"valenci", "valenc"},
      {"hesitanci", "hesit"},
      {"digitizer", "digit"},
      {"conformabli", "conform"},
      {"radicalli", "radic"},
      {"differentli", "differ"},
      {"vileli", "vile"},
      {"analogousli", "analog"},
      {"vietnamization", "vietnam"},
      {"predication", "predic"},
      {"operator", "oper"},
      {"feudalism", "feudal"},
      {"decisiveness", "decis"},
      {"hopefulness", "hope"},
      {"callousness", "callous"},
      {"formaliti", "formal"},
      {"sensitiviti", "sensit"},
      {"sensibiliti", "sensibl"},
      {"triplicate", "triplic"},
      {"formative", "form"},
      {"formalize", "formal"},
      {"electriciti", "electr"},
      {"electrical", "electr"},
      {"hopeful", "hope"},
      {"goodness", "good"},
      {"revival", "reviv"},
      {"allowance", "allow"},
      {"inference", "infer"},
      {"airliner", "airlin"},
      {"gyroscopic", "gyroscop"},
      {"adjustable", "adjust"},
      {"defensible", "defens"},
      {"irritant", "irrit"},
      {"replacement", "replac"},
      {"adjustment", "adjust"},
      {"dependent", "depend"},
      {"adoption", "adopt"},
      {"homologou", "homolog"},
      {"communism", "commun"},
      {"activate", "activ"},
      {"angulariti", "angular"},
      {"effective", "effect"},
      {"bowdlerize", "bowdler"},
      {"probate", "probat"},
      {"rate", "rate"},
      {"cease", "ceas"},
      {"controll", "control"},
      {"roll", "roll"},
      {"generalization", "gener"},
      {"dying", "die"},
      {"running", "run"},
      {"happiness", "happi"},
      {"flies", "fli"},
      {"dies", "die"},
      {"died", "die"},
      {"denied", "deni"},
      {"enjoy", "enjoy"},
      {"news", "news"},
      {"geology", "geolog"},
      {"is", "is"},
  };
  for (const auto& [word, stem] : cases) {
    INFO(word);
    CHECK(porter_stem(word) == stem);
  }
}

TEST_CASE("text: rouge-score tokenisation", "[text]") {
  CHECK(rouge_tokenize("Hello, WORLD! It's 2024...", false) ==
        std::vector<std::string>{"hello", "world", "it", "s", "2024"});
  // Non-ASCII characters separate words, as rouge-score's [^a-z0-9]+ replacement does.
  CHECK(rouge_tokenize("caf\xC3\xA9 time", false) == std::vector<std::string>{"caf", "time"});
  // Only words longer than 3 characters are stemmed ("runs" is, "ran" is not).
  CHECK(rouge_tokenize("The runs ran quickly", true) ==
        std::vector<std::string>{"the", "run", "ran", "quickli"});
  CHECK(rouge_tokenize(" \t ", true).empty());
}

TEST_CASE("text: ROUGE-L on hand-computed pairs", "[text]") {
  // LCS "the cat on the mat" = 5 of 6 tokens on both sides.
  auto s = rouge_l("the cat sat on the mat", "the cat is on the mat", false);
  CHECK(s.precision == Approx(5.0 / 6.0));
  CHECK(s.recall == Approx(5.0 / 6.0));
  CHECK(s.fmeasure == Approx(5.0 / 6.0));

  // Stems: target [the runner were run quickli], prediction [a runner run quick]: LCS 2, P 2/4, R 2/5.
  auto stemmed = rouge_l("The runners were running quickly.", "A runner runs quick", true);
  CHECK(stemmed.precision == Approx(0.5));
  CHECK(stemmed.recall == Approx(0.4));
  CHECK(stemmed.fmeasure == Approx(2 * 0.5 * 0.4 / 0.9));
  CHECK(rouge_l("The runners were running quickly.", "A runner runs quick", false).fmeasure == 0.0);

  // Order matters for P and R: target [a b c d], prediction [a c] -> LCS 2, P 1, R 0.5, F 2/3.
  auto asym = rouge_l("a b c d", "a c", false);
  CHECK(asym.precision == Approx(1.0));
  CHECK(asym.recall == Approx(0.5));
  CHECK(asym.fmeasure == Approx(2.0 / 3.0));
  CHECK(rouge_l("", "anything", true).fmeasure == 0.0);
  CHECK(rouge_l("Same words.", "same WORDS", true).fmeasure == Approx(1.0));
}
