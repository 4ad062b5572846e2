#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "symp/judge/judge.h"
#include "symp/judge/proxy.h"

namespace fs = std::filesystem;
using namespace symp::judge;

namespace {

// A tiny corpus whose emotions have distinct vocabularies.
fs::path write_corpus(const fs::path& dir) {
  fs::create_directories(dir);
  std::ofstream m(dir / "manifest.jsonl");
  const std::vector<std::pair<std::string, std::vector<std::string>>> data = {
      {"happy",
       {"That is wonderful news, congratulations!", "How exciting and wonderful, let's celebrate!",
        "Wonderful, I'm so glad to hear it!"}},
      {"sad",
       {"I'm so sorry, that sounds really hard.", "I'm sorry you are going through this, take your time.",
        "That sounds hard; I'm here for you."}},
      {"angry",
       {"Let's take a breath and sort this out calmly.", "I hear you, let's calmly fix the problem.",
        "Calmly, step by step, we will fix this."}},
  };
  int id = 0;
  for (const auto& [emotion, texts] : data) {
    for (size_t i = 0; i < texts.size(); ++i) {
      m << nlohmann::json{{"id", std::to_string(id++)},
                          {"emotion", emotion},
                          {"response_text", texts[i]},
                          {"partition", i + 1 < texts.size() ? "train" : "eval"}}
               .dump()
        << "\n";
    }
  }
  return dir / "manifest.jsonl";
}

}  // namespace

TEST_CASE("judge: the text-emotion PROXY learns the train partition and says it is a proxy", "[judge]") {
  auto dir = fs::temp_directory_path() / "symp_test_proxy";
  fs::remove_all(dir);
  ProxyOptions po;
  po.corpus_manifest = write_corpus(dir).string();
  auto proxy = TextEmotionProxy::train(po);
  CHECK(proxy.emotions() == std::vector<std::string>{"angry", "happy", "sad"});
  auto post = proxy.posterior("so sorry, that is hard");
  CHECK(post["sad"] > post["happy"]);
  CHECK(post["sad"] > post["angry"]);
  double total = post["sad"] + post["happy"] + post["angry"];
  CHECK(total == Approx(1.0));
  CHECK(proxy.score("wonderful news", "happy") > proxy.score("wonderful news", "sad"));
  CHECK(proxy.score("zzz", "happy") >= 1.0);
  auto v = proxy.validate_on_eval();
  CHECK(v["eval_records"] == 3);
  CHECK(v["top1_accuracy"].get<double>() > 0.5);  // chance is 1/3
  CHECK(v["mean_score_true_target"].get<double>() > v["mean_score_wrong_target"].get<double>());
  CHECK(proxy.describe().find("PROXY") == 0);

  // Through run_judge: proxy columns in the table, labelled.
  std::ofstream(dir / "responses.jsonl")
      << R"({"id": "a", "emotion": "happy", "query_id": "q", "response_text": "Wonderful news!"})"
         "\n"
      << R"({"id": "b", "emotion": "sad", "query_id": "q", "response_text": "Wonderful news!"})"
         "\n";
  JudgeOptions o;
  o.responses = {"sys=" + (dir / "responses.jsonl").string()};
  o.out_dir = (dir / "out").string();
  o.audio_judge = false;
  o.proxy_corpus = po.corpus_manifest;
  auto result = run_judge(o, {});
  REQUIRE(result.contains("proxy_judge"));
  const auto& s = result["proxy_judge"]["summaries"][0];
  CHECK(s["judge"] == "PROXY");
  CHECK(s["n"] == 2);
  CHECK(s["per_emotion"]["happy"]["mean"].get<double>() > s["per_emotion"]["sad"]["mean"].get<double>());
  std::ifstream table(dir / "out" / "table.md");
  std::string text((std::istreambuf_iterator<char>(table)), std::istreambuf_iterator<char>());
  CHECK(text.find("Neutral (PROXY)") != std::string::npos);
  CHECK(text.find("(PROXY) columns: PROXY judge (not the paper's audio LLM judge)") != std::string::npos);
  fs::remove_all(dir);
}
