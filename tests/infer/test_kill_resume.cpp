// Long jobs killed with SIGKILL at random points and run again: gen-data, infer, train-lora and judge end
// with what an uninterrupted run writes (the same bytes; the fields that measure time aside), nothing
// duplicated, nothing lost. tokenize encode has its own in test_glm4voice_path.cpp. Each kill waits for
// the job's own progress (records written, steps logged), so it lands during the work, and the test checks
// that it did. SYMP_KILL_SEED replays a failure's kill points.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <random>

#include "../kill_points.h"
#include "../loopback_http.h"
#include "../test_util.h"
#include "infer_fixture.h"
#include "symp/core/rng.h"
#include "symp/io/jsonl.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;
using symp::test::complete_lines;
using symp::test::kill_when;
using symp::test::ScratchDir;
using symp::test::infer::by_key;
using symp::test::infer::files_under;
using symp::test::infer::read_text;
using symp::test::infer::symp_ok;
using symp::test::infer::tiny_pipeline;
using symp::test::infer::without_timing;

namespace {

// JSONL lines with the named fields removed (timings differ between identical runs).
std::vector<Json> lines_without(const fs::path& file, std::initializer_list<const char*> fields) {
  std::vector<Json> out = symp::io::read_jsonl(file.string());
  for (auto& r : out)
    for (const char* f : fields) r.erase(f);
  return out;
}

// Kills `command` at each point of `points` in turn (each run resuming the previous one's files), checking
// that every kill landed during the work.
void kill_at_points(const std::string& command, const std::function<size_t()>& progress,
                    const std::vector<size_t>& points, size_t total) {
  for (size_t at : points) {
    INFO("kill when progress reaches " << at << " of " << total);
    const auto k = kill_when(command, progress, at);
    REQUIRE(k.killed_by_signal);  // the job was still running: the kill landed during the work
    CHECK(k.progress >= at);
    CHECK(k.progress < total);
  }
}

}  // namespace

TEST_CASE("kill: gen-data killed with SIGKILL at random points resumes to the uninterrupted corpus",
          "[kill]") {
  const unsigned seed = symp::test::kill_seed();
  INFO("SYMP_KILL_SEED=" << seed);
  std::mt19937 gen(seed);
  ScratchDir dir("kill-gen-data");
  auto args = [&](const std::string& out) {
    return std::string(SYMP_BINARY) + " --log-level warn --seed 11 gen-data --out " + dir.file(out) +
           " --per-emotion 3 --neutral-queries 3 --workers 2";
  };
  REQUIRE(std::system((args("whole") + " >/dev/null 2>&1").c_str()) == 0);
  const size_t total = complete_lines(dir.path() / "whole/manifest.jsonl");
  REQUIRE(total > 20);
  const auto manifest_lines = [&] { return complete_lines(dir.path() / "killed/manifest.jsonl"); };
  // Records land in bursts of up to two workers' output while the watcher may wait for a core: kill points
  // stay in the first two thirds so that a late poll still finds the job short of the whole corpus.
  kill_at_points(args("killed"), manifest_lines, symp::test::kill_points(gen, 3, 1, total * 2 / 3), total);
  REQUIRE(std::system((args("killed") + " >/dev/null 2>&1").c_str()) == 0);
  // The manifest, the plan and every WAV byte for byte; the datasheet's figures too (its run time aside).
  const auto skip = [](const std::string& rel) {
    return rel == "symp-config.toml" || rel == "durations.png";
  };
  const auto whole = files_under(dir.path() / "whole", skip),
             killed = files_under(dir.path() / "killed", skip);
  CHECK(whole.size() == killed.size());
  for (const auto& [rel, bytes] : whole) {
    INFO(rel);
    REQUIRE(killed.count(rel) == 1);
    if (rel == "datasheet.json" || rel == "datasheet.md") continue;
    CHECK(killed.at(rel) == bytes);
  }
  CHECK(complete_lines(dir.path() / "killed/manifest.jsonl") == total);
}

TEST_CASE("kill: infer killed with SIGKILL at random points resumes to the uninterrupted replies", "[kill]") {
  const auto& p = tiny_pipeline();
  const unsigned seed = symp::test::kill_seed();
  INFO("SYMP_KILL_SEED=" << seed);
  std::mt19937 gen(seed);
  ScratchDir dir("kill-infer");
  auto args = [&](const std::string& out) {
    return "--seed 42 --threads 1 infer --model " + p.model + " --tokenizer " + p.tokenizer +
           " --include-base --adapter lora=" + p.adapter +
           " --all-emotions --temperature 1 --top-p 1 --max-new-tokens 24 --audio " + p.queries[0] + " " +
           p.queries[1] + " --out " + dir.file(out);
  };
  symp_ok(args("whole"));
  const size_t total = complete_lines(dir.path() / "whole/responses.jsonl");
  REQUIRE(total == 48);  // 2 systems x 2 queries x 12 anchors
  const auto replies = [&] { return complete_lines(dir.path() / "killed/responses.jsonl"); };
  kill_at_points(std::string(SYMP_BINARY) + " " + args("killed"), replies,
                 symp::test::kill_points(gen, 3, 1, total - 4), total);
  symp_ok(args("killed"));
  CHECK(symp::io::read_json(dir.file("killed/summary.json")).at("skipped_existing").get<size_t>() > 0);
  // Each reply once, equal to the uninterrupted run's, field for field (timings aside) and WAV for WAV.
  const auto whole = by_key(symp::io::read_jsonl(dir.file("whole/responses.jsonl")));
  const auto killed = by_key(symp::io::read_jsonl(dir.file("killed/responses.jsonl")));
  REQUIRE(killed.size() == total);
  size_t wavs = 0;
  for (const auto& [key, record] : whole) {
    INFO(key);
    CHECK(without_timing(killed.at(key)) == without_timing(record));
    if (record.at("response_audio").is_string()) {
      const std::string rel = record.at("response_audio").get<std::string>();
      CHECK(read_text(dir.path() / "killed" / rel) == read_text(dir.path() / "whole" / rel));
      ++wavs;
    }
  }
  CHECK(wavs > 0);
  const auto is_reply_file = [](const std::string& rel) {
    return rel.size() > 4 && rel.substr(rel.size() - 4) == ".wav";
  };
  CHECK(files_under(dir.path() / "killed", [&](const std::string& r) { return !is_reply_file(r); }).size() ==
        wavs);
}

TEST_CASE("kill: train-lora killed with SIGKILL at random steps resumes bit for bit", "[kill]") {
  const auto& p = tiny_pipeline();
  const unsigned seed = symp::test::kill_seed();
  INFO("SYMP_KILL_SEED=" << seed);
  std::mt19937 gen(seed);
  ScratchDir dir("kill-train");
  const size_t steps = 16;
  auto args = [&](const std::string& out, bool resume) {
    return std::string(SYMP_BINARY) + " --seed 3 --threads 1 train-lora --model " + p.model +
           " --lora-rank 4 --train " + (p.dir / "enc/encoded_train.jsonl").string() + " --out " +
           dir.file(out) + " --max-steps " + std::to_string(steps) +
           " --batch-size 2 --grad-accum 1 --lr 1e-2 --warmup-steps 2 --save-every 1 --keep 2 --eval-every "
           "1000" +
           (resume ? " --resume" : "");
  };
  REQUIRE(std::system((args("whole", false) + " >/dev/null 2>&1").c_str()) == 0);
  REQUIRE(complete_lines(dir.path() / "whole/metrics.jsonl") == steps);
  const auto logged = [&] { return complete_lines(dir.path() / "killed/metrics.jsonl"); };
  kill_at_points(args("killed", true), logged, symp::test::kill_points(gen, 3, 1, steps - 2), steps);
  REQUIRE(std::system((args("killed", true) + " >/dev/null 2>&1").c_str()) == 0);
  // The same loss, learning rate and gradient norm at every step, and the same adapter bytes.
  const std::initializer_list<const char*> timing = {"elapsed_s", "tokens_per_s"};
  CHECK(lines_without(dir.path() / "killed/metrics.jsonl", timing) ==
        lines_without(dir.path() / "whole/metrics.jsonl", timing));
  CHECK(read_text(dir.path() / "killed/adapter/adapter_model.safetensors") ==
        read_text(dir.path() / "whole/adapter/adapter_model.safetensors"));
}

TEST_CASE("kill: judge killed with SIGKILL at random points resumes to the uninterrupted scores", "[kill]") {
  // A judge that rates each reply from its audio bytes, a little slowly, the same way every time.
  symp::test::LoopbackHttpServer server([](symp::test::HttpExchange& ex) {
    const auto body = Json::parse(ex.body);
    const std::string audio = body["messages"][1]["content"][0]["input_audio"]["data"];
    const int rating = 1 + static_cast<int>(symp::stable_hash(audio.data(), audio.size()) % 5);
    ex.delay_s = 0.02;
    ex.reply = Json{{"choices",
                     {{{"message", {{"role", "assistant"}, {"content", std::to_string(rating) + "|ok"}}}}}}}
                   .dump();
  });
  const unsigned seed = symp::test::kill_seed();
  INFO("SYMP_KILL_SEED=" << seed);
  std::mt19937 gen(seed);
  ScratchDir dir("kill-judge");
  const size_t replies = 36;
  {
    std::ofstream manifest(dir.file("responses.jsonl"));
    const char* emotions[] = {"happy", "sad", "angry", "excited"};
    for (size_t i = 0; i < replies; ++i) {
      const std::string id = "r" + std::to_string(i);
      std::ofstream(dir.file(id + ".wav"), std::ios::binary) << "RIFF-" << id;
      manifest << Json{{"id", id},
                       {"response_audio", id + ".wav"},
                       {"emotion", emotions[i % 4]},
                       {"query_id", "q" + std::to_string(i / 4)},
                       {"response_text", "reply number " + std::to_string(i % 7)}}
                      .dump()
               << "\n";
    }
  }
  auto args = [&](const std::string& out) {
    return "judge --responses " + dir.file("responses.jsonl") + " --out " + dir.file(out) + " --judge-url " +
           server.url() + " --samples 1 --timeout 5 --concurrency 1" +
           " --bertscore-model " SYMP_SHARED_DIR "/fixtures/distilbert --bertscore-layer 2" +
           " --general-bertscore-model " SYMP_SHARED_DIR "/fixtures/bert --general-bertscore-layer 2" +
           " --rubrics " SYMP_SOURCE_DIR "/data/judge";
  };
  symp_ok(args("whole"));
  const auto cached = [&] { return complete_lines(dir.path() / "killed/judge_cache.jsonl"); };
  REQUIRE(complete_lines(dir.path() / "whole/judge_cache.jsonl") == replies);
  kill_at_points(std::string(SYMP_BINARY) + " " + args("killed"), cached,
                 symp::test::kill_points(gen, 3, 1, replies - 4), replies);
  const size_t requests_before = server.requests().size();
  symp_ok(args("killed"));
  // The rerun asks only for what the killed runs did not cache, and writes the same scores.
  CHECK(server.requests().size() - requests_before < replies);
  CHECK(complete_lines(dir.path() / "killed/judge_cache.jsonl") == replies);
  for (const char* f :
       {"judge_items.jsonl", "judge_summary.json", "judge.json", "table.md", "similarity.json"}) {
    INFO(f);
    CHECK(read_text(dir.path() / "killed" / f) == read_text(dir.path() / "whole" / f));
  }
}
