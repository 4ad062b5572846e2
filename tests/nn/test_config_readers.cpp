// The JSON config readers of model folders (GLM-4, BERT, PEFT LoRA, WhisperVQ) refuse a wrong type, an
// absent field or a size no model has with one InputError naming the file and the field; the fixtures as
// transformers and PEFT wrote them still load. Inputs the fuzzer (target model_configs) found are
// replayed by test_fuzz_replay.cpp.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "../test_util.h"
#include "symp/core/error.h"
#include "symp/io/jsonl.h"
#include "symp/nn/bert_config.h"
#include "symp/nn/glm_config.h"
#include "symp/nn/lora_config.h"
#include "symp/speech/flow_config.h"
#include "symp/speech/hift_config.h"
#include "symp/speech/whisper_vq_config.h"

namespace fs = std::filesystem;
using Json = nlohmann::json;
using Catch::Matchers::Contains;
using symp::test::fixtures_dir;
using symp::test::ScratchDir;

namespace {

Json fixture_json(const std::string& rel) {
  return symp::io::read_json((fs::path(fixtures_dir()) / rel).string());
}

std::string write(const ScratchDir& dir, const std::string& name, const Json& j) {
  std::ofstream(dir.file(name)) << j.dump();
  return dir.file(name);
}

// The message of the InputError `fn` throws ("" when it throws none).
template <class Fn>
std::string input_error(Fn&& fn) {
  try {
    fn();
  } catch (const symp::InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("config readers: PEFT adapter_config.json fields of the wrong type name the field", "[configs]") {
  ScratchDir dir("lora-config");
  const Json good = fixture_json("lora_hf_peft/adapter_config.json");
  CHECK(symp::nn::read_lora_config(write(dir, "ok.json", good)).rank > 0);

  Json no_type = good;
  no_type.erase("peft_type");
  const std::string path = write(dir, "no-type.json", no_type);
  CHECK_THAT(input_error([&] { symp::nn::read_lora_config(path); }),
             Contains(path) && Contains("'peft_type' = (absent)"));

  const std::vector<std::pair<std::string, Json>> bad = {
      {"r", 2.5},          {"r", "8"},        {"target_modules", Json::array({1, "q_proj"})},
      {"use_dora", "yes"}, {"use_rslora", 1}, {"lora_alpha", "16"}};
  for (const auto& [field, value] : bad) {
    Json j = good;
    j[field] = value;
    INFO(field << " = " << value.dump());
    CHECK_THAT(input_error([&] { symp::nn::read_lora_config(write(dir, "bad.json", j)); }),
               Contains("'" + field + "'"));
  }
  CHECK_THAT(input_error([&] { symp::nn::read_lora_config(write(dir, "array.json", Json::array())); }),
             Contains("expected a JSON object"));
}

TEST_CASE("config readers: BERT config.json sizes and types are checked by field", "[configs]") {
  ScratchDir dir("bert-config");
  for (const char* model : {"bert", "distilbert"}) {
    const auto c = symp::nn::read_bert_config((fs::path(fixtures_dir()) / model / "config.json").string());
    CHECK(c.hidden % c.heads == 0);
  }
  const Json good = fixture_json("bert/config.json");
  const std::vector<std::pair<std::string, Json>> bad = {
      {"hidden_size", 1e30},        {"hidden_size", 2.5}, {"vocab_size", -3},
      {"layer_norm_eps", "x"},      {"hidden_act", 7},    {"num_hidden_layers", nullptr},
      {"model_type", Json::array()}};
  for (const auto& [field, value] : bad) {
    Json j = good;
    j[field] = value;
    INFO(field << " = " << value.dump());
    CHECK_THAT(input_error([&] { symp::nn::read_bert_config(write(dir, "config.json", j)); }),
               Contains("'" + field + "'"));
  }
  CHECK_THAT(input_error([&] { symp::nn::read_bert_config(write(dir, "config.json", Json(3))); }),
             Contains("expected a JSON object"));
}

TEST_CASE("config readers: WhisperVQ sizes outside what a model can have are refused by field", "[configs]") {
  const Json config = fixture_json("whisper_vq/config.json");
  const Json pre = fixture_json("whisper_vq/preprocessor_config.json");
  {
    ScratchDir dir("whisper-config");
    write(dir, "config.json", config);
    write(dir, "preprocessor_config.json", pre);
    CHECK(symp::speech::WhisperVQConfig::load(dir.path().string()).samples_per_token() > 0);
  }
  const std::vector<std::tuple<std::string, std::string, Json>> bad = {
      {"config.json", "d_model", 1e30},
      {"config.json", "encoder_ffn_dim", 0},
      {"config.json", "pooling_kernel_size", -1},
      {"config.json", "quantize_vocab_size", 4294967296.0},
      {"preprocessor_config.json", "hop_length", 1 << 20},
      {"preprocessor_config.json", "sampling_rate", 2.5},
      {"preprocessor_config.json", "chunk_length", 0}};
  for (const auto& [file, field, value] : bad) {
    ScratchDir dir("whisper-config-bad");
    Json c = config, p = pre;
    (file == "config.json" ? c : p)[field] = value;
    write(dir, "config.json", c);
    write(dir, "preprocessor_config.json", p);
    INFO(file << ": " << field << " = " << value.dump());
    const std::string message =
        input_error([&] { symp::speech::WhisperVQConfig::load(dir.path().string()); });
    CHECK_THAT(message, Contains(file));
    CHECK_THAT(message, Contains(field == "hop_length" ? "samples per token" : field));
  }
}

TEST_CASE("config readers: GLM-4 config.json sizes that would overflow the parameter count are refused",
          "[configs]") {
  for (const char* model : {"glm_chatglm", "glm_hf"}) {
    const auto c = symp::nn::GlmConfig::from_json(fixture_json(std::string(model) + "/config.json"), model);
    CHECK(c.num_parameters() > 0);
  }
  const Json hf = fixture_json("glm_hf/config.json");
  const std::vector<std::pair<std::string, Json>> bad = {{"num_hidden_layers", int64_t(1) << 40},
                                                         {"hidden_size", 18446744073709551615ull},
                                                         {"head_dim", 100000},
                                                         {"vocab_size", 3.5}};
  for (const auto& [field, value] : bad) {
    Json j = hf;
    j[field] = value;
    INFO(field << " = " << value.dump());
    CHECK_THAT(input_error([&] { symp::nn::GlmConfig::from_json(j, "config.json"); }),
               Contains("'" + field + "'"));
  }
  Json rope = hf;
  rope["rope_parameters"]["partial_rotary_factor"] = 1e300;  // head_dim x factor would overflow the cast
  CHECK_THAT(input_error([&] { symp::nn::GlmConfig::from_json(rope, "config.json"); }),
             Contains("'partial_rotary_factor'"));
}

TEST_CASE("config readers: HiFT and flow arguments a vocoder cannot have are refused by field", "[configs]") {
  const Json hift = fixture_json("hift/config.json");
  CHECK(symp::speech::HiftConfig::from_json(hift, "hift.json").samples_per_frame() == 256);
  const std::vector<std::pair<Json, std::string>> bad_hift = {
      {{{"upsample_rates", {1e30, 8}}}, "'upsample_rates[0]'"},
      {{{"resblock_dilation_sizes", {{1, 3, 5}, {1, 2.5, 5}, {1, 3, 5}}}}, "'resblock_dilation_sizes[1][1]'"},
      {{{"upsample_rates", std::vector<int>(40, 2)},
        {"upsample_kernel_sizes", std::vector<int>(40, 4)},
        {"source_resblock_kernel_sizes", std::vector<int>(40, 3)},
        {"source_resblock_dilation_sizes", std::vector<std::vector<int>>(40, {1})}},
       "at most 16 upsampling stages"},
      {{{"upsample_rates", {1024, 1024}}}, "samples per frame"},
      {{{"resblock_dilation_sizes", {{1, 3, 5}, {0}, {1, 3, 5}}}}, "a dilation = 0"},
      {{{"base_channels", 0}}, "base_channels = 0"}};
  for (const auto& [patch, expected] : bad_hift) {
    Json j = hift;
    j.update(patch);
    INFO(patch.dump());
    CHECK_THAT(input_error([&] { symp::speech::HiftConfig::from_json(j, "hift.json"); }),
               Contains("hift.json") && Contains(expected));
  }

  const Json flow = fixture_json("flow/config.json");
  CHECK(symp::speech::FlowConfig::from_json(flow, "flow.json").mel_frames(30) > 0);
  const std::vector<std::pair<std::string, std::string>> bad_flow = {
      {"/encoder/attention_heads", "'attention_heads' = 0"},
      {"/estimator/channels", "'channels[0]'"},
      {"/flow/input_frame_rate", "'input_frame_rate' = 0"},
      {"/decoder", "flow block 'decoder' missing"}};
  for (const auto& [pointer, expected] : bad_flow) {
    Json j = flow;
    const Json::json_pointer at(pointer);
    j[at] = pointer == "/estimator/channels" ? Json::array({2.5}) : pointer == "/decoder" ? Json(3) : Json(0);
    INFO(pointer);
    CHECK_THAT(input_error([&] { symp::speech::FlowConfig::from_json(j, "flow.json"); }),
               Contains("flow.json") && Contains(expected));
  }
}
