#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "symp/io/jsonl.h"
#include "symp/io/safetensors.h"
#include "symp/nn/bert.h"
#include "symp/text/bertscore.h"

namespace {

const std::string kFixtures = SYMP_SHARED_DIR "/fixtures";

// max |a - b| / max |b| over a tensor's values.
double relative_error(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  double diff = 0.0, scale = 0.0;
  for (size_t i = 0; i < got.size(); ++i) {
    diff = std::max(diff, std::abs(static_cast<double>(got[i]) - want[i]));
    scale = std::max(scale, std::abs(static_cast<double>(want[i])));
  }
  return diff / scale;
}

std::vector<float> flatten(const std::vector<std::vector<float>>& rows) {
  std::vector<float> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return flat;
}

}  // namespace

TEST_CASE("nn: BERT mean-pooled embeddings match the fixture", "[nn][bert]") {
  auto embedder = symp::nn::make_bert_embedder(kFixtures + "/bert");
  auto tokens = symp::io::read_json(kFixtures + "/bert_tokens.json");
  auto sentences = tokens["sentences"].get<std::vector<std::string>>();
  auto rows = embedder->embed(sentences);
  auto file = symp::io::SafetensorsFile::open(kFixtures + "/bert_embeddings.safetensors");
  const auto& expected = file.get("embeddings");
  REQUIRE(expected.shape == std::vector<int64_t>{static_cast<int64_t>(sentences.size()), embedder->dim()});
  CHECK(relative_error(flatten(rows), expected.to_f32()) < 1e-4);
  // A text longer than the 64 positions of the fixture is truncated, not refused.
  std::string long_text;
  for (int i = 0; i < 100; ++i) long_text += "happy ";
  CHECK(embedder->embed({long_text})[0].size() == 32);
  for (const auto& r : rows) {
    double norm = 0.0;
    for (float x : r) norm += static_cast<double>(x) * x;
    CHECK(std::sqrt(norm) == Approx(1.0).epsilon(1e-5));
  }
}

TEST_CASE("nn: DistilBERT hidden states match every layer of the fixture", "[nn][bert]") {
  symp::nn::BertEncoder encoder(kFixtures + "/distilbert");
  auto expected = symp::io::read_json(kFixtures + "/distilbert/expected.json");
  auto states = symp::io::SafetensorsFile::open(kFixtures + "/distilbert/hidden_states.safetensors");
  REQUIRE(encoder.num_layers() == 3);
  for (size_t k = 0; k < expected["input_ids"].size(); ++k) {
    auto ids = expected["input_ids"][k].get<std::vector<int64_t>>();
    auto got = encoder.hidden_states(ids);
    const auto& want = states.get("hidden_" + std::to_string(k));
    REQUIRE(want.shape == std::vector<int64_t>{4, static_cast<int64_t>(ids.size()), 32});
    std::vector<float> flat;
    for (const auto& layer : got) {
      auto f = flatten(layer);
      flat.insert(flat.end(), f.begin(), f.end());
    }
    INFO("sentence " << k);
    CHECK(relative_error(flat, want.to_f32()) < 1e-4);
  }
  // Batched with padding gives the same states as one at a time.
  std::vector<std::vector<int64_t>> all;
  for (const auto& ids : expected["input_ids"]) all.push_back(ids.get<std::vector<int64_t>>());
  auto batched = encoder.layer_states(all, 3, 4);
  auto single = encoder.hidden_states(all[0]);
  CHECK(relative_error(flatten(batched[0]), flatten(single[3])) < 1e-5);
}

TEST_CASE("nn: BERTScore P/R/F match bert-score on the DistilBERT fixture", "[nn][bert]") {
  auto expected = symp::io::read_json(kFixtures + "/distilbert/expected.json");
  auto sentences = expected["sentences"].get<std::vector<std::string>>();
  for (const auto& case_ : expected["bertscore"]) {
    auto encoder = symp::nn::make_bert_token_encoder(kFixtures + "/distilbert", case_["layer"].get<int>());
    auto s = symp::text::bert_score(*encoder, {sentences[case_["cand"].get<size_t>()]},
                                    {sentences[case_["ref"].get<size_t>()]})[0];
    INFO("cand " << case_["cand"] << " ref " << case_["ref"]);
    CHECK(s.precision == Approx(case_["P"].get<double>()).margin(1e-5));
    CHECK(s.recall == Approx(case_["R"].get<double>()).margin(1e-5));
    CHECK(s.f1 == Approx(case_["F"].get<double>()).margin(1e-5));
  }
}

TEST_CASE("nn: the BERT loader refuses a missing or misshapen tensor", "[nn][bert]") {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / "symp_test_bert_strict";
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(kFixtures + "/bert/config.json", dir / "config.json");
  fs::copy_file(kFixtures + "/bert/vocab.txt", dir / "vocab.txt");
  auto model = symp::io::SafetensorsFile::open(kFixtures + "/bert/model.safetensors");
  symp::io::SafetensorsWriter writer;
  for (const auto& name : model.names()) {
    if (name == "encoder.layer.1.output.dense.bias") continue;  // drop one tensor
    const auto& v = model.get(name);
    writer.add(name, v.dtype, v.shape, v.data, v.nbytes);
  }
  writer.write((dir / "model.safetensors").string());
  REQUIRE_THROWS_WITH(symp::nn::BertEncoder(dir.string()),
                      Catch::Contains("encoder.layer.1.output.dense.bias") && Catch::Contains("missing"));
  // An unknown extra tensor is an error too; a pooler is a known extra.
  writer.add_f32("encoder.layer.1.output.dense.bias", {32}, std::vector<float>(32, 0.f));
  writer.add_f32("encoder.layer.9.extra", {1}, {0.f});
  writer.write((dir / "model.safetensors").string());
  REQUIRE_THROWS_WITH(symp::nn::BertEncoder(dir.string()), Catch::Contains("encoder.layer.9.extra"));
  fs::remove_all(dir);
}

TEST_CASE("nn: symp embed writes embeddings and ids", "[nn][bert][cli]") {
  namespace fs = std::filesystem;
  auto dir = fs::temp_directory_path() / "symp_test_embed";
  fs::remove_all(dir);
  fs::create_directories(dir);
  {
    std::ofstream in(dir / "in.jsonl");
    in << "\"Can you help me today?\"\n\"\"\n\"I'm SO happy, the news is great!\"\n";
  }
  std::string cmd = std::string(SYMP_BINARY) + " embed --model " + kFixtures + "/bert --in " +
                    (dir / "in.jsonl").string() + " --out " + (dir / "out.safetensors").string() +
                    " --ids-out " + (dir / "ids.jsonl").string() + " 2>/dev/null";
  REQUIRE(std::system(cmd.c_str()) == 0);
  auto out_file = symp::io::SafetensorsFile::open((dir / "out.safetensors").string());
  const auto& out = out_file.get("embeddings");
  CHECK(out.shape == std::vector<int64_t>{3, 32});
  CHECK(out.dtype == symp::io::DType::F32);
  auto ids = symp::io::read_jsonl((dir / "ids.jsonl").string());
  REQUIRE(ids.size() == 3);
  CHECK(ids[0]["input_ids"].get<std::vector<int64_t>>() == std::vector<int64_t>{2, 15, 16, 17, 18, 14, 8, 3});
  CHECK(ids[1]["input_ids"].get<std::vector<int64_t>>() == std::vector<int64_t>{2, 3});
  auto expected_file = symp::io::SafetensorsFile::open(kFixtures + "/bert_embeddings.safetensors");
  auto want = expected_file.get("embeddings").to_f32();
  auto got = out.to_f32();
  CHECK(relative_error(std::vector<float>(got.begin(), got.begin() + 32),
                       std::vector<float>(want.begin(), want.begin() + 32)) < 1e-4);
  fs::remove_all(dir);
}
