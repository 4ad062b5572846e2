// recipes/quickstart/run.sh at CI scale (one to two minutes on 2 cores): every stage runs and leaves its
// outputs. Hidden from the default Catch run ([.]); tests/CMakeLists.txt registers it as the ctest test
// quickstart-ci-scale with label quickstart (ctest -L quickstart).
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "../test_util.h"
#include "symp/core/fs.h"
#include "symp/io/jsonl.h"

namespace fs = std::filesystem;

TEST_CASE("quickstart: a CI-scale run writes the report and every reply", "[.][quickstart]") {
  symp::test::ScratchDir dir("quickstart");
  const auto run = dir.path() / "run";
  const int eval_queries = 1;
  // 2 queries per emotion and 2 neutral queries, one epoch each, 30 new tokens per reply.
  const std::string cmd = "SYMP=" + std::string(SYMP_BINARY) +
                          " QS_PER_EMOTION=2 QS_NEUTRAL=2 QS_EPOCHS=1 QS_LORA_EPOCHS=1 QS_EVAL_QUERIES=" +
                          std::to_string(eval_queries) +
                          " QS_SWEEP_QUERIES=1 QS_MAX_NEW_TOKENS=30 bash " SYMP_SOURCE_DIR
                          "/recipes/quickstart/run.sh " +
                          run.string() + " > " + dir.file("log") + " 2>&1";
  const int status = std::system(cmd.c_str());
  {
    std::ifstream log(dir.file("log"));
    std::string text((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    INFO(text);
    REQUIRE(WIFEXITED(status));
    REQUIRE(WEXITSTATUS(status) == 0);
  }
  for (const char* file : {"report.md", "report.html", "replies/responses.jsonl", "replies/summary.json",
                           "sweep/responses.jsonl", "prosody/correlations.csv", "judge/table.md"}) {
    INFO(file);
    REQUIRE(fs::exists(run / file));
    CHECK(fs::file_size(run / file) > 0);
  }
  // Every stage of the recipe timed once (no stage was resumed), and the report's total is their sum.
  {
    std::ifstream times(run / "stage_times.tsv");
    std::set<std::string> names;
    long total = 0;
    for (std::string line; std::getline(times, line);) {
      const auto tab = line.rfind('\t');
      REQUIRE(tab != std::string::npos);
      CHECK(names.insert(line.substr(0, tab)).second);
      const long seconds = std::stol(line.substr(tab + 1));
      CHECK(seconds >= 0);
      total += seconds;
    }
    CHECK(names.size() == 14);  // the stage lines of recipes/quickstart/run.sh
    CHECK(names.count("train base (tiny GLM from scratch, no condition)") == 1);
    CHECK_THAT(symp::read_text_file(run / "report.md"),
               Catch::Contains("| **all stages** | **" + std::to_string(total) + "** ("));
  }
  // 12 emotions x eval queries x 2 systems, each combination once.
  const auto replies = symp::io::read_jsonl((run / "replies/responses.jsonl").string());
  std::map<std::string, std::set<std::string>> emotions;  // system|query -> emotions
  std::set<std::string> queries, systems;
  for (const auto& r : replies) {
    const auto system = r.at("system").get<std::string>(), query = r.at("query_id").get<std::string>();
    systems.insert(system);
    queries.insert(query);
    CHECK(emotions[system + "|" + query].insert(r.at("emotion").get<std::string>()).second);
  }
  CHECK(systems == std::set<std::string>{"base", "lora"});
  CHECK(queries.size() == static_cast<size_t>(eval_queries));
  CHECK(replies.size() == 12 * queries.size() * 2);
  for (const auto& [system_query, names] : emotions) CHECK(names.size() == 12);
  // The condition probe: both systems, each eval neutral-split record, and the report's table.
  const auto probe = symp::io::read_json((run / "probe/probe_summary.json").string());
  REQUIRE(probe.at("systems").size() == 2);
  const auto probe_items = symp::io::read_jsonl((run / "probe/probe_items.jsonl").string());
  for (const auto& s : probe.at("systems")) {
    const std::string name = s.at("system");
    size_t n = 0, right = 0;
    for (const auto& item : probe_items) {
      if (item.at("system") != name) continue;
      ++n;
      right += item.at("predicted") == item.at("emotion");
    }
    INFO(name);
    CHECK(n == s.at("n").get<size_t>());
    CHECK(n % 12 == 0);  // every eval neutral query, once per target emotion
    CHECK(s.at("accuracy").get<double>() == Approx(double(right) / double(n)));
  }
  CHECK_THAT(symp::read_text_file(run / "report.md"), Catch::Contains("## Condition probe"));

  // report.json (issue 17's contract): every field, recomputed here where the inputs allow.
  const auto report = symp::io::read_json((run / "report.json").string());
  auto words = [](const std::string& text) {  // lower-cased runs of letters and digits
    std::vector<std::string> out;
    std::string w;
    for (char c : text + " ") {
      if (std::isalnum(static_cast<unsigned char>(c))) {
        w += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      } else if (!w.empty()) {
        out.push_back(w);
        w.clear();
      }
    }
    return out;
  };
  std::set<std::string> corpus_bigrams;
  for (const auto& r : symp::io::read_jsonl((run / "corpus/manifest.jsonl").string())) {
    const auto w = words(r.at("response_text").get<std::string>());
    for (size_t k = 1; k < w.size(); ++k) corpus_bigrams.insert(w[k - 1] + " " + w[k]);
  }
  for (const char* system : {"base", "lora"}) {
    INFO(system);
    const auto& s = report.at(system);
    double probe_accuracy = -1;
    for (const auto& p : probe.at("systems"))
      if (p.at("system") == system) probe_accuracy = p.at("accuracy").get<double>();
    CHECK(s.at("condition_probe").at("accuracy").get<double>() == Approx(probe_accuracy));
    CHECK(std::isfinite(s.at("condition_probe").at("margin_nats").get<double>()));
    const auto& rouge = s.at("cross_emotion").at("rouge_l");
    const double mean = rouge.at("mean").get<double>();
    CHECK(mean >= 0.0);
    CHECK(mean <= 1.0);
    CHECK(rouge.at("queries").get<int>() == eval_queries);
    CHECK(rouge.at("ci95").size() == 2);  // null with one query: an interval needs two
    for (const char* feature :
         {"f0_mean", "f0_std", "f0_range", "energy_mean", "energy_std", "rate", "centroid"}) {
      for (const char* target : {"valence", "arousal"}) {
        INFO(feature << " " << target);
        const auto& c = s.at("prosody").at(feature).at(target);
        CHECK(c.at("n").get<int>() <= 12 * eval_queries);
        if (c.at("rho").is_number()) {
          CHECK(std::abs(c.at("rho").get<double>()) <= 1.0);
          CHECK(c.at("p").get<double>() >= 0.0);
          CHECK(c.at("p").get<double>() <= 1.0);
        }
      }
    }
    // Fluency, recomputed from the replies and the corpus.
    double distinct = 0;
    size_t scored = 0, bigrams = 0, known = 0;
    for (const auto& r : replies) {
      if (r.at("system") != system) continue;
      const auto w = words(r.at("response_text").get<std::string>());
      if (w.size() < 2) continue;
      std::set<std::string> unique;
      for (size_t k = 1; k < w.size(); ++k) {
        const std::string b = w[k - 1] + " " + w[k];
        unique.insert(b);
        known += corpus_bigrams.count(b);
        ++bigrams;
      }
      distinct += double(unique.size()) / double(w.size() - 1);
      ++scored;
    }
    if (scored > 0) {
      CHECK(s.at("fluency").at("distinct_2").get<double>() == Approx(distinct / double(scored)));
      CHECK(s.at("fluency").at("corpus_bigram_share").get<double>() ==
            Approx(double(known) / double(bigrams)));
    }
  }
  // The ceiling: the corpus's neutral-split references, every one measured.
  size_t neutral_records = 0;
  for (const auto& r : symp::io::read_jsonl((run / "corpus/manifest.jsonl").string()))
    neutral_records += r.at("split") == "neutral";
  const auto& ceiling = report.at("corpus_ceiling");
  CHECK(ceiling.at("prosody").at("f0_mean").at("arousal").at("n").get<size_t>() == neutral_records);
  const double ceiling_rouge = ceiling.at("cross_emotion").at("rouge_l").at("mean").get<double>();
  CHECK(ceiling_rouge > 0.0);
  CHECK(ceiling_rouge < 1.0);
  CHECK(report.at("criteria").size() == 8);
  CHECK_THAT(symp::read_text_file(run / "report.md"), Catch::Contains("## Does the condition work?"));
  // The report links the replies it found.
  std::ifstream html(run / "report.html");
  std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  CHECK_THAT(page, Catch::Contains("lora"));
}
