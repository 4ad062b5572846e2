// A write that fails part way (a full disk, a quota): each stage's writer, run again over a good output
// with every file's size capped (RLIMIT_FSIZE, with SIGXFSZ ignored, so a write past the cap fails with
// EFBIG the way a full disk fails with ENOSPC), must exit 1 with one clear error line and leave every file
// of the good output as it was.
#include <catch2/catch.hpp>

#include <filesystem>
#include <map>
#include <set>
#include <sstream>

#include "../test_util.h"
#include "infer_fixture.h"

namespace fs = std::filesystem;
using symp::test::run_symp;
using symp::test::RunResult;
using symp::test::ScratchDir;
using symp::test::infer::files_under;
using symp::test::infer::symp_ok;
using symp::test::infer::tiny_pipeline;

namespace {

// `symp args` with every file it writes capped at `kib` KiB.
RunResult symp_with_file_cap(const std::string& args, int kib) {
  return run_symp(args,
                  "bash -c 'trap \"\" XFSZ; ulimit -f " + std::to_string(kib) + "; exec \"$0\" \"$@\"'");
}

// The run failed the way a full disk should end: exit 1, the last stderr line one "symp: error:" naming
// a file under `out`, and every file that was there before unchanged, with no temporary file left. An
// append-only log (`logs`: metrics.jsonl) may have grown by lines, its old bytes kept as they were.
void check_failed_cleanly(const RunResult& r, const fs::path& out,
                          const std::map<std::string, std::string>& before,
                          const std::set<std::string>& logs = {}) {
  INFO("stderr:\n" << r.err);
  CHECK(r.exit_code == 1);
  std::vector<std::string> lines, errors;
  std::istringstream in(r.err);
  for (std::string line; std::getline(in, line);) {
    if (line.find('\r') != std::string::npos) continue;  // progress bars
    lines.push_back(line);
    if (line.rfind("symp: error:", 0) == 0) errors.push_back(line);
  }
  REQUIRE(errors.size() == 1);
  WARN(errors.front());  // the line a user sees
  CHECK(lines.back() == errors.front());
  CHECK_THAT(errors.front(), Catch::Contains(out.string()));
  const auto after = files_under(out);
  for (const auto& [rel, bytes] : before) {
    INFO(rel);
    REQUIRE(after.count(rel) == 1);
    if (logs.count(rel))
      CHECK(after.at(rel).compare(0, bytes.size(), bytes) == 0);
    else
      CHECK(after.at(rel) == bytes);
  }
  for (const auto& [rel, bytes] : after) {
    INFO(rel);
    CHECK(rel.find(".tmp") == std::string::npos);
  }
}

}  // namespace

TEST_CASE("faults: each writer on a full disk fails with one clear line and keeps the previous output",
          "[faults]") {
  const auto& p = tiny_pipeline();
  ScratchDir dir("write-faults");
  const fs::path d = dir.path();

  SECTION("gen-data") {
    const auto r = symp_with_file_cap(
        "--seed 3 gen-data --out " + (d / "corpus").string() + " --per-emotion 1 --neutral-queries 1",
        64);  // the plan (~20 KiB) is written, the first WAV is not
    fs::create_directories(d / "corpus");
    check_failed_cleanly(r, d / "corpus", {});
  }
  SECTION("tokenize encode") {
    const std::string args = "--seed 3 tokenize encode --corpus " + p.corpus + " --model " + p.tokenizer +
                             " --out " + (d / "enc").string();
    symp_ok(args);
    const auto before = files_under(d / "enc");
    fs::remove(d / "enc" / "encoded_train.jsonl");
    auto kept = before;
    kept.erase("encoded_train.jsonl");
    check_failed_cleanly(symp_with_file_cap(args, 4), d / "enc", kept);
  }
  SECTION("train-lora") {
    const std::string args =
        "--seed 3 train-lora --model " + p.model + " --lora-rank 4 --train " +
        (p.dir / "enc/encoded_train.jsonl").string() + " --out " + (d / "lora").string() +
        " --batch-size 2 --grad-accum 1 --warmup-steps 0 --save-every 1 --keep 0 --max-steps 4";
    symp_ok(args + " --stop-after 2");
    auto before = files_under(d / "lora");
    // The resumed run saves its own effective configuration (no --stop-after) before it trains; the cap
    // (4 KiB) lets that small file through and stops the first checkpoint (its state is ~50 KiB).
    before.erase("symp-config.toml");
    check_failed_cleanly(symp_with_file_cap(args + " --resume", 4), d / "lora", before, {"metrics.jsonl"});
  }
  SECTION("infer") {
    const std::string args = "--seed 42 infer --model " + p.model + " --tokenizer " + p.tokenizer +
                             " --temperature 1 --top-p 1 --max-new-tokens 24 --audio " + p.queries[0] +
                             " --out " + (d / "replies").string() + " --emotion ";
    symp_ok(args + "happy");
    auto before = files_under(d / "replies");
    before.erase("symp-config.toml");  // the new run's own (--emotion sad) replaces it, as it should
    // 4 KiB: the configuration (1.5 KiB) is saved, the reply's WAV (~50 KiB) is not.
    check_failed_cleanly(symp_with_file_cap(args + "sad", 4), d / "replies", before);
  }
  SECTION("eval-prosody") {
    const std::string args = "eval-prosody --manifest " + p.corpus + "/manifest.jsonl --no-plots --out " +
                             (d / "prosody").string();
    symp_ok(args);
    const auto before = files_under(d / "prosody");
    // 4 KiB: the configuration is saved, features.csv (~11 KiB) is not.
    check_failed_cleanly(symp_with_file_cap(args, 4), d / "prosody", before);
  }
  SECTION("judge") {
    const std::string args =
        "judge --responses corpus=" + p.corpus +
        "/manifest.jsonl --bertscore-model " SYMP_SHARED_DIR
        "/fixtures/distilbert --bertscore-layer 2 --general-bertscore-model " SYMP_SHARED_DIR
        "/fixtures/bert --general-bertscore-layer 2 --out " +
        (d / "judge").string();
    symp_ok(args);
    const auto before = files_under(d / "judge");
    // Every file of a judge run without an audio judge is under 2 KiB: 1 KiB stops the first.
    check_failed_cleanly(symp_with_file_cap(args, 1), d / "judge", before);
  }
}
