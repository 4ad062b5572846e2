#include <catch2/catch.hpp>

#include "symp/core/error.h"
#include "symp/text/wer.h"

using namespace symp::text;

TEST_CASE("text: WER on textbook cases", "[text]") {
  // jiwer's README example: one substitution in the first pair, one deletion in the second, N = 2 + 4.
  auto c = word_error_rate({"hello world", "i like monthy python"}, {"hello duck", "i like python"});
  CHECK(c.substitutions == 1);
  CHECK(c.deletions == 1);
  CHECK(c.insertions == 0);
  CHECK(c.reference_words == 6);
  CHECK(c.wer() == Approx(2.0 / 6.0));

  // Corpus level is (S+D+I)/N over all pairs, not the mean of the per-pair rates (0.5 and 0).
  auto corpus = word_error_rate({"a b", "c d e f g h"}, {"a", "c d e f g h"});
  CHECK(corpus.wer() == Approx(1.0 / 8.0));

  auto ins = align_words(split_words("the cat sat"), split_words("the big cat sat down"));
  CHECK(ins.insertions == 2);
  CHECK(ins.hits == 3);
  CHECK(ins.wer() == Approx(2.0 / 3.0));

  // All wrong and longer: WER can pass 1.
  CHECK(word_error_rate({"yes"}, {"no no no"}).wer() == Approx(3.0));
  // Case and punctuation count unless normalised first.
  CHECK(word_error_rate({"Hello world."}, {"hello world"}).wer() == Approx(1.0));
  CHECK(word_error_rate({normalize_for_wer("Hello,  world.")}, {normalize_for_wer("hello world")}).wer() ==
        0.0);
}

TEST_CASE("text: WER refuses empty references and mismatched lists", "[text]") {
  CHECK_THROWS_AS(word_error_rate({""}, {"a"}), symp::InputError);
  CHECK_THROWS_AS(word_error_rate({"a", "b"}, {"a"}), symp::InputError);
}
