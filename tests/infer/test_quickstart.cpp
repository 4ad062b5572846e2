// recipes/quickstart/run.sh at CI scale (one to two minutes on 2 cores): every stage runs and leaves its
// outputs. Hidden from the default Catch run ([.]); tests/CMakeLists.txt registers it as the ctest test
// quickstart-ci-scale with label quickstart (ctest -L quickstart).
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <string>

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
                          " QS_MAX_NEW_TOKENS=30 bash " SYMP_SOURCE_DIR "/recipes/quickstart/run.sh " +
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
  // The report links the replies it found.
  std::ifstream html(run / "report.html");
  std::string page((std::istreambuf_iterator<char>(html)), std::istreambuf_iterator<char>());
  CHECK_THAT(page, Catch::Contains("lora"));
}
