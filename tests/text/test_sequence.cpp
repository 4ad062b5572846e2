// Training sequences: the reference layout byte for byte, the prompt boundary, the interleaved layout,
// the seeded N/A share on a 1,200-record corpus, and errors that name the record.
#include "symp/core/error.h"
#include "symp/io/jsonl.h"
#include "symp/text/sequence.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace fs = std::filesystem;
using namespace symp;

namespace {

// Bytes are ids 0-255, the chat special tokens 256.., audio code N is 1000 + N.
class ByteTokenizer : public text::ChatTokenizer {
 public:
  ByteTokenizer() {
    for (const char* s : {"<|system|>", "<|user|>", "<|assistant|>"})
      specials_[s] = 256 + int64_t(specials_.size());
  }
  std::vector<int64_t> encode(const std::string& text) const override {
    std::vector<int64_t> ids;
    for (size_t i = 0; i < text.size();) {
      bool special = false;
      for (const auto& [s, id] : specials_)
        if (text.compare(i, s.size(), s) == 0) {
          ids.push_back(id);
          i += s.size();
          special = true;
          break;
        }
      if (special) continue;
      if (text.compare(i, 8, "<|audio_") == 0) {
        const size_t end = text.find("|>", i);
        ids.push_back(audio_id(std::stoll(text.substr(i + 8, end - i - 8))));
        i = end + 2;
        continue;
      }
      ids.push_back(static_cast<unsigned char>(text[i++]));
    }
    return ids;
  }
  std::string decode(const std::vector<int64_t>& ids) const override {
    std::string out;
    for (int64_t id : ids) {
      if (id >= 1000)
        out += "<|audio_" + std::to_string(id - 1000) + "|>";
      else if (id >= 256)
        for (const auto& [s, sid] : specials_) {
          if (sid == id) out += s;
        }
      else
        out += static_cast<char>(id);
    }
    return out;
  }
  int64_t special_id(const std::string& token) const override { return specials_.at(token); }
  int64_t audio_id(int64_t code) const override { return 1000 + code; }
  std::vector<int64_t> prefix_ids() const override { return {7, 8}; }
  int64_t vocab_size() const override { return 2000; }

 private:
  std::map<std::string, int64_t> specials_;
};

text::SequenceInput known_record() {
  text::SequenceInput r;
  r.id = "emo-happy-0001";
  r.condition = affect::VA{0.85, 0.35};
  r.query_codes = {12, 0, 4095};
  r.response_text = "That's wonderful news! Let's plan it.";
  r.response_codes = {7, 7, 301};
  return r;
}

}  // namespace

TEST_CASE("text: sequence of a known record equals the reference layout byte for byte") {
  const std::string expected =
      "<|system|>\nPlease respond in English. User emotion (valence=0.85, arousal=0.35)\n<|user|>\n"
      "<|audio_12|><|audio_0|><|audio_4095|>\n<|assistant|>\nThat's wonderful news! Let's plan it.\n"
      "<|audio_7|><|audio_7|><|audio_301|><|user|>";
  CHECK(text::reference_text(known_record()) == expected);

  auto na = known_record();
  na.condition.reset();
  const std::string expected_na =
      "<|system|>\nPlease respond in English. User emotion N/A\n<|user|>\n"
      "<|audio_12|><|audio_0|><|audio_4095|>\n<|assistant|>\nThat's wonderful news! Let's plan it.\n"
      "<|audio_7|><|audio_7|><|audio_301|><|user|>";
  CHECK(text::reference_text(na) == expected_na);

  ByteTokenizer tok;
  const auto seq = text::build_sequence(known_record(), tok, {});
  CHECK(seq.text == expected);
  REQUIRE(seq.input_ids.size() > 2);
  CHECK(seq.input_ids[0] == 7);
  CHECK(tok.decode(std::vector<int64_t>(seq.input_ids.begin() + 2, seq.input_ids.end())) == expected);
  // The prompt ends with "<|assistant|>\n": the first id after it starts the response text.
  REQUIRE(seq.assistant_start >= 2);
  CHECK(seq.input_ids[seq.assistant_start - 2] == tok.special_id("<|assistant|>"));
  CHECK(seq.input_ids[seq.assistant_start - 1] == '\n');
  CHECK(seq.input_ids[seq.assistant_start] == 'T');
  CHECK(seq.input_ids.back() == tok.special_id("<|user|>"));
}

TEST_CASE("text: interleaved layout alternates 13 text and 26 audio tokens") {
  ByteTokenizer tok;
  auto r = known_record();
  r.response_text = std::string(30, 'a');  // 30 text ids
  r.response_codes.assign(60, 5);          // 60 audio ids
  text::SequenceOptions options;
  options.layout = text::SequenceLayout::Interleaved;
  const auto seq = text::build_sequence(r, tok, options);
  std::string pattern;  // t = text id, a = audio id
  for (size_t i = seq.assistant_start; i + 1 < seq.input_ids.size(); ++i)
    pattern += seq.input_ids[i] >= 1000 ? 'a' : 't';
  CHECK(pattern == std::string(13, 't') + std::string(26, 'a') + std::string(13, 't') + std::string(26, 'a') +
                       std::string(4, 't') + std::string(8, 'a'));
  CHECK(seq.input_ids.back() == tok.special_id("<|user|>"));
  CHECK(seq.text.rfind("<|system|>\nPlease respond in English. User emotion (valence=0.85", 0) == 0);
}

TEST_CASE("text: N/A goes to a seeded third of 1200 emotional training records and is recorded per record") {
  const fs::path dir = fs::temp_directory_path() / "symp_test_sequence_corpus";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<io::Json> manifest;
  // 1,200 emotional training records, 200 emotional eval records, 300 neutral ones (70 % train).
  for (int i = 0; i < 1700; ++i) {
    const bool neutral = i >= 1400;
    const bool train = neutral ? i % 10 < 7 : i < 1200;
    manifest.push_back({{"id", (neutral ? "neu-" : "emo-") + std::to_string(i)},
                        {"split", neutral ? "neutral" : "emotional"},
                        {"partition", train ? "train" : "eval"},
                        {"emotion", "sad"},
                        {"valence", -0.75},
                        {"arousal", -0.65},
                        {"query_text", "q"},
                        {"response_text", "r"},
                        {"query_audio", "audio/q" + std::to_string(i) + ".wav"},
                        {"response_audio", "audio/r" + std::to_string(i) + ".wav"}});
  }
  io::write_jsonl_atomic((dir / "manifest.jsonl").string(), manifest);
  fs::create_directories(dir / "audio");
  for (const auto& r : manifest) {
    std::ofstream(dir / r["query_audio"].get<std::string>());
    std::ofstream(dir / r["response_audio"].get<std::string>());
  }
  ByteTokenizer tok;
  auto fake_audio = text::parallel_audio_encoder(
      [](const std::string& path) {
        return std::vector<int64_t>(path.find("/q") != std::string::npos ? 10 : 20, 3);
      },
      2);
  text::CorpusEncodeOptions options;
  options.corpus_dir = dir.string();
  options.out_dir = (dir / "out").string();
  options.sequence.max_length = 80;
  const auto summary = text::encode_corpus(options, tok, fake_audio);
  CHECK(summary.emotional_train == 1200);
  CHECK(std::abs(double(summary.na_records) / 1200 - 1.0 / 3) <= 0.02);

  const auto train = io::read_jsonl((dir / "out" / "encoded_train.jsonl").string());
  const auto eval = io::read_jsonl((dir / "out" / "encoded_eval.jsonl").string());
  CHECK(train.size() + eval.size() == 1700);
  int na = 0;
  for (const auto& j : train) {
    for (const char* f : {"id", "text", "valence", "arousal", "condition", "input_ids", "assistant_start"})
      REQUIRE(j.contains(f));
    const bool is_na = j["condition"] == "na";
    na += is_na;
    CHECK(j["valence"].is_null() == is_na);
    CHECK(j["arousal"].is_null() == is_na);
    CHECK((j["text"].get<std::string>().find("User emotion N/A\n") != std::string::npos) == is_na);
    if (j["split"] == "neutral") CHECK_FALSE(is_na);
    if (!is_na) CHECK(j["valence"].get<double>() == -0.75);
  }
  CHECK(na == summary.na_records);
  for (const auto& j : eval) CHECK(j["condition"] == "va");

  // The same seed picks the same records; another seed other ones.
  const auto again = text::choose_na_records({"a", "b", "c", "d", "e", "f"}, 1.0 / 3, 42);
  CHECK(again == text::choose_na_records({"f", "e", "d", "c", "b", "a"}, 1.0 / 3, 42));
  CHECK(again.size() == 2);

  // Every sequence is over 80 ids here: all are reported, none is cut.
  CHECK(summary.over_max_length.size() == 1700);
  CHECK(train[0]["input_ids"].size() == train[0]["length"].get<size_t>());
  CHECK(fs::exists(dir / "out" / "sequence_lengths.png"));
  CHECK(io::read_json((dir / "out" / "sequence_lengths.json").string())["over_max_length"].size() == 1700);
}

TEST_CASE("text: corpus encoding names the record without audio or with unreadable audio") {
  const fs::path dir = fs::temp_directory_path() / "symp_test_sequence_bad";
  fs::remove_all(dir);
  fs::create_directories(dir);
  io::Json ok = {
      {"id", "emo-1"},          {"split", "emotional"},     {"partition", "train"}, {"emotion", "happy"},
      {"valence", 0.85},        {"arousal", 0.35},          {"query_text", "q"},    {"response_text", "r"},
      {"query_audio", "q.wav"}, {"response_audio", "r.wav"}};
  io::Json no_audio = ok;
  no_audio["id"] = "emo-2";
  no_audio.erase("response_audio");
  io::write_jsonl_atomic((dir / "manifest.jsonl").string(), {ok, no_audio});
  std::ofstream(dir / "q.wav");
  std::ofstream(dir / "r.wav");
  ByteTokenizer tok;
  text::CorpusEncodeOptions options;
  options.corpus_dir = dir.string();
  options.out_dir = (dir / "out").string();
  auto fine = text::parallel_audio_encoder([](const std::string&) { return std::vector<int64_t>{1}; }, 1);
  try {
    text::encode_corpus(options, tok, fine);
    FAIL("encoded a record without audio");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Input);
    CHECK_THAT(e.what(),
               Catch::Contains("emo-2") && Catch::Contains("response_audio") && Catch::Contains(":2"));
  }
  io::write_jsonl_atomic((dir / "manifest.jsonl").string(), {ok});
  auto unreadable = text::parallel_audio_encoder(
      [](const std::string& path) -> std::vector<int64_t> { throw InputError(path + ": not an audio file"); },
      2);
  try {
    text::encode_corpus(options, tok, unreadable);
    FAIL("encoded unreadable audio");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Input);
    CHECK_THAT(e.what(), Catch::Contains("emo-1") && Catch::Contains("q.wav"));
  }
}

TEST_CASE("text: an interrupted corpus encoding resumes and writes what an uninterrupted one writes") {
  const fs::path dir =
      fs::temp_directory_path() / ("symp_test_sequence_resume_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<io::Json> manifest;
  for (int i = 0; i < 40; ++i) {
    manifest.push_back({{"id", "emo-" + std::to_string(i)},
                        {"split", i < 30 ? "emotional" : "neutral"},
                        {"partition", i % 4 == 3 ? "eval" : "train"},
                        {"emotion", "happy"},
                        {"valence", 0.85},
                        {"arousal", 0.35},
                        {"response_text", "reply " + std::to_string(i)},
                        {"query_audio", "q" + std::to_string(i) + ".wav"},
                        {"response_audio", "r" + std::to_string(i) + ".wav"}});
    std::ofstream(dir / ("q" + std::to_string(i) + ".wav"));
    std::ofstream(dir / ("r" + std::to_string(i) + ".wav"));
  }
  io::write_jsonl_atomic((dir / "manifest.jsonl").string(), manifest);
  ByteTokenizer tok;
  int batches = 0, fail_at = 0;
  text::BatchAudioEncoder encoder = [&](const std::vector<std::string>& paths) {
    if (++batches == fail_at) throw RuntimeError("killed");
    std::vector<std::vector<int64_t>> out;
    for (const auto& p : paths) out.push_back(std::vector<int64_t>(p.size() % 7 + 1, int64_t(p.size() % 5)));
    return out;
  };
  auto slurp = [](const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  text::CorpusEncodeOptions options;
  options.corpus_dir = dir.string();
  options.batch_records = 4;
  options.encoder_id = "test";

  options.out_dir = (dir / "whole").string();
  text::encode_corpus(options, tok, encoder);
  CHECK(batches == 10);
  CHECK_FALSE(fs::exists(dir / "whole" / text::kEncodeProgressFile));

  options.out_dir = (dir / "resumed").string();
  batches = 0;
  fail_at = 5;  // four batches (16 records) saved, then the run dies
  CHECK_THROWS_WITH(text::encode_corpus(options, tok, encoder), Catch::Contains("killed"));
  CHECK_FALSE(fs::exists(dir / "resumed" / "encoded_train.jsonl"));
  REQUIRE(io::read_jsonl((dir / "resumed" / text::kEncodeProgressFile).string()).size() == 1 + 16);
  batches = 0;
  fail_at = 0;
  text::encode_corpus(options, tok, encoder);
  CHECK(batches == 6);  // only the 24 records left
  for (const char* f : {"encoded_train.jsonl", "encoded_eval.jsonl", "sequence_lengths.json"})
    CHECK(slurp(dir / "resumed" / f) == slurp(dir / "whole" / f));

  // Other options: the saved records are not this run's, so it starts over.
  options.out_dir = (dir / "changed").string();
  batches = 0;
  fail_at = 3;
  CHECK_THROWS(text::encode_corpus(options, tok, encoder));
  options.sequence.na_fraction = 0.5;
  batches = 0;
  fail_at = 0;
  text::encode_corpus(options, tok, encoder);
  CHECK(batches == 10);
  fs::remove_all(dir);
}
