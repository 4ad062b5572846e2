// GLM-4's tokenizer on a small tokenizer.model / tokenizer_config.json pair written by the test, with
// hand-checked ids: whole-token pieces, rank-ordered merges, the pre-tokenisation regex (contractions,
// digits in threes, spaces, newlines, non-ASCII letters), added tokens and the [gMASK]<sop> prefix.
#include "../test_util.h"
#include "symp/core/error.h"
#include "symp/io/jsonl.h"
#include "symp/text/glm_tokenizer.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;
using namespace symp;
using Ids = std::vector<int64_t>;

namespace {

using symp::test::base64;

// Bytes are ranks 0-255 (rank = byte value); merges from 256; added tokens from 300.
fs::path write_tokenizer() {
  const fs::path dir = fs::temp_directory_path() / "symp_test_glm_tokenizer";
  fs::create_directories(dir);
  std::ofstream model(dir / "tokenizer.model");
  for (int b = 0; b < 256; ++b) model << base64(std::string(1, char(b))) << " " << b << "\n";
  const std::vector<std::string> merges = {"th",    "the",      " t", " the", "he",          "ll", "hell",
                                           "hello", "\xC3\xA9", "ca", "caf",  "caf\xC3\xA9", "12"};
  for (size_t i = 0; i < merges.size(); ++i) model << base64(merges[i]) << " " << 256 + i << "\n";
  model.close();
  io::Json added = io::Json::object();
  const std::vector<std::string> specials = {
      "[gMASK]",          "<sop>",       "<|system|>",  "<|user|>",   "<|assistant|>", "<|begin_of_audio|>",
      "<|end_of_audio|>", "<|audio_0|>", "<|audio_1|>", "<|audio_2|>"};
  for (size_t i = 0; i < specials.size(); ++i)
    added[std::to_string(300 + i)] = {{"content", specials[i]}, {"special", true}, {"lstrip", false}};
  io::write_json_atomic((dir / "tokenizer_config.json").string(), {{"added_tokens_decoder", added}});
  return dir;
}

}  // namespace

TEST_CASE("text: GLM-4 tokenizer gives the hand-checked ids and round-trips") {
  const auto tok = text::GlmTokenizer::load(write_tokenizer().string());
  CHECK(tok.prefix_ids() == Ids{300, 301});
  CHECK(tok.vocab_size() == 310);
  CHECK(tok.audio_codes() == 3);
  CHECK(tok.audio_id(2) == 309);
  CHECK(tok.special_id("<|assistant|>") == 304);

  CHECK(tok.encode("hello") == Ids{263});            // a whole piece that is a token
  CHECK(tok.encode("hellohello") == Ids{263, 263});  // he, ll, hell, hello merged by rank
  CHECK(tok.encode("the") == Ids{257});
  CHECK(tok.encode("hello the world") == Ids{263, 259, ' ', 'w', 'o', 'r', 'l', 'd'});
  CHECK(tok.encode("caf\xC3\xA9") == Ids{267});  // \p{L} takes the accented letter into the word
  CHECK(tok.encode("na\xC3\xAFve") == Ids{'n', 'a', 0xC3, 0xAF, 'v', 'e'});
  CHECK(tok.encode("12345") == Ids{268, '3', '4', '5'});  // digits in groups of three: "123", "45"
  CHECK(tok.encode("it's") == Ids{'i', 't', '\'', 's'});
  CHECK(tok.encode("IT'S") == Ids{'I', 'T', '\'', 'S'});
  CHECK(tok.encode("a  \n\nb") == Ids{'a', ' ', ' ', '\n', '\n', 'b'});
  CHECK(tok.encode("<|user|>\nhello<|audio_1|><|audio_2|><|user|>") == Ids{303, '\n', 263, 308, 309, 303});
  CHECK(tok.encode("[gMASK]<sop><|system|>\nthe") == Ids{300, 301, 302, '\n', 257});
  CHECK(tok.encode("<|audio_3|>") == Ids{'<', '|', 'a', 'u', 'd', 'i', 'o', '_', '3', '|', '>'});

  for (const std::string s :
       {"hello the world", "caf\xC3\xA9 \xE2\x80\x94 \xF0\x9F\x98\x8A \xE4\xBD\xA0\xE5\xA5\xBD!",
        "<|system|>\nUser emotion (valence=0.85, arousal=0.35)\n<|assistant|>\n12345 it's",
        "  spaces   and\ttabs\r\n"}) {
    CHECK(tok.decode(tok.encode(s)) == s);
  }
  CHECK_THROWS_AS(tok.special_id("<|observation|>"), Error);
  CHECK_THROWS_AS(tok.audio_id(3), Error);
  CHECK_THROWS_AS(tok.decode({310}), Error);
  CHECK_THROWS_AS(tok.encode("bad \xFF utf-8"), Error);
}

TEST_CASE("text: GLM-4 tokenizer names the bad line of a malformed tokenizer.model") {
  const fs::path dir = fs::temp_directory_path() / "symp_test_glm_tokenizer_bad";
  fs::create_directories(dir);
  std::ofstream(dir / "tokenizer.model") << base64("a") << " 0\nnot-base64! 1\n";
  try {
    text::GlmTokenizer::load(dir.string());
    FAIL("loaded a malformed tokenizer.model");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Input);
    CHECK_THAT(e.what(), Catch::Contains("tokenizer.model:2"));
  }
}
