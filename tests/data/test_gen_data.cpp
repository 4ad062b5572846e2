// gen-data end to end: a small corpus in-process, its contract, determinism and resuming. The real binary
// killed with SIGKILL mid-run: tests/infer/test_kill_resume.cpp.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <set>

#include "symp/affect/affect.h"
#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/data/gen_data.h"
#include "symp/io/audio.h"
#include "symp/io/jsonl.h"

namespace fs = std::filesystem;
using symp::io::Json;

namespace {

fs::path scratch(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("symp_test_gen_data_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  return dir;
}

symp::data::GenDataOptions small_options(const fs::path& dir) {
  symp::data::GenDataOptions o;
  o.out_dir = dir.string();
  o.per_emotion = 3;
  o.neutral_queries = 4;
  o.grammar_dir = SYMP_SOURCE_DIR "/data/gen";
  o.workers = 1;
  o.seed = 7;
  return o;
}

// Checks every part of the output contract; returns the records.
std::vector<Json> check_corpus(const fs::path& dir, int per_emotion, int neutral) {
  const auto records = symp::io::read_jsonl((dir / "manifest.jsonl").string());
  const auto anchors = symp::affect::AnchorSet::load(SYMP_SOURCE_DIR "/data/affect/anchors.json");
  REQUIRE(records.size() == static_cast<size_t>(12 * per_emotion + 12 * neutral));
  std::set<std::string> ids, files;
  std::map<std::string, std::set<std::string>> partitions_of_query;
  std::map<std::string, int> per_split_emotion;
  std::map<std::string, std::set<std::string>> neutral_targets;
  for (const auto& r : records) {
    const std::string id = r.at("id");
    INFO(id);
    CHECK(ids.insert(id).second);
    const std::string split = r.at("split"), emotion = r.at("emotion");
    ++per_split_emotion[split + "/" + emotion];
    partitions_of_query[r.at("query_id")].insert(r.at("partition").get<std::string>());
    const auto& a = anchors.find(emotion);
    CHECK(r.at("valence").get<double>() == a.va.valence);
    CHECK(r.at("arousal").get<double>() == a.va.arousal);
    CHECK((r.at("partition") == "train" || r.at("partition") == "eval"));
    if (split == "neutral") {
      CHECK(r.at("query_emotion") == "neutral");
      neutral_targets[r.at("query_id")].insert(emotion);
    } else {
      CHECK(split == "emotional");
      CHECK(r.at("query_emotion") == emotion);
    }
    CHECK_FALSE(r.at("query_text").get<std::string>().empty());
    CHECK_FALSE(r.at("response_text").get<std::string>().empty());
    for (const auto& [key, dur] :
         {std::pair{"query_audio", "query_duration"}, {"response_audio", "response_duration"}}) {
      const std::string rel = r.at(key);
      files.insert(rel);
      const auto info = symp::io::probe_audio((dir / rel).string());
      CHECK(info.sample_rate == 22050);
      CHECK(info.channels == 1);
      CHECK(info.format.find("16") != std::string::npos);  // 16-bit PCM
      CHECK(info.duration() == Approx(r.at(dur).get<double>()).margin(1e-6));
      CHECK(info.duration() > 0.5);
    }
  }
  for (const auto& a : anchors.all()) {
    CHECK(per_split_emotion["emotional/" + a.name] == per_emotion);
    CHECK(per_split_emotion["neutral/" + a.name] == neutral);
  }
  CHECK(neutral_targets.size() == static_cast<size_t>(neutral));
  for (const auto& [q, targets] : neutral_targets) CHECK(targets.size() == 12);
  for (const auto& [q, parts] : partitions_of_query) CHECK(parts.size() == 1);  // no query on both sides
  // No orphans: the audio folders hold exactly the files the manifest names.
  std::set<std::string> on_disk;
  for (const char* sub : {"audio/queries", "audio/responses"})
    for (const auto& e : fs::directory_iterator(dir / sub))
      on_disk.insert(std::string(sub) + "/" + e.path().filename().string());
  CHECK(on_disk == files);
  return records;
}

std::map<std::string, std::string> by_id(const std::vector<Json>& records) {
  std::map<std::string, std::string> out;
  for (const auto& r : records) out[r.at("id")] = r.dump();
  return out;
}

}  // namespace

TEST_CASE("data: gen-data small corpus meets the manifest contract and writes a datasheet", "[data]") {
  const fs::path dir = scratch("small");
  const auto summary = symp::data::run_gen_data(small_options(dir));
  CHECK(summary.records == 12 * 3 + 12 * 4);
  CHECK(summary.synthesized == summary.records);
  CHECK(summary.audio_hours > 0.0);
  check_corpus(dir, 3, 4);
  const Json sheet = symp::io::read_json((dir / "datasheet.json").string());
  CHECK(sheet.at("records") == 84);
  CHECK(sheet.at("queries_on_both_sides") == 0);
  CHECK(sheet.at("counts").at("by_split").at("neutral") == 48);
  CHECK(sheet.at("dedup").at("candidates").get<int>() >= 40);
  CHECK(sheet.at("settings").at("seed") == 7);
  CHECK(fs::file_size(dir / "durations.png") > 1000);
  CHECK(symp::read_text_file(dir / "datasheet.md").find("Near-duplicate removal") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("data: gen-data is deterministic per seed and resumes to the same corpus", "[data]") {
  const fs::path a = scratch("det_a"), b = scratch("det_b"), c = scratch("det_c");
  auto oa = small_options(a);
  symp::data::run_gen_data(oa);
  const auto ref = by_id(symp::io::read_jsonl((a / "manifest.jsonl").string()));

  // Same seed, two worker processes: the same corpus.
  auto ob = small_options(b);
  ob.workers = 2;
  symp::data::run_gen_data(ob);
  CHECK(by_id(symp::io::read_jsonl((b / "manifest.jsonl").string())) == ref);

  // Damage b the way a crash would: drop records, tear the last line, leave a temp file and an
  // orphaned audio file. Rerunning finishes the same corpus.
  {
    const std::string text = symp::read_text_file(b / "manifest.jsonl");
    size_t cut = 0;
    for (int lines = 0; lines < 30; ++lines) cut = text.find('\n', cut) + 1;
    symp::write_file_atomic(b / "manifest.jsonl", text.substr(0, cut) + text.substr(cut, 40));
    symp::write_file_atomic(b / "audio/responses/.tmp.x.wav.1.0", "partial");
    symp::write_file_atomic(b / "audio/responses/stray.wav", "RIFF");
  }
  const auto resumed = symp::data::run_gen_data(ob);
  CHECK(resumed.synthesized == 84 - 30);
  CHECK(by_id(check_corpus(b, 3, 4)) == ref);

  // A different seed gives different texts; different counts in the same folder are refused.
  auto oc = small_options(c);
  oc.seed = 8;
  symp::data::run_gen_data(oc);
  CHECK(by_id(symp::io::read_jsonl((c / "manifest.jsonl").string())) != ref);
  oc.per_emotion = 4;
  CHECK_THROWS_AS(symp::data::run_gen_data(oc), symp::UsageError);
  for (const auto& d : {a, b, c}) fs::remove_all(d);
}

TEST_CASE("data: gen-data options are validated with the field named", "[data]") {
  auto o = small_options(scratch("opts"));
  o.dedup_threshold = 1.5;
  CHECK_THROWS_WITH(o.validate(), Catch::Contains("--dedup-threshold 1.5"));
  o = small_options(scratch("opts"));
  o.text_backend = "gpt";
  CHECK_THROWS_WITH(o.validate(), Catch::Contains("--text-backend 'gpt'"));
  o = small_options(scratch("opts"));
  o.emotions = {"happy", "elated"};
  CHECK_THROWS_WITH(o.validate(), Catch::Contains("'elated'"));
}
