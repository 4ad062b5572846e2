#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "symp/judge/judge.h"
#include "symp/judge/similarity.h"
#include "symp/text/rouge.h"

namespace fs = std::filesystem;
using namespace symp::judge;

namespace {

Response reply(const std::string& system, const std::string& query, const std::string& emotion,
               const std::string& text) {
  Response r;
  r.system = system;
  r.id = query + "-" + emotion;
  r.query = query;
  r.emotion = emotion;
  r.text = text;
  return r;
}

// Embeds a text as (number of words, 1): enough to check the cosine bookkeeping.
class CountEmbedder : public symp::text::Embedder {
 public:
  std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) override {
    std::vector<std::vector<float>> out;
    for (const auto& t : texts)
      out.push_back({static_cast<float>(std::count(t.begin(), t.end(), ' ') + 1), 1.f});
    return out;
  }
  int dim() const override { return 2; }
  std::string describe() const override { return "word-count test embedder"; }
};

}  // namespace

TEST_CASE("judge: cross-emotion lexical diversity is the mean and population std over pairs", "[judge]") {
  std::vector<Response> rs = {
      reply("A", "q1", "happy", "the cat sat on the mat"),
      reply("A", "q1", "sad", "the cat is on the mat"),
      reply("A", "q1", "angry", "dogs run"),
      reply("A", "q2", "happy", "same words here"),
      reply("A", "q2", "sad", "same words here"),
      reply("A", "q3", "happy", "only one emotion for this query"),
      reply("B", "q1", "happy", "x y"),
      reply("B", "q1", "sad", "x z"),
  };
  CountEmbedder embedder;
  auto result = cross_emotion_diversity(rs, nullptr, &embedder);
  REQUIRE(result.size() == 2);
  const auto& a = result[0];
  CHECK(a.system == "A");
  CHECK(a.queries == 2);
  // Pairs: (happy,sad) 5/6, (happy,angry) 0, (sad,angry) 0 for q1; (happy,sad) 1 for q2.
  std::vector<double> v = {5.0 / 6.0, 0.0, 0.0, 1.0};
  double mean = (5.0 / 6.0 + 1.0) / 4.0, ss = 0;
  for (double x : v) ss += (x - mean) * (x - mean);
  CHECK(a.lexical.pairs == 4);
  CHECK(a.lexical.mean == Approx(mean));
  CHECK(a.lexical.std == Approx(std::sqrt(ss / 4.0)));
  REQUIRE(a.semantic.has_value());
  CHECK(a.semantic->pairs == 4);
  CHECK(a.semantic_measure.find("cosine") == 0);
  CHECK(result[1].lexical.mean == Approx(0.5));  // [x y] vs [x z]: LCS 1 of 2
  // The transcript, when present, is what gets compared.
  for (auto& r : rs) r.transcript = r.text;
  rs[0].transcript = "completely different words";
  auto with_asr = cross_emotion_diversity(rs, nullptr, nullptr, 0.0);
  CHECK(with_asr[0].lexical.pairs == 4);
  CHECK(with_asr[0].lexical.mean < a.lexical.mean);
  CHECK(with_asr[0].text_source == "transcripts");
  CHECK_FALSE(with_asr[0].semantic.has_value());
  // Once replies are transcribed, one without a transcript (no audio) is left out, not compared on its text.
  rs[2].transcript.clear();
  auto partial = cross_emotion_diversity(rs, nullptr, nullptr, 0.0);
  CHECK(partial[0].without_transcript == 1);
  CHECK(partial[0].lexical.pairs == 2);  // q1: happy-sad only; q2: one pair
  CHECK(partial[0].text_source == "transcripts");
  CHECK(partial[1].without_transcript == 0);
}

TEST_CASE("judge: general ability ROUGE-L against references and ASR-WER", "[judge]") {
  std::vector<Response> rs = {reply("A", "q1", "happy", "Hello, world!"),
                              reply("A", "q2", "sad", "i like monthy python")};
  rs[0].reference = "hello there world";
  rs[0].transcript = "hello duck";
  rs[1].transcript = "I like python.";
  auto g = general_ability(rs, nullptr);
  REQUIRE(g.size() == 1);
  CHECK(g[0].with_reference == 1);
  CHECK(g[0].rouge_l.value() ==
        Approx(symp::text::rouge_l("hello there world", "hello duck", true).fmeasure));
  CHECK(g[0].with_transcript == 2);
  CHECK(g[0].wer.value() == Approx(2.0 / 6.0));  // jiwer's example after normalisation
  CHECK_FALSE(g[0].bertscore_f1.has_value());
}

TEST_CASE("judge: run_judge without an endpoint writes similarity, general ability and the table",
          "[judge]") {
  auto dir = fs::temp_directory_path() / "symp_test_judge_run";
  fs::remove_all(dir);
  fs::create_directories(dir / "base");
  fs::create_directories(dir / "lora");
  std::ofstream(dir / "base" / "responses.jsonl")
      << R"({"id": "1", "emotion": "happy", "query_id": "q", "response_text": "I can help with that plan."})"
         "\n"
      << R"({"id": "2", "emotion": "sad", "query_id": "q", "response_text": "I can help with that plan."})"
         "\n";
  std::ofstream(dir / "lora" / "responses.jsonl")
      << R"({"id": "1", "emotion": "happy", "query_id": "q", "response_text": "Great, let's plan it together!"})"
         "\n"
      << R"({"id": "2", "emotion": "sad", "query_id": "q", "response_text": "I'm sorry; we can go slowly."})"
         "\n";
  JudgeOptions o;
  o.responses = {(dir / "base" / "responses.jsonl").string(), (dir / "lora" / "responses.jsonl").string()};
  o.out_dir = (dir / "out").string();
  o.audio_judge = false;
  auto result = run_judge(o, {});
  CHECK(result["systems"] == nlohmann::json({"base", "lora"}));
  CHECK(result["diversity"][0]["lexical"]["mean"].get<double>() == Approx(1.0));
  CHECK(result["diversity"][1]["lexical"]["mean"].get<double>() < 0.5);
  CHECK(fs::exists(dir / "out" / "table.md"));
  std::ifstream table(dir / "out" / "table.md");
  std::string text((std::istreambuf_iterator<char>(table)), std::istreambuf_iterator<char>());
  CHECK(text.find("| base | - | - | - | - | 1.000 |") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("judge: similarity on transcripts leaves out short replies and CJK transcripts, and says so",
          "[judge]") {
  CHECK(cjk_share("") == 0.0);
  CHECK(cjk_share("hello") == 0.0);
  CHECK(cjk_share("\xE4\xBD\xA0\xE5\xA5\xBD") == 1.0);        // two ideographs
  CHECK(cjk_share("abc \xE3\x81\x82") == Approx(1.0 / 5.0));  // hiragana a among 5 code points
  auto heard = [](const std::string& query, const std::string& emotion, const std::string& transcript,
                  double seconds) {
    Response r = reply("A", query, emotion, "the model's own text");
    r.transcript = transcript;
    r.duration = seconds;
    return r;
  };
  std::vector<Response> rs = {
      heard("q1", "happy", "the cat sat on the mat", 12.0), heard("q1", "sad", "the cat is on the mat", 11.0),
      heard("q1", "angry", "dogs run", 4.0),                                            // under 10 s: out
      heard("q1", "tired", "\xE4\xBD\xA0\xE5\xA5\xBD \xE4\xBD\xA0\xE5\xA5\xBD", 15.0),  // CJK: out
  };
  auto result = cross_emotion_diversity(rs, nullptr, nullptr);
  REQUIRE(result.size() == 1);
  CHECK(result[0].filtered == 2);
  CHECK(result[0].text_source == "transcripts");
  CHECK(result[0].lexical.pairs == 1);  // only (happy, sad) is left
  const double f =
      0.5 * (symp::text::rouge_l("the cat sat on the mat", "the cat is on the mat", true).fmeasure +
             symp::text::rouge_l("the cat is on the mat", "the cat sat on the mat", true).fmeasure);
  CHECK(result[0].lexical.mean == Approx(f));
  // Without transcripts the model's text is compared, nothing is filtered, and the JSON says which.
  for (auto& r : rs) r.transcript.clear();
  result = cross_emotion_diversity(rs, nullptr, nullptr);
  CHECK(result[0].filtered == 0);
  CHECK(result[0].lexical.pairs == 6);
  CHECK(result[0].to_json()["text_source"] == "model text");
}
