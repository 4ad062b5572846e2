// HiFT vocoder against the official code's outputs (tests/fixtures/hift).
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "../test_util.h"
#include "symp/core/error.h"
#include "symp/nn/tensor_io.h"
#include "symp/speech/glm4voice_checkpoint.h"
#include "symp/speech/hift.h"

namespace {

using symp::speech::Hift;
using symp::speech::HiftConfig;

std::string fixture(const std::string& name = "") {
  return symp::test::fixtures_dir() + "/hift/" + name;
}

double relative_error(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a - b).abs().max() / b.abs().max()).item<double>();
}

HiftConfig fixture_config() {
  std::ifstream in(fixture("config.json"));
  return HiftConfig::from_json(nlohmann::json::parse(in), fixture("config.json"));
}

}  // namespace

TEST_CASE("speech: HiFT F0 and speech match the official code, from hift.pt and from safetensors") {
  auto expected = symp::nn::load_tensors(fixture("expected.safetensors"));
  const auto config = fixture_config();
  CHECK(config.samples_per_frame() == 256);
  for (const char* weights : {"hift.pt", "hift.safetensors"}) {
    INFO(weights);
    auto hift = Hift::open(config, fixture(weights));
    auto f0 = hift->predict_f0(expected["mel"]);
    REQUIRE(f0.sizes() == expected["f0"].sizes());
    CHECK(relative_error(f0, expected["f0"]) < 1e-4);
    auto generator = symp::speech::make_generator(7);
    // The excitation has random phases and noise: feed the recorded one.
    auto out = hift->forward(expected["mel"], generator, {}, expected["source"]);
    REQUIRE(out.speech.sizes() == expected["speech"].sizes());
    CHECK(relative_error(out.speech, expected["speech"]) < 1e-4);
  }
}

TEST_CASE("speech: HiFT's own excitation is seeded, sized 256 samples per frame and bounded") {
  auto expected = symp::nn::load_tensors(fixture("expected.safetensors"));
  auto hift = Hift::open(fixture_config(), fixture("hift.safetensors"));
  auto g1 = symp::speech::make_generator(3), g2 = symp::speech::make_generator(3);
  auto a = hift->forward(expected["mel"], g1), b = hift->forward(expected["mel"], g2);
  CHECK(a.source.sizes() == expected["source"].sizes());
  CHECK(a.speech.equal(b.speech));
  CHECK(a.speech.abs().max().item<double>() <= 0.99 + 1e-6);
  // Same F0 path as the recorded run: the excitation's spread matches to within a few percent.
  CHECK(a.source.std().item<double>() == Approx(expected["source"].std().item<double>()).epsilon(0.2));
  // The cache replaces the start of the excitation (streaming joins).
  auto g3 = symp::speech::make_generator(4);
  auto cache = torch::full({1, 1, 256}, 0.5f);
  auto c = hift->forward(expected["mel"], g3, cache);
  CHECK(c.source.narrow(2, 0, 256).equal(cache));
}

TEST_CASE("speech: torch checkpoint reader folds weight norm and rejects mismatched shapes") {
  auto pt = symp::speech::read_torch_checkpoint(fixture("hift.pt"));
  auto st = symp::nn::load_tensors(fixture("hift.safetensors"));
  REQUIRE(pt.size() == st.size());
  for (auto& [name, t] : st) {
    REQUIRE(pt.count(name));
    CHECK(pt[name].equal(t));
  }
  symp::speech::fold_weight_norm(pt);
  CHECK(pt.count("conv_pre.weight"));
  CHECK_FALSE(pt.count("conv_pre.weight_g"));
  auto config = fixture_config();
  config.base_channels = 64;
  CHECK_THROWS_WITH(Hift::open(config, fixture("hift.pt")), Catch::Contains("conv_pre.weight"));
  CHECK_THROWS_AS(symp::speech::read_torch_checkpoint(fixture("config.json")), symp::InputError);
}
