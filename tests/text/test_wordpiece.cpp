#include <catch2/catch.hpp>

#include "symp/io/jsonl.h"
#include "symp/text/wordpiece.h"

using symp::text::WordPieceTokenizer;

namespace {
void check_fixture(const std::string& dir, const std::string& expected_json) {
  auto tok = WordPieceTokenizer::from_model_dir(dir);
  auto expected = symp::io::read_json(expected_json);
  const auto& sentences = expected.at("sentences");
  REQUIRE(sentences.size() == expected.at("input_ids").size());
  for (size_t i = 0; i < sentences.size(); ++i) {
    INFO(sentences[i].get<std::string>());
    CHECK(tok.encode(sentences[i].get<std::string>()) ==
          expected["input_ids"][i].get<std::vector<int64_t>>());
  }
}
}  // namespace

TEST_CASE("text: WordPiece ids equal BertTokenizer's on the fixtures", "[text]") {
  const std::string fixtures = SYMP_SHARED_DIR "/fixtures";
  check_fixture(fixtures + "/bert", fixtures + "/bert_tokens.json");
  check_fixture(fixtures + "/distilbert", fixtures + "/distilbert/expected.json");
}

TEST_CASE("text: WordPiece basic tokenizer rules", "[text]") {
  auto tok = WordPieceTokenizer::load(SYMP_SHARED_DIR "/fixtures/bert/vocab.txt");
  // Accents stripped, case folded, punctuation split, control characters dropped, CJK spaced.
  CHECK(tok.basic_tokenize("Caf\xC3\xA9\x01 \xC3\x89T\xC3\x89!") ==
        std::vector<std::string>{"cafe", "ete", "!"});
  CHECK(tok.basic_tokenize("a\xE4\xB8\xAD"
                           "b") == std::vector<std::string>{"a", "\xE4\xB8\xAD", "b"});
  CHECK(tok.basic_tokenize("don't") == std::vector<std::string>{"don", "'", "t"});
  CHECK(tok.tokenize("unbelievable homeworks") ==
        std::vector<std::string>{"un", "##believ", "##able", "home", "##work", "##s"});
  // A word with an unmatched remainder is one [UNK]; so is a word over 100 characters.
  CHECK(tok.tokenize("homez") == std::vector<std::string>{"[UNK]"});
  CHECK(tok.tokenize(std::string(101, 'a')) == std::vector<std::string>{"[UNK]"});
  CHECK(tok.encode("") == std::vector<int64_t>{2, 3});
}

TEST_CASE("text: WordPiece truncates to max_length", "[text]") {
  symp::text::WordPieceOptions options;
  options.max_length = 4;
  auto tok = WordPieceTokenizer::load(SYMP_SHARED_DIR "/fixtures/bert/vocab.txt", options);
  CHECK(tok.encode("i feel so tired today") == std::vector<int64_t>{2, 10, 11, 3});
}
