// Runs the real symp binary, as a user would.
#include <catch2/catch.hpp>

#include <fstream>

#include "../test_util.h"
#include "symp/io/jsonl.h"

using symp::io::Json;
using symp::test::run_symp;

TEST_CASE("cli: --help lists the commands and --version answers") {
  auto r = run_symp("--help");
  CHECK(r.exit_code == 0);
  CHECK(r.out.find("affect") != std::string::npos);
  CHECK(r.out.find("--seed") != std::string::npos);
  auto v = run_symp("--version");
  CHECK(v.exit_code == 0);
  CHECK(v.out.find("symp ") == 0);
  auto h = run_symp("affect --help");
  CHECK(h.exit_code == 0);
  CHECK(h.out.find("--interpolate") != std::string::npos);
}

TEST_CASE("cli: symp runs with OMP_WAIT_POLICY=PASSIVE unless the user chose a policy") {
  // Unset: the binary starts itself again with PASSIVE (symp/core/process.h), arguments intact.
  auto r = run_symp("--log-level debug affect --emotion excited", "env -u OMP_WAIT_POLICY");
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("OMP_WAIT_POLICY=PASSIVE") != std::string::npos);
  CHECK(Json::parse(r.out)["valence"] == 0.75);
  // Set: kept as it is.
  auto active = run_symp("--log-level debug affect --emotion excited", "env OMP_WAIT_POLICY=ACTIVE");
  REQUIRE(active.exit_code == 0);
  CHECK(active.err.find("OMP_WAIT_POLICY=ACTIVE") != std::string::npos);
}

TEST_CASE("cli: affect --emotion excited gives the anchor and the exact prompt") {
  auto r = run_symp("affect --emotion excited");
  REQUIRE(r.exit_code == 0);
  auto j = Json::parse(r.out);
  CHECK(j["valence"] == 0.75);
  CHECK(j["arousal"] == 0.9);
  CHECK(j["emotion"] == "excited");
  CHECK(j["prompt"] == "Please respond in English. User emotion (valence=0.75, arousal=0.90)");
}

TEST_CASE("cli: affect --va validates and --interpolate / --taxonomy fuse") {
  auto ok = run_symp("affect --va 0.3,-0.2");
  REQUIRE(ok.exit_code == 0);
  CHECK(Json::parse(ok.out)["prompt"] ==
        "Please respond in English. User emotion (valence=0.30, arousal=-0.20)");
  auto bad = run_symp("affect --va 2,0");
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("valence") != std::string::npos);
  CHECK(std::count(bad.err.begin(), bad.err.end(), '\n') == 1);
  auto nan = run_symp("affect --va nan,0");
  CHECK(nan.exit_code == 2);
  auto interp = run_symp("affect --interpolate happy,sad --t 0.25");
  REQUIRE(interp.exit_code == 0);
  auto j = Json::parse(interp.out);
  CHECK(j["valence"].get<double>() == Approx(0.45));
  CHECK(j["arousal"].get<double>() == Approx(0.10));
  auto fused = run_symp("affect --taxonomy isear --probs joy=0.7,fear=0.3");
  REQUIRE(fused.exit_code == 0);
  CHECK(Json::parse(fused.out)["valence"].get<double>() == Approx(0.475));
  auto unknown = run_symp("affect --taxonomy isear --probs boredom=1");
  CHECK(unknown.exit_code == 2);
  CHECK(unknown.err.find("boredom") != std::string::npos);
  CHECK(run_symp("affect --emotion bored").exit_code == 2);
  CHECK(run_symp("affect --interpolate happy,sad --t 1.5").exit_code == 2);
  CHECK(run_symp("affect --no-such-option").exit_code == 2);
  auto none = run_symp("affect --none");
  CHECK(Json::parse(none.out)["prompt"] == "Please respond in English. User emotion N/A");
}

TEST_CASE("cli: affect --probs-file fuses many rows and names a bad line") {
  symp::test::ScratchDir dir("probs");
  std::ofstream(dir.file("p.jsonl")) << R"({"id": "a", "probs": {"joy": 1.0}})"
                                     << "\n"
                                     << R"({"id": "b", "probs": {"sadness": 0.5, "anger": 0.5}})"
                                     << "\n";
  auto r = run_symp("affect --taxonomy isear --probs-file " + dir.file("p.jsonl"));
  REQUIRE(r.exit_code == 0);
  auto lines = r.out;
  CHECK(std::count(lines.begin(), lines.end(), '\n') == 2);
  std::ofstream(dir.file("bad.jsonl")) << R"({"id": "a", "probs": {"joy": 1.0}})"
                                       << "\n{oops\n";
  auto bad = run_symp("affect --taxonomy isear --probs-file " + dir.file("bad.jsonl"));
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("bad.jsonl:2") != std::string::npos);
}

TEST_CASE("cli: inspect lists fixture tensors and rejects a corrupt file") {
  auto r = run_symp("inspect " + symp::test::fixtures_dir() + "/glm_logits.safetensors");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("\"shape\":[11,256]") != std::string::npos);
  symp::test::ScratchDir dir("inspect");
  std::ofstream(dir.file("x.safetensors")) << "garbage";
  auto bad = run_symp("inspect " + dir.file("x.safetensors"));
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("x.safetensors") != std::string::npos);
}

TEST_CASE(
    "cli: --config refuses an unknown key, a wrong type and a file that is not TOML, for every command") {
  symp::test::ScratchDir dir("config-strict");
  const std::vector<std::pair<std::string, std::string>> commands = {
      {"affect", "affect"},
      {"gen-data", "gen-data"},
      {"tokenize fit", "tokenize.fit"},
      {"tokenize encode", "tokenize.encode"},
      {"tokenize roundtrip", "tokenize.roundtrip"},
      {"tokenize speech", "tokenize.speech"},
      {"tokenize decode", "tokenize.decode"},
      {"train-lora", "train-lora"},
      {"logits", "logits"},
      {"infer", "infer"},
      {"eval-prosody", "eval-prosody"},
      {"judge", "judge"},
      {"embed", "embed"},
      {"report", "report"},
      {"inspect", "inspect"},
      {"transcribe", "transcribe"}};
  for (const auto& [command, section] : commands) {
    INFO(command);
    const std::string file = dir.file(section + ".toml");
    std::ofstream(file) << "seed = 3\n[" << section << "]\nno-such-option = 1\n";
    auto r = run_symp("--config " + file + " " + command);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(file) &&
                          Catch::Contains("unknown key 'no-such-option' in section [" + section + "]"));
  }
  // At the top level.
  std::ofstream(dir.file("top.toml")) << "sed = 3\n";
  auto top = run_symp("--config " + dir.file("top.toml") + " affect --emotion happy");
  CHECK(top.exit_code == 2);
  CHECK_THAT(top.err, Catch::Contains("unknown key 'sed' at the top level"));
  // Not TOML: a header without its bracket, a key without a value.
  std::ofstream(dir.file("broken.toml")) << "[affect\nemotion = \n";
  auto broken = run_symp("--config " + dir.file("broken.toml") + " affect");
  CHECK(broken.exit_code == 2);
  CHECK_THAT(broken.err, Catch::Contains(dir.file("broken.toml") + ":1: not valid TOML"));
  CHECK(std::count(broken.err.begin(), broken.err.end(), '\n') == 1);
  // A value of the wrong type.
  std::ofstream(dir.file("type.toml")) << "[affect]\nt = \"half\"\ninterpolate = \"happy,sad\"\n";
  auto type = run_symp("--config " + dir.file("type.toml") + " affect");
  CHECK(type.exit_code == 2);
  CHECK_THAT(type.err, Catch::Contains("--t = half") && Catch::Contains(dir.file("type.toml")));
  // A good file still works, and a missing one is named.
  std::ofstream(dir.file("good.toml")) << "[affect]\nemotion = \"sad\"\n";
  auto good = run_symp("--config " + dir.file("good.toml") + " affect");
  REQUIRE(good.exit_code == 0);
  CHECK(Json::parse(good.out)["emotion"] == "sad");
  auto missing = run_symp("--config " + dir.file("nope.toml") + " affect");
  CHECK(missing.exit_code != 0);
  CHECK_THAT(missing.err, Catch::Contains("nope.toml"));
}

TEST_CASE("cli: the paper recipe's config files pass the strict --config check") {
  for (const char* f : {"train-lora.toml", "train-lora-4gpu.toml"}) {
    const std::string file = std::string(SYMP_SOURCE_DIR) + "/recipes/paper/" + f;
    INFO(file);
    // Every key is known: what stops the run is the missing --train, not the file.
    auto r = run_symp("--config " + file + " train-lora");
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("--train is required"));
    CHECK_THAT(r.err, !Catch::Contains("unknown key") && !Catch::Contains("not valid TOML"));
  }
}
