#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "symp/core/error.h"
#include "symp/io/jsonl.h"
#include "symp/nn/glm.h"
#include "symp/nn/tensor_io.h"

#include "glm_fixtures.h"

namespace {

namespace fs = std::filesystem;
using namespace symp::test::glm;

fs::path scratch(const std::string& name) {
  return symp::test::glm::scratch("glm", name);
}

}  // namespace

TEST_CASE("nn: GLM in the ChatGLM layout matches the reference logits", "[nn][glm]") {
  auto model = symp::nn::load_glm(kFixtures + "glm_chatglm");
  torch::NoGradGuard no_grad;
  auto logits = model->forward(fixture_ids()).squeeze(0);
  CHECK(relative_error(logits, fixture_logits("glm_logits.safetensors")) <= 1e-4);
}

TEST_CASE("nn: GLM in the transformers GlmForCausalLM layout matches the reference logits", "[nn][glm]") {
  auto model = symp::nn::load_glm(kFixtures + "glm_hf");
  CHECK(model->config().layout == symp::nn::GlmLayout::HfGlm);
  CHECK(model->config().rotary_dim == 8);
  torch::NoGradGuard no_grad;
  auto logits = model->forward(fixture_ids()).squeeze(0);
  CHECK(relative_error(logits, fixture_logits("glm_logits.safetensors")) <= 1e-4);
}

TEST_CASE("nn: GLM incremental decoding with a KV cache equals the full forward", "[nn][glm]") {
  auto model = symp::nn::load_glm(kFixtures + "glm_chatglm");
  torch::NoGradGuard no_grad;
  auto ids = fixture_ids();
  auto full = model->forward(ids);
  symp::nn::KvCache cache;
  std::vector<torch::Tensor> steps{model->forward(ids.narrow(1, 0, 4), &cache)};  // a prompt, then
  steps.push_back(model->forward(ids.narrow(1, 4, 3), &cache));                   // a chunk, then
  for (int64_t t = 7; t < ids.size(1); ++t) steps.push_back(model->forward(ids.narrow(1, t, 1), &cache));
  CHECK(cache.length == ids.size(1));
  CHECK(relative_error(torch::cat(steps, 1), full) <= 1e-5);
  // The buffers grew geometrically (4, 8, 16, ...) and hold every position written so far.
  CHECK(cache.keys[0].size(2) >= ids.size(1));
  CHECK(cache.keys[0].size(1) == model->config().num_kv_heads);
}

TEST_CASE("nn: GLM KV cache reserved once is written in place and survives growing past it", "[nn][glm]") {
  auto model = symp::nn::load_glm(kFixtures + "glm_chatglm");
  torch::NoGradGuard no_grad;
  auto ids = fixture_ids();
  const int64_t n = ids.size(1);
  REQUIRE(n >= 8);
  auto full = model->forward(ids);

  symp::nn::KvCache cache;
  cache.reserve(n);
  std::vector<torch::Tensor> steps{model->forward(ids.narrow(1, 0, 2), &cache)};
  const void* first = cache.keys[1].data_ptr();
  CHECK(cache.keys[1].size(2) == n);
  for (int64_t t = 2; t < n; ++t) steps.push_back(model->forward(ids.narrow(1, t, 1), &cache));
  CHECK(cache.keys[1].data_ptr() == first);  // never reallocated
  CHECK(relative_error(torch::cat(steps, 1), full) <= 1e-5);

  // Too small a reservation: a multi-token chunk that crosses the capacity grows the buffers.
  symp::nn::KvCache small;
  small.reserve(3);
  std::vector<torch::Tensor> parts{model->forward(ids.narrow(1, 0, 2), &small)};
  parts.push_back(model->forward(ids.narrow(1, 2, n - 2), &small));
  CHECK(small.keys[0].size(2) >= n);
  CHECK(relative_error(torch::cat(parts, 1), full) <= 1e-5);

  // Another batch size against a filled cache is a usage error, not a silent broadcast.
  CHECK_THROWS_AS(model->forward(ids.repeat({2, 1}).narrow(1, 0, 1), &small), symp::UsageError);
}

TEST_CASE("nn: GLM KV cache refuses to run with gradients", "[nn][glm]") {
  auto model = symp::nn::load_glm(kFixtures + "glm_chatglm");
  for (auto& p : model->parameters()) p.requires_grad_(true);
  symp::nn::KvCache cache;
  CHECK_THROWS_AS(model->forward(fixture_ids(), &cache), symp::UsageError);
}

TEST_CASE("nn: GLM save then load gives the same model", "[nn][glm]") {
  auto model = symp::nn::load_glm(kFixtures + "glm_hf");
  auto dir = scratch("save");
  symp::nn::save_glm(*model, dir.string());
  auto again = symp::nn::load_glm(dir.string());
  CHECK(again->config().layout == symp::nn::GlmLayout::ChatGlm);
  torch::NoGradGuard no_grad;
  CHECK(torch::equal(again->forward(fixture_ids()), model->forward(fixture_ids())));
  fs::remove_all(dir);
}

TEST_CASE("nn: GLM loading is strict about missing, unexpected and mis-shaped tensors", "[nn][glm]") {
  auto tensors = symp::nn::load_tensors(kFixtures + "glm_chatglm/model.safetensors");
  auto dir = scratch("strict");
  fs::copy_file(kFixtures + "glm_chatglm/config.json", dir / "config.json");
  auto expect_error = [&](std::map<std::string, torch::Tensor> changed, const std::string& needle) {
    symp::nn::save_tensors((dir / "model.safetensors").string(), changed);
    try {
      symp::nn::load_glm(dir.string());
      FAIL("loaded a bad checkpoint");
    } catch (const symp::Error& e) {  // rethrown with context: the kind stays, the C++ type does not
      INFO(e.what());
      CHECK(e.kind() == symp::ErrorKind::Input);
      CHECK(std::string(e.what()).find(needle) != std::string::npos);
    }
  };
  auto missing = tensors;
  missing.erase("transformer.encoder.layers.1.mlp.dense_4h_to_h.weight");
  expect_error(missing, "transformer.encoder.layers.1.mlp.dense_4h_to_h.weight");
  auto unexpected = tensors;
  unexpected["transformer.encoder.layers.2.input_layernorm.weight"] = torch::ones({64});
  expect_error(unexpected, "transformer.encoder.layers.2.input_layernorm.weight");
  auto misshaped = tensors;
  misshaped["transformer.encoder.layers.0.self_attention.dense.weight"] = torch::zeros({64, 32});
  expect_error(misshaped, "transformer.encoder.layers.0.self_attention.dense.weight");
  // A config asking for a variant GLM-4 does not use is refused by field name.
  auto config = symp::io::read_json(kFixtures + "glm_chatglm/config.json");
  config["add_bias_linear"] = true;
  symp::io::write_json_atomic((dir / "config.json").string(), config);
  symp::nn::save_tensors((dir / "model.safetensors").string(), tensors);
  CHECK_THROWS_WITH(symp::nn::load_glm(dir.string()), Catch::Contains("add_bias_linear"));
  fs::remove_all(dir);
}

TEST_CASE("nn: GLM 9B configuration builds (on the meta device) with glm-4-voice-9b's parameter count",
          "[nn][glm]") {
  auto config = symp::nn::GlmConfig::glm4_voice_9b();
  symp::nn::GlmModel model(config, torch::TensorOptions().dtype(torch::kBFloat16).device(torch::kMeta));
  int64_t count = 0;
  for (const auto& p : model->parameters()) count += p.numel();
  CHECK(count == config.num_parameters());
  CHECK(count > 9'450'000'000);  // "about 9.5 B" (PAPER.md section 4)
  CHECK(count < 9'600'000'000);
  auto tiny = symp::nn::GlmConfig::tiny(4096);
  CHECK(tiny.num_parameters() > 1'000'000);
  CHECK(tiny.num_parameters() < 10'000'000);
}

TEST_CASE("nn: symp logits writes float32 logits [T, vocab] matching the reference", "[nn][glm][cli]") {
  auto dir = scratch("cli");
  const auto out = (dir / "logits.safetensors").string();
  const std::string command = std::string(SYMP_BINARY) + " --log-level warn logits --model " + kFixtures +
                              "glm_chatglm --adapter " + kFixtures +
                              "lora_chatglm --ids 1,20,33,255,7,7,90,12,3,140,66 --out " + out;
  REQUIRE(std::system(command.c_str()) == 0);
  auto logits = symp::nn::load_tensors(out).at("logits");
  CHECK(logits.scalar_type() == torch::kFloat32);
  CHECK((logits.sizes().vec() == std::vector<int64_t>{11, 256}));
  CHECK(relative_error(logits, fixture_logits("glm_lora_logits.safetensors")) <= 1e-4);
  const std::string bad = std::string(SYMP_BINARY) + " --log-level warn logits --model " + kFixtures +
                          "glm_chatglm --ids 1,x --out " + out + " 2>/dev/null";
  CHECK(WEXITSTATUS(std::system(bad.c_str())) == 2);
  fs::remove_all(dir);
}

TEST_CASE("nn: GLM product-code rows share one vector per factor value", "[nn][glm]") {
  auto config = symp::nn::GlmConfig::tiny(40);
  symp::nn::GlmModel model(config);
  model->init_weights(1);
  const auto before = model->embedding_weight().clone();
  const auto parameters = model->named_parameters();
  const auto* output = parameters.find("transformer.output_layer.weight");
  REQUIRE(output != nullptr);  // the tiny GLM's output layer is its own
  const auto output_before = output->clone();
  // ids 10..33: a product code with radices {2, 3, 4}, id - 10 = (a x 3 + b) x 4 + c.
  model->init_product_rows(10, {2, 3, 4}, 7);
  auto check = [](const torch::Tensor& w, const torch::Tensor& untouched) {
    auto row = [&](int a, int b, int c) { return w[10 + (a * 3 + b) * 4 + c]; };
    // Rows outside the range keep their init_weights values.
    CHECK(torch::equal(w.narrow(0, 0, 10), untouched.narrow(0, 0, 10)));
    CHECK(torch::equal(w.narrow(0, 34, 6), untouched.narrow(0, 34, 6)));
    // Changing one factor moves a row by the same vector whatever the other factors are.
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 3; ++b) {
        CHECK(torch::allclose(row(a, b, 3) - row(a, b, 0), row(0, 0, 3) - row(0, 0, 0), 1e-6, 1e-7));
        CHECK(torch::allclose(row(1, b, 2) - row(0, b, 2), row(1, 0, 0) - row(0, 0, 0), 1e-6, 1e-7));
      }
    // Different factor values give different rows; the spread is about init_weights' 0.02.
    CHECK_FALSE(torch::allclose(row(0, 0, 0), row(0, 0, 1)));
    const double std = w.narrow(0, 10, 24).std().item<double>();
    CHECK(std > 0.01);
    CHECK(std < 0.04);
  };
  check(model->embedding_weight(), before);
  check(*output, output_before);
  CHECK_FALSE(torch::allclose(model->embedding_weight().narrow(0, 10, 24), output->narrow(0, 10, 24)));
  CHECK_THROWS_AS(model->init_product_rows(30, {2, 3, 4}, 7), symp::InputError);
  CHECK_THROWS_AS(model->init_product_rows(0, {2, 0}, 7), symp::UsageError);
}

TEST_CASE("nn: projected product-code rows are the additive least-squares fit of free rows", "[nn][glm]") {
  auto config = symp::nn::GlmConfig::tiny(40);
  symp::nn::GlmModel model(config);
  model->init_weights(1);
  model->init_product_rows(10, {2, 3, 4}, 7);
  const auto parameters = model->named_parameters();
  const auto* output = parameters.find("transformer.output_layer.weight");
  REQUIRE(output != nullptr);
  // Rows already of the additive form are left as they are.
  const auto tied = model->embedding_weight().clone();
  model->project_product_rows(10, {2, 3, 4});
  CHECK(torch::allclose(model->embedding_weight(), tied, 1e-6, 1e-7));
  // Free rows (as after an optimiser step) are replaced by their fit, computed here independently by
  // least squares on a design matrix: one column for the mean and one per factor value.
  {
    torch::NoGradGuard no_grad;
    model->embedding_weight().narrow(0, 10, 24).normal_(0.0, 0.02);
    output->narrow(0, 10, 24).normal_(0.0, 0.02);
  }
  const auto free_in = model->embedding_weight().clone(), free_out = output->clone();
  model->project_product_rows(10, {2, 3, 4});
  auto design = torch::zeros({24, 1 + 2 + 3 + 4}, torch::kFloat64);
  for (int a = 0; a < 2; ++a)
    for (int b = 0; b < 3; ++b)
      for (int c = 0; c < 4; ++c) {
        const int id = (a * 3 + b) * 4 + c;
        design[id][0] = 1.0;
        design[id][1 + a] = 1.0;
        design[id][3 + b] = 1.0;
        design[id][6 + c] = 1.0;
      }
  auto fit = [&](const torch::Tensor& rows) {  // design (design^+ rows), with the pseudo-inverse
    return design.mm(torch::pinverse(design).mm(rows.to(torch::kFloat64)));
  };
  CHECK(torch::allclose(model->embedding_weight().narrow(0, 10, 24).to(torch::kFloat64),
                        fit(free_in.narrow(0, 10, 24)), 1e-5, 1e-7));
  CHECK(torch::allclose(output->narrow(0, 10, 24).to(torch::kFloat64), fit(free_out.narrow(0, 10, 24)), 1e-5,
                        1e-7));
  // The other rows are untouched, and a second projection changes nothing.
  CHECK(torch::equal(model->embedding_weight().narrow(0, 0, 10), free_in.narrow(0, 0, 10)));
  CHECK(torch::equal(output->narrow(0, 34, 6), free_out.narrow(0, 34, 6)));
  const auto once = model->embedding_weight().clone();
  model->project_product_rows(10, {2, 3, 4});
  CHECK(torch::allclose(model->embedding_weight(), once, 1e-6, 1e-7));
  CHECK_THROWS_AS(model->project_product_rows(30, {2, 3, 4}), symp::InputError);
}

TEST_CASE("nn: the loss over reply positions only equals the loss from the whole logits", "[nn][glm]") {
  auto config = symp::nn::GlmConfig::tiny(50);
  symp::nn::GlmModel model(config);
  model->init_weights(3);
  torch::manual_seed(5);
  auto ids = torch::randint(0, 50, {3, 17}, torch::kLong);
  // A reply-only mask: each row's targets start at a different position; the last row has none.
  auto mask = torch::zeros({3, 17}, torch::kBool);
  mask[0].narrow(0, 6, 11).fill_(true);
  mask[1].narrow(0, 12, 3).fill_(true);
  auto gradients = [&](bool masked) {
    model->zero_grad();
    auto [sum, count] = masked ? symp::nn::masked_next_token_loss(*model, ids, mask)
                               : symp::nn::next_token_loss(model->forward(ids), ids, mask);
    sum.backward();
    std::vector<torch::Tensor> grads{sum.detach().reshape({1}), torch::tensor({static_cast<float>(count)})};
    for (const auto& p : model->parameters()) grads.push_back(p.grad().clone().reshape({-1}));
    return torch::cat(grads);
  };
  auto whole = gradients(false), masked = gradients(true);
  CHECK(whole[1].item<float>() == 14);  // 11 + 3 targets
  CHECK(masked[1].item<float>() == whole[1].item<float>());
  CHECK(std::abs(masked[0].item<double>() - whole[0].item<double>()) <=
        1e-5 * std::abs(whole[0].item<double>()));
  CHECK(relative_error(masked, whole) <= 1e-5);
  CHECK(masked.narrow(0, 2, masked.size(0) - 2).abs().sum().item<double>() > 0);
}
