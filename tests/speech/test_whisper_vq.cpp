// WhisperVQ against the official modeling code's outputs (tests/fixtures/whisper_vq).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "../test_util.h"
#include "symp/core/error.h"
#include "symp/io/audio.h"
#include "symp/nn/tensor_io.h"
#include "symp/speech/mel.h"
#include "symp/speech/whisper_vq.h"

namespace {

namespace fs = std::filesystem;
using symp::speech::WhisperVQ;

std::string fixture(const std::string& name = "") {
  return symp::test::fixtures_dir() + "/whisper_vq/" + name;
}

// max |a - b| / max |b|
double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

// A writable copy of the fixture folder for the bad-input tests.
void copy_fixture(const fs::path& to) {
  for (const char* f : {"config.json", "preprocessor_config.json", "model.safetensors"})
    fs::copy_file(fixture(f), to / f);
  fs::permissions(to / "config.json", fs::perms::owner_write, fs::perm_options::add);
}

}  // namespace

TEST_CASE("speech: WhisperVQ features, pre-VQ states and ids match the official code on a padded batch") {
  auto expected = symp::nn::load_tensors(fixture("expected.safetensors"));
  auto vq = WhisperVQ::open(fixture());
  const auto u1 = symp::io::read_audio(fixture("u1.wav"), 16000).samples;
  const auto u2 = symp::io::read_audio(fixture("u2.wav"), 16000).samples;
  auto out = vq->run_batch({u1, u2});

  REQUIRE(out.features.sizes() == expected["input_features"].sizes());
  CHECK(relative_error(out.features, expected["input_features"]) < 1e-4);
  CHECK(out.feature_mask.equal(expected["attention_mask"]));
  REQUIRE(out.pre_vq.sizes() == expected["pre_vq_hidden"].sizes());
  CHECK(relative_error(out.pre_vq, expected["pre_vq_hidden"]) < 1e-4);
  CHECK(out.token_mask.equal(expected["token_mask"]));
  auto valid = expected["token_mask"].to(torch::kBool);
  CHECK(out.token_ids.masked_select(valid).equal(expected["token_ids"].masked_select(valid)));
}

TEST_CASE("speech: WhisperVQ tokenize gives the valid ids per utterance (43 and 58)") {
  std::ifstream in(fixture("tokens.json"));
  auto reference = nlohmann::json::parse(in)["token_ids"];
  auto vq = WhisperVQ::open(fixture());
  CHECK(vq->config().frame_rate() == Approx(12.5));
  auto tokens = vq->tokenize({symp::io::read_audio(fixture("u1.wav"), 16000).samples,
                              symp::io::read_audio(fixture("u2.wav"), 16000).samples,
                              {}});
  REQUIRE(tokens.size() == 3);
  CHECK(tokens[0] == reference[0].get<std::vector<int64_t>>());
  CHECK(tokens[1] == reference[1].get<std::vector<int64_t>>());
  CHECK(tokens[2].empty());
}

TEST_CASE("speech: Slaney mel filters have unit area in Hz and cover 0-8 kHz") {
  auto f = symp::speech::slaney_mel_filters(400, 128, 0.0, 8000.0, 16000);
  REQUIRE(f.sizes() == torch::IntArrayRef({201, 128}));
  CHECK(f.min().item<double>() >= 0.0);
  // Every filter is non-empty; a triangle's area in Hz is 1. Sampled at the 40 Hz bin spacing the sum
  // approximates it once the triangles span several bins (the upper filters, above ~3.9 kHz).
  CHECK(f.sum(0).min().item<double>() > 0.0);
  auto area = f.sum(0) * 40.0;
  CHECK(area.slice(0, 100).min().item<double>() > 0.9);
  CHECK(area.slice(0, 100).max().item<double>() < 1.1);
}

TEST_CASE(
    "speech: WhisperVQ rejects a folder without weights and a checkpoint that disagrees with the config") {
  symp::test::ScratchDir dir("whisper-vq-bad");
  fs::copy_file(fixture("config.json"), dir.path() / "config.json");
  fs::copy_file(fixture("preprocessor_config.json"), dir.path() / "preprocessor_config.json");
  CHECK_THROWS_WITH(WhisperVQ::open(dir.path().string()), Catch::Contains("model.safetensors"));

  symp::test::ScratchDir bad("whisper-vq-shape");
  copy_fixture(bad.path());
  {
    std::ifstream in(bad.file("config.json"));
    auto config = nlohmann::json::parse(in);
    config["encoder_ffn_dim"] = 96;
    std::ofstream(bad.file("config.json")) << config.dump();
  }
  CHECK_THROWS_WITH(WhisperVQ::open(bad.path().string()),
                    Catch::Contains("fc1.weight") && Catch::Contains("[128, 64]"));

  symp::test::ScratchDir noconfig("whisper-vq-noconfig");
  CHECK_THROWS_AS(WhisperVQ::open(noconfig.path().string()), symp::InputError);
}
