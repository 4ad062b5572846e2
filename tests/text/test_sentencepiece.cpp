// The embedded model's SentencePiece tokenizer: special tokens as single ids, the audio range right
// after the text vocabulary, exact round trips (non-ASCII through byte fallback), clear errors.
#include "symp/core/error.h"
#include "symp/text/sentencepiece.h"

#include <catch2/catch.hpp>

#include "../test_util.h"

#include <algorithm>
#include <filesystem>
#include <set>

namespace fs = std::filesystem;
using namespace symp;

namespace {

const text::SpmTokenizer& trained() {
  static const text::SpmTokenizer tok = [] {
    static const symp::test::ScratchDir scratch(
        "sentencepiece");  // per process: ctest runs cases in parallel
    const fs::path dir = scratch.path() / "tokenizer";
    const std::vector<std::string> subjects = {"I", "You", "We", "My friend", "The team", "Everyone"};
    const std::vector<std::string> verbs = {"need help with",      "feel worried about", "are excited about",
                                            "keep thinking about", "want to plan",       "cannot finish"};
    const std::vector<std::string> objects = {"the trip",    "my exam",   "the garden", "dinner tonight",
                                              "the meeting", "a new job", "the weekend"};
    std::vector<std::string> texts;
    for (const auto& s : subjects)
      for (const auto& v : verbs)
        for (const auto& o : objects)
          texts.push_back(s + " " + v + " " + o + ". That sounds good, let's go!");
    text::SpmTrainOptions options;
    options.vocab_size = 400;
    options.threads = 1;
    text::SpmTokenizer::train(texts, 64, options, dir.string());
    return text::SpmTokenizer::load(dir.string());
  }();
  return tok;
}

}  // namespace

TEST_CASE("text: SentencePiece tokenizer keeps special tokens whole and audio after the text ids") {
  const auto& tok = trained();
  CHECK(tok.audio_offset() == tok.text_vocab_size());
  CHECK(tok.vocab_size() == tok.text_vocab_size() + 64);
  std::set<int64_t> special_ids;
  for (const auto& s : text::chat_special_tokens()) {
    const int64_t id = tok.special_id(s);
    CHECK(id < tok.text_vocab_size());
    special_ids.insert(id);
    CHECK(tok.encode(s) == std::vector<int64_t>{id});
  }
  CHECK(special_ids.size() == text::chat_special_tokens().size());

  const auto ids = tok.encode("<|user|>\n<|audio_0|><|audio_63|>We need help");
  REQUIRE(ids.size() > 4);
  CHECK(ids[0] == tok.special_id("<|user|>"));
  CHECK(ids[1] == tok.special_id("\n"));
  CHECK(ids[2] == tok.audio_offset());
  CHECK(ids[3] == tok.audio_offset() + 63);
  for (size_t i = 4; i < ids.size(); ++i) CHECK(ids[i] < tok.text_vocab_size());
  CHECK_THROWS_AS(tok.encode("<|audio_64|>"), Error);
  CHECK_THROWS_AS(tok.decode({tok.vocab_size()}), Error);
  CHECK_THROWS_AS(tok.special_id("<|nope|>"), Error);
}

TEST_CASE("text: SentencePiece tokenizer round-trips text exactly with non-ASCII included") {
  const auto& tok = trained();
  for (const std::string s :
       {"<|system|>\nPlease respond in English. User emotion (valence=-0.75, arousal=0.10)\n<|user|>\n",
        "We  want to plan   the trip.\n\nYou cannot finish?",
        "Caf\xC3\xA9 na\xC3\xAFve \xE2\x80\x94 \xF0\x9F\x98\x8A ok",
        "<|assistant|>\nThat sounds good!\n<|audio_5|><|audio_6|><|user|>", "a<|audio_x|>b<|audio_|>"}) {
    CHECK(tok.decode(tok.encode(s)) == s);
  }
}

TEST_CASE("text: the VA condition's values are one piece each, and the old digit pieces on request") {
  const auto& tok = trained();  // condition_pieces on (the default)
  const auto& pieces = text::condition_value_pieces();
  CHECK(pieces.size() == 202);
  CHECK(std::set<std::string>(pieces.begin(), pieces.end()).size() == 202);
  for (const char* v : {"-1.00", "-0.85", "-0.00", "0.00", "0.05", "0.35", "1.00"}) {
    INFO(v);
    CHECK(tok.encode(v).size() == 1);
  }
  const std::string prompt = "Please respond in English. User emotion (valence=0.85, arousal=-0.35)";
  const auto ids = tok.encode(prompt);
  CHECK(tok.decode(ids) == prompt);
  const auto v = tok.encode("0.85"), a = tok.encode("-0.35");
  CHECK(std::search(ids.begin(), ids.end(), v.begin(), v.end()) != ids.end());
  CHECK(std::search(ids.begin(), ids.end(), a.begin(), a.end()) != ids.end());
  CHECK(tok.encode("-0.35") != tok.encode("0.35"));

  // Without them SentencePiece splits the digits: "0.85" takes at least three pieces.
  symp::test::ScratchDir scratch("sentencepiece_digits");
  text::SpmTrainOptions options;
  options.vocab_size = 400;
  options.threads = 1;
  options.condition_pieces = false;
  text::SpmTokenizer::train({"User emotion (valence=0.85, arousal=-0.35) and more text here."}, 8, options,
                            (scratch.path() / "tok").string());
  const auto plain = text::SpmTokenizer::load((scratch.path() / "tok").string());
  CHECK(plain.encode("0.85").size() >= 3);
  CHECK(plain.decode(plain.encode(prompt)) == prompt);
}

TEST_CASE("text: SentencePiece tokenizer refuses a foreign tokenizer folder") {
  symp::test::ScratchDir dir("sentencepiece-foreign");
  CHECK_THROWS_AS(text::SpmTokenizer::load(dir.path().string()), Error);
}
