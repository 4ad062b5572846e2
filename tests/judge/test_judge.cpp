#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "../loopback_http.h"
#include "symp/io/jsonl.h"
#include "symp/judge/audio_judge.h"
#include "symp/judge/judge.h"
#include "symp/judge/rubric.h"

namespace fs = std::filesystem;
using namespace symp::judge;

namespace {

// A loopback OpenAI-compatible server whose behaviour depends on which audio file a request carries.
class FakeJudgeServer {
 public:
  FakeJudgeServer() : server_([this](symp::test::HttpExchange& ex) { handle(ex); }) {}
  void add_kind(const std::string& base64, const std::string& name) { kinds_[base64] = name; }
  std::string url() const { return server_.url(); }
  int requests() const { return requests_.load(); }
  std::string auth() {
    std::lock_guard<std::mutex> lock(mutex_);
    return auth_;
  }

 private:
  void handle(symp::test::HttpExchange& ex) {
    ++requests_;
    if (ex.path != "/v1/chat/completions") {
      ex.status = 404;
      return;
    }
    auto body = nlohmann::json::parse(ex.body);
    std::string system = body["messages"][0]["content"];
    const auto& audio = body["messages"][1]["content"][0];
    std::string kind = "unknown";
    if (audio["type"] == "input_audio" && audio["input_audio"]["format"] == "wav") {
      for (const auto& [b64, name] : kinds_) {
        if (audio["input_audio"]["data"] == b64) kind = name;
      }
    }
    int n;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      n = ++count_[kind];
      if (ex.headers.count("authorization")) auth_ = ex.headers["authorization"];
    }
    auto reply = [&](const std::string& text) {
      ex.reply =
          nlohmann::json{{"choices", {{{"message", {{"role", "assistant"}, {"content", text}}}}}}}.dump();
    };
    if (system.find("helpful and friendly") != std::string::npos) return reply("5|helpful and warm");
    if (kind == "good") return reply("4|warm and fitting");
    if (kind == "junk_then_ok")
      return reply(n % 2 == 1 ? "I cannot rate this." : "The rating is 2, flat tone.");
    if (kind == "always_junk") return reply("no idea what to say");
    if (kind == "seven") return reply("7|excellent, beyond the scale");  // outside 1-5: never a rating
    if (kind == "flaky500" && n == 1) {
      ex.status = 500;
      ex.reply = "overloaded";
      return;
    }
    if (kind == "flaky500") return reply("5 | great");
    if (kind == "slow" && n == 1) std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    if (kind == "slow") return reply("3|ok");
    if (kind == "malformed" && n == 1) {
      ex.reply = "this is not json";
      return;
    }
    if (kind == "malformed") return reply("1|cold");
    ex.status = 400;
    ex.reply = "unknown audio";
  }

  std::map<std::string, std::string> kinds_;
  std::map<std::string, int> count_;
  std::string auth_;
  std::mutex mutex_;
  std::atomic<int> requests_{0};
  symp::test::LoopbackHttpServer server_;  // last: destroyed (and joined) first
};

fs::path scratch(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("symp_test_judge_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

}  // namespace

TEST_CASE("judge: rating parser follows the reference's two patterns", "[judge]") {
  CHECK(parse_rating("4|warm and fitting") == 4);
  CHECK(parse_rating("Rating: 3 | the tone is flat") == 3);
  CHECK(parse_rating("On a scale of 1 to 5 I give 4|because") == 4);  // the `[1-5] |` match wins
  CHECK(parse_rating("I would say 2, it is flat") == 2);              // else the first lone digit
  CHECK(parse_rating("score 7 or 10/10") == std::nullopt);
  CHECK(parse_rating("45 points, x3") == std::nullopt);
  CHECK(parse_rating("") == std::nullopt);
}

TEST_CASE("judge: base64 encoding", "[judge]") {
  CHECK(base64_encode("") == "");
  CHECK(base64_encode("f") == "Zg==");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("foo") == "Zm9v");
  CHECK(base64_encode(std::string("\xff\x00\x10", 3)) == "/wAQ");
}

TEST_CASE("judge: rubrics fill in the emotion and pick helpfulness for neutral", "[judge]") {
  auto rubrics = Rubrics::load(SYMP_SOURCE_DIR "/data/judge");
  auto neutral = rubrics.system_prompt(Setting::Neutral, "sad", -0.75, -0.65);
  CHECK(neutral.find("feels sad (valence -0.75, arousal -0.65") != std::string::npos);
  CHECK(neutral.find("<rating>|<justification>") != std::string::npos);
  CHECK(rubrics.system_prompt(Setting::Emotional, "angry", -0.85, 0.85).find("sounded angry") !=
        std::string::npos);
  CHECK(Rubrics::rubric_name(Setting::Emotional, "neutral") == "helpfulness");
  CHECK(Rubrics::rubric_name(Setting::Neutral, "neutral") == "helpfulness");
  // CommonEval: its own rubric whatever the emotion field says, no emotion filled in.
  CHECK(Rubrics::rubric_name(Setting::CommonEval, "neutral") == "commoneval");
  const auto common = rubrics.system_prompt(Setting::CommonEval, "", 0, 0);
  CHECK(common == rubrics.commoneval);
  CHECK(common.find("spoken question") != std::string::npos);
  CHECK(parse_setting("commoneval") == Setting::CommonEval);
  CHECK(setting_name(Setting::CommonEval) == "commoneval");
  CHECK_THROWS_WITH(parse_setting("common"), Catch::Contains("neutral, emotional, commoneval"));
}

TEST_CASE("judge: the reference's parse wants text after the bar; CommonEval replies need no emotion",
          "[judge]") {
  CHECK(parse_rating("4 | warm and clear") == 4);
  CHECK(parse_rating("4|\nwarm") == 4);           // \s* takes the line break, then text
  CHECK(parse_rating("Rated 2 out of 5|") == 2);  // "5|" has nothing after it: the lone-digit rule
  CHECK(parse_rating("5|   ") == 5);              // ... which finds the 5 itself here
  CHECK_FALSE(parse_rating("no rating").has_value());
  const fs::path dir = fs::temp_directory_path() / "symp_test_judge_commoneval";
  fs::create_directories(dir);
  {
    std::ofstream f(dir / "r.jsonl");
    f << R"({"id":"q1","setting":"commoneval","response_text":"Paris is the capital."})"
      << "\n";
    f << R"({"id":"q2","split":"emotional","query_emotion":"sad","condition":"NA","response_text":"I'm sorry."})"
      << "\n";
  }
  const auto responses = read_responses({(dir / "r.jsonl").string()}, Setting::Neutral);
  REQUIRE(responses.size() == 2);
  CHECK(responses[0].setting == Setting::CommonEval);
  CHECK(responses[0].emotion.empty());
  CHECK(responses[1].setting == Setting::Emotional);
  CHECK(responses[1].emotion == "sad");
  CHECK(responses[1].valence == Approx(-0.75));
  fs::remove_all(dir);
}

TEST_CASE("judge: audio judge against a loopback server with junk, 500s and timeouts", "[judge]") {
  FakeJudgeServer server;
  auto dir = scratch("audio");
  const std::vector<std::string> kinds = {"good", "junk_then_ok", "always_junk", "flaky500",
                                          "slow", "malformed",    "seven"};
  const std::vector<std::string> emotions = {"happy",   "sad",     "angry",  "tired",
                                             "anxious", "excited", "content"};
  {
    std::ofstream manifest(dir / "responses.jsonl");
    for (size_t i = 0; i < kinds.size(); ++i) {
      std::string bytes = "RIFF-fake-wav-" + kinds[i];
      std::ofstream(dir / (kinds[i] + ".wav"), std::ios::binary) << bytes;
      server.add_kind(base64_encode(bytes), kinds[i]);
      manifest << nlohmann::json{{"id", kinds[i]},
                                 {"response_audio", kinds[i] + ".wav"},
                                 {"emotion", emotions[i]}}
                      .dump()
               << "\n";
    }
    // The neutral target gets the helpfulness rubric; emotional-setting records take their own split.
    std::ofstream(dir / "neutral.wav", std::ios::binary) << "RIFF-fake-wav-neutral";
    server.add_kind(base64_encode("RIFF-fake-wav-neutral"), "good");
    manifest << R"({"id": "n1", "response_audio": "neutral.wav", "emotion": "neutral"})"
             << "\n";
    manifest << R"({"id": "e1", "response_audio": "good.wav", "emotion": "sad", "split": "emotional"})"
             << "\n";
  }
  AudioJudgeOptions o;
  o.base_url = server.url();
  o.model = "fake-omni";
  o.api_key = "test-key";
  o.samples = 3;
  o.parse_retries = 2;
  o.concurrency = 3;
  o.timeout_s = 0.5;
  o.backoff_s = 0.01;
  o.rubric_dir = SYMP_SOURCE_DIR "/data/judge";
  auto responses = read_responses({"sysA=" + (dir / "responses.jsonl").string()}, Setting::Neutral);
  REQUIRE(responses.size() == 9);
  auto items = judge_audio(responses, o, (dir / "out").string());
  std::map<std::string, const JudgedItem*> by_id;
  for (const auto& it : items) by_id[it.response->id] = &it;

  CHECK(by_id["good"]->ratings == std::vector<int>{4, 4, 4});
  CHECK(by_id["good"]->score == Approx(4.0));
  CHECK(by_id["junk_then_ok"]->ratings == std::vector<int>{2, 2, 2});
  CHECK(by_id["junk_then_ok"]->unparsed == 3);
  // Never a number: every sample of always_junk failed after 1 + 2 attempts.
  CHECK(by_id["always_junk"]->ratings.empty());
  CHECK_FALSE(by_id["always_junk"]->score.has_value());
  CHECK(by_id["always_junk"]->failed_samples == 3);
  CHECK(by_id["always_junk"]->replies.size() == 9);
  CHECK(by_id["seven"]->ratings.empty());
  CHECK(by_id["seven"]->failed_samples == 3);
  CHECK(by_id["seven"]->unparsed == 9);
  CHECK(by_id["flaky500"]->score == Approx(5.0));
  CHECK(by_id["slow"]->score == Approx(3.0));
  CHECK(by_id["malformed"]->ratings == std::vector<int>{1, 1, 1});
  CHECK(by_id["malformed"]->unparsed == 1);
  CHECK(by_id["n1"]->rubric == "helpfulness");
  CHECK(by_id["n1"]->score == Approx(5.0));
  CHECK(by_id["e1"]->rubric == "emotional");
  for (const auto& it : items) CHECK(it.error.empty());
  CHECK(server.auth() == "Bearer test-key");

  auto summaries = summarize(items);
  REQUIRE(summaries.size() == 2);
  const auto& neutral = summaries[0].setting == Setting::Neutral ? summaries[0] : summaries[1];
  // Scores: good 4, junk_then_ok 2, flaky500 5, slow 3, malformed 1, n1 5; always_junk and seven failed.
  CHECK(neutral.n == 6);
  CHECK(neutral.failed == 2);
  CHECK(neutral.mean == Approx(20.0 / 6.0));
  double m = 20.0 / 6.0, ss = 0;
  for (double x : {4.0, 2.0, 5.0, 3.0, 1.0, 5.0}) ss += (x - m) * (x - m);
  CHECK(neutral.std == Approx(std::sqrt(ss / 5.0)));
  CHECK(neutral.mean_without_neutral.value() == Approx(15.0 / 5.0));
  CHECK(neutral.per_emotion_mean.at("happy") == Approx(4.0));
  CHECK(neutral.per_emotion_n.count("anxious") == 1);  // "slow" was anxious
  CHECK(neutral.per_emotion_n.count("sad") == 1);      // junk_then_ok

  // A rerun is answered from the cache: only the malformed body (never cached, it may be a passing
  // fault) is asked again, and the results are the same.
  int before = server.requests();
  auto again = judge_audio(responses, o, (dir / "out").string());
  CHECK(server.requests() == before + 1);
  for (size_t i = 0; i < items.size(); ++i) {
    CHECK(again[i].ratings == items[i].ratings);
  }
  fs::remove_all(dir);
}

TEST_CASE("judge: a server that is down fails every item with a clear error", "[judge]") {
  auto dir = scratch("down");
  std::ofstream(dir / "a.wav", std::ios::binary) << "RIFF-x";
  std::ofstream(dir / "r.jsonl") << R"({"id": 1, "audio": "a.wav", "valence": 0.8, "arousal": 0.3})"
                                 << "\n";
  auto responses = read_responses({(dir / "r.jsonl").string()}, Setting::Neutral);
  REQUIRE(responses[0].emotion == "happy");  // nearest anchor to (0.8, 0.3)
  AudioJudgeOptions o;
  o.base_url = "http://127.0.0.1:9";  // discard port: connection refused
  o.max_attempts = 2;
  o.backoff_s = 0.01;
  o.rubric_dir = SYMP_SOURCE_DIR "/data/judge";
  CHECK_THROWS_WITH(judge_audio(responses, o, (dir / "out").string()),
                    Catch::Contains("every one of the 1 replies"));
  fs::remove_all(dir);
}

TEST_CASE("judge: symp judge runs the audio judge, BERTScore similarity and writes the table",
          "[judge][cli]") {
  FakeJudgeServer server;
  auto dir = scratch("cli");
  for (const std::string system : {"base", "lora"}) {
    fs::create_directories(dir / system);
    std::ofstream manifest(dir / system / "responses.jsonl");
    for (const std::string emotion : {"happy", "sad", "neutral"}) {
      std::string bytes = "RIFF-" + system + "-" + emotion;
      std::ofstream(dir / system / (emotion + ".wav"), std::ios::binary) << bytes;
      server.add_kind(base64_encode(bytes), "good");
      const std::map<std::string, std::string> lora = {{"happy", "Great news: the plan is calm!"},
                                                       {"sad", "I feel so sorry that happened."},
                                                       {"neutral", "We can help you try again tomorrow"}};
      std::string text = system == "base" ? "I feel so sorry that happened." : lora.at(emotion);
      manifest << nlohmann::json{{"id", emotion},
                                 {"response_audio", emotion + ".wav"},
                                 {"emotion", emotion},
                                 {"query_id", "q1"},
                                 {"reference_text", "I am sorry to hear that, let us try again."},
                                 {"response_text", text}}
                      .dump()
               << "\n";
    }
  }
  std::string cmd =
      std::string(SYMP_BINARY) + " judge --responses " + (dir / "base" / "responses.jsonl").string() +
      " --responses " + (dir / "lora" / "responses.jsonl").string() + " --out " + (dir / "out").string() +
      " --judge-url " + server.url() +
      " --samples 2 --timeout 5 --bertscore-model " SYMP_SHARED_DIR
      "/fixtures/distilbert --bertscore-layer 2 --general-bertscore-model " SYMP_SHARED_DIR
      "/fixtures/bert --general-bertscore-layer 2 --rubrics " SYMP_SOURCE_DIR "/data/judge 2>/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  // General ability with its own BERTScore model; similarity keeps DistilBERT.
  const auto general = symp::io::read_json((dir / "out" / "general.json").string());
  REQUIRE(general.size() == 2);
  for (const auto& g : general) {
    CHECK_THAT(g["bertscore_model"].get<std::string>(),
               Catch::StartsWith("bert (BERT, 2 layers") && !Catch::Contains("distilbert"));
    CHECK(g["with_reference"] == 3);
    CHECK((g["bertscore_f1"].get<double>() > 0 && g["bertscore_f1"].get<double>() <= 1));
  }
  const auto similarity = symp::io::read_json((dir / "out" / "similarity.json").string());
  CHECK_THAT(similarity[0]["semantic_measure"].get<std::string>(), Catch::Contains("distilbert"));
  auto summary = symp::io::read_json((dir / "out" / "judge_summary.json").string());
  REQUIRE(summary["summaries"].size() == 2);
  CHECK(summary["summaries"][0]["system"] == "base");
  // happy and sad: 4 (the emotional rubric); neutral: 5 (helpfulness).
  CHECK(summary["summaries"][0]["mean"].get<double>() == Approx(13.0 / 3.0));
  CHECK(summary["summaries"][0]["mean_without_neutral"].get<double>() == Approx(4.0));
  auto sim = symp::io::read_json((dir / "out" / "similarity.json").string());
  CHECK(sim[0]["semantic"]["mean"].get<double>() == Approx(1.0));  // identical base replies
  CHECK(sim[1]["semantic"]["mean"].get<double>() < 1.0);
  CHECK(sim[0]["semantic_measure"].get<std::string>().find("BERTScore F1") == 0);
  CHECK(fs::exists(dir / "out" / "table.md"));
  CHECK(fs::exists(dir / "out" / "symp-config.toml"));
  fs::remove_all(dir);
}
