// Every command that writes files saves its effective configuration beside them, and reading it back with
// --config (only --out changed) reproduces the run byte for byte.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "../test_util.h"

namespace {

using symp::test::fixtures_dir;
using symp::test::run_symp;

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Runs `args --out first`, then `--config <saved> command --out second`; returns both outputs' paths.
void round_trip(const std::string& command, const std::string& args, const std::string& first,
                const std::string& second, const std::string& saved) {
  auto r = run_symp(command + " " + args + " --out " + first);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(std::ifstream(saved).good());
  auto again = run_symp("--config " + saved + " " + command + " --out " + second);
  INFO(again.err);
  REQUIRE(again.exit_code == 0);
}

}  // namespace

TEST_CASE(
    "cli: saved configurations read back reproduce logits, embed, tokenize speech, gen-data and "
    "eval-prosody") {
  symp::test::ScratchDir dir("config-roundtrip");
  const std::string fx = fixtures_dir();

  round_trip("logits", "--model " + fx + "/glm_chatglm --ids 1,5,7,200", dir.file("a.safetensors"),
             dir.file("b.safetensors"), dir.file("a.safetensors.symp-config.toml"));
  CHECK(slurp(dir.file("a.safetensors")) == slurp(dir.file("b.safetensors")));

  std::ofstream(dir.file("texts.jsonl")) << "\"the cat sat\"\n\"a happy day\"\n";
  round_trip("embed", "--model " + fx + "/bert --in " + dir.file("texts.jsonl"), dir.file("e1.safetensors"),
             dir.file("e2.safetensors"), dir.file("e1.safetensors.symp-config.toml"));
  CHECK(slurp(dir.file("e1.safetensors")) == slurp(dir.file("e2.safetensors")));

  round_trip(
      "tokenize speech",
      "--tokenizer " + fx + "/whisper_vq --audio " + fx + "/whisper_vq/u1.wav " + fx + "/whisper_vq/u2.wav",
      dir.file("t1.jsonl"), dir.file("t2.jsonl"), dir.file("t1.jsonl.symp-config.toml"));
  CHECK(slurp(dir.file("t1.jsonl")) == slurp(dir.file("t2.jsonl")));

  round_trip("--seed 9 gen-data", "--per-emotion 1 --neutral-queries 1", dir.file("g1"), dir.file("g2"),
             dir.file("g1/symp-config.toml"));
  CHECK(slurp(dir.file("g1/manifest.jsonl")) == slurp(dir.file("g2/manifest.jsonl")));

  round_trip("eval-prosody", "--audio " + fx + "/whisper_vq/u1.wav --no-plots", dir.file("p1"),
             dir.file("p2"), dir.file("p1/symp-config.toml"));
  CHECK(slurp(dir.file("p1/features.csv")) == slurp(dir.file("p2/features.csv")));
}
