#include <catch2/catch.hpp>

#include <filesystem>

#include "symp/core/error.h"
#include "symp/io/jsonl.h"
#include "symp/nn/glm.h"
#include "symp/nn/lora.h"
#include "symp/nn/tensor_io.h"

#include "glm_fixtures.h"

namespace {

namespace fs = std::filesystem;
using namespace symp::test::glm;

fs::path scratch(const std::string& name) {
  return symp::test::glm::scratch("lora", name);
}

}  // namespace

TEST_CASE("nn: LoRA adapter in ChatGLM names matches the reference logits, merged and unmerged",
          "[nn][lora]") {
  auto model = symp::nn::load_glm(kFixtures + "glm_chatglm");
  model->eval();
  torch::NoGradGuard no_grad;
  auto want = fixture_logits("glm_lora_logits.safetensors");
  auto base = model->forward(fixture_ids()).squeeze(0);
  CHECK(relative_error(base, want) > 1e-2);  // the adapter really changes the output
  auto config = symp::nn::load_adapter(*model, kFixtures + "lora_chatglm");
  CHECK(config.rank == 4);
  CHECK(config.scale() == Approx(2.0));
  CHECK(relative_error(model->forward(fixture_ids()).squeeze(0), want) <= 1e-4);
  model->merge_adapters();
  CHECK(relative_error(model->forward(fixture_ids()).squeeze(0), want) <= 1e-4);
  model->unmerge_adapters();
  CHECK(relative_error(model->forward(fixture_ids()).squeeze(0), want) <= 1e-4);
  model->remove_adapters();
  CHECK(relative_error(model->forward(fixture_ids()).squeeze(0), fixture_logits("glm_logits.safetensors")) <=
        1e-5);
}

TEST_CASE("nn: LoRA adapter written by PEFT on separate q/k/v maps exactly onto the fused projection",
          "[nn][lora]") {
  auto model = symp::nn::load_glm(kFixtures + "glm_hf");
  model->eval();
  symp::nn::load_adapter(*model, kFixtures + "lora_hf_peft");
  for (auto& [name, linear] : model->linears()) {
    if (name.find("query_key_value") != std::string::npos) {
      CHECK(linear->lora_a().size(0) == 12);  // q, k and v adapters of rank 4 stacked
      CHECK(linear->block_rows.size() == 3);
    }
  }
  torch::NoGradGuard no_grad;
  auto logits = model->forward(fixture_ids()).squeeze(0);
  CHECK(relative_error(logits, fixture_logits("glm_hf_peft_logits.safetensors")) <= 1e-4);
  model->merge_adapters();
  CHECK(relative_error(model->forward(fixture_ids()).squeeze(0), logits) <= 1e-5);
}

TEST_CASE("nn: LoRA adapters written by symp read back identically in both layouts", "[nn][lora]") {
  auto dir = scratch("roundtrip");
  for (const std::string base : {"glm_chatglm", "glm_hf"}) {
    auto model = symp::nn::load_glm(kFixtures + base);
    model->eval();
    symp::nn::LoraConfig config;
    config.rank = 3;
    config.alpha = 6;
    symp::nn::attach_lora(*model, config);
    for (auto& [name, linear] : model->linears()) {  // non-zero B so the adapter matters
      if (linear->has_adapter()) {
        torch::NoGradGuard no_grad;
        linear->lora_b().normal_(0, 0.1);
      }
    }
    torch::NoGradGuard no_grad;
    auto want = model->forward(fixture_ids());
    symp::nn::save_adapter(*model, config, (dir / base).string(), base);
    auto json = symp::io::read_json((dir / base / "adapter_config.json").string());
    CHECK(json["peft_type"] == "LORA");
    CHECK(json["r"] == 3);
    auto keys = symp::nn::load_tensors((dir / base / "adapter_model.safetensors").string());
    const std::string probe = base == "glm_hf"
                                  ? "base_model.model.model.layers.1.self_attn.k_proj.lora_B.weight"
                                  : "base_model.model.transformer.encoder.layers.1.self_attention."
                                    "query_key_value.lora_B.weight";
    CHECK(keys.count(probe) == 1);
    auto fresh = symp::nn::load_glm(kFixtures + base);
    fresh->eval();
    auto read = symp::nn::load_adapter(*fresh, (dir / base).string());
    CHECK(read.targets.size() >= 4);
    CHECK(relative_error(fresh->forward(fixture_ids()), want) <= 1e-5);
    // And the PEFT-written adapter survives a write and a read.
    auto peft = symp::nn::load_glm(kFixtures + "glm_hf");
    peft->eval();
    auto peft_config = symp::nn::load_adapter(*peft, kFixtures + "lora_hf_peft");
    symp::nn::save_adapter(*peft, peft_config, (dir / "peft_again").string());
    auto peft_again = symp::nn::load_glm(kFixtures + "glm_hf");
    peft_again->eval();
    symp::nn::load_adapter(*peft_again, (dir / "peft_again").string());
    auto original = symp::nn::load_tensors(kFixtures + "lora_hf_peft/adapter_model.safetensors");
    auto rewritten = symp::nn::load_tensors((dir / "peft_again/adapter_model.safetensors").string());
    CHECK(original.size() == rewritten.size());
    for (const auto& [key, value] : original) CHECK(torch::equal(rewritten.at(key), value));
  }
  fs::remove_all(dir);
}

TEST_CASE("nn: LoRA gradients match finite differences on a tiny layer", "[nn][lora]") {
  torch::manual_seed(7);
  auto options = torch::TensorOptions().dtype(torch::kFloat64);
  symp::nn::LoraLinear layer(5, 4, true, options);
  {
    torch::NoGradGuard no_grad;
    layer->weight().normal_();
    layer->bias().normal_();
  }
  layer->add_adapter(2, 1.5, 0.0);
  {
    torch::NoGradGuard no_grad;
    layer->lora_a().set_data(layer->lora_a().to(torch::kFloat64));
    layer->lora_b().set_data(torch::randn({4, 2}, options));
  }
  auto x = torch::randn({3, 5}, options);
  auto target = torch::randn({3, 4}, options);
  auto loss_of = [&] { return (layer->forward(x) - target).pow(2).sum().tanh(); };
  auto loss = loss_of();
  loss.backward();
  for (auto* p : {&layer->lora_a(), &layer->lora_b()}) {
    REQUIRE(p->grad().defined());
    auto numeric = torch::zeros_like(*p);
    torch::NoGradGuard no_grad;
    for (int64_t i = 0; i < p->numel(); ++i) {
      auto flat = p->view({-1});
      const double saved = flat[i].item<double>(), h = 1e-6;
      flat[i] = saved + h;
      const double up = loss_of().item<double>();
      flat[i] = saved - h;
      const double down = loss_of().item<double>();
      flat[i] = saved;
      numeric.view({-1})[i] = (up - down) / (2 * h);
    }
    CHECK(torch::allclose(p->grad(), numeric, 1e-5, 1e-8));
  }
}

TEST_CASE("nn: LoRA loading rejects adapters for another architecture, bad shapes and unknown keys",
          "[nn][lora]") {
  auto expect = [](const std::string& base, const std::string& adapter, const std::string& needle) {
    auto model = symp::nn::load_glm(kFixtures + base);
    try {
      symp::nn::load_adapter(*model, adapter);
      FAIL("loaded a bad adapter");
    } catch (const symp::Error& e) {  // rethrown with context: the kind stays, the C++ type does not
      INFO(e.what());
      CHECK(e.kind() == symp::ErrorKind::Input);
      CHECK(std::string(e.what()).find(needle) != std::string::npos);
    }
  };
  // The transformers-layout adapter on a ChatGLM-layout model: its targets name no module there.
  expect("glm_chatglm", kFixtures + "lora_hf_peft", "matches no layer");
  auto dir = scratch("bad");
  auto tensors = symp::nn::load_tensors(kFixtures + "lora_chatglm/adapter_model.safetensors");
  auto write = [&](std::map<std::string, torch::Tensor> t, const std::string& config_edit) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    auto config = symp::io::read_json(kFixtures + "lora_chatglm/adapter_config.json");
    if (config_edit == "dora") config["use_dora"] = true;
    symp::io::write_json_atomic((dir / "adapter_config.json").string(), config);
    symp::nn::save_tensors((dir / "adapter_model.safetensors").string(), t);
  };
  const std::string key = "base_model.model.transformer.encoder.layers.0.self_attention.dense.lora_B.weight";
  auto misshaped = tensors;
  misshaped[key] = torch::zeros({64, 5});
  write(misshaped, "");
  expect("glm_chatglm", dir.string(), key);
  auto missing = tensors;
  missing.erase(key);
  write(missing, "");
  expect("glm_chatglm", dir.string(), key);
  auto extra = tensors;
  extra["base_model.model.transformer.encoder.layers.0.self_attention.dense.lora_A.default.weight"] =
      torch::zeros({4});
  write(extra, "");
  expect("glm_chatglm", dir.string(), "lora_A.default.weight");
  write(tensors, "dora");
  expect("glm_chatglm", dir.string(), "use_dora");
  // A truncated tensor file.
  write(tensors, "");
  fs::resize_file(dir / "adapter_model.safetensors", fs::file_size(dir / "adapter_model.safetensors") / 2);
  expect("glm_chatglm", dir.string(), "adapter_model.safetensors");
  fs::remove_all(dir);
}

TEST_CASE("nn: LoRA with modules_to_save trains the input embedding and carries it in the adapter",
          "[nn][lora]") {
  auto dir = scratch("modules_to_save");
  for (const std::string base : {"glm_chatglm", "glm_hf"}) {
    INFO(base);
    auto model = symp::nn::load_glm(kFixtures + base);
    model->eval();
    const auto original = model->embedding_weight().clone();
    symp::nn::LoraConfig config;
    config.rank = 2;
    config.modules_to_save = {"word_embeddings"};
    symp::nn::attach_lora(*model, config);
    CHECK(model->embedding_weight().requires_grad());
    // One step of plain gradient descent on the embedding: only the rows of the ids used move.
    const auto ids = fixture_ids();
    model->forward(ids).to(torch::kFloat32).logsumexp(-1).mean().backward();
    const auto grad = model->embedding_weight().grad();
    REQUIRE(grad.defined());
    {
      torch::NoGradGuard no_grad;
      model->embedding_weight().sub_(grad * 10.0);
    }
    const auto used = std::get<0>(at::_unique(ids.flatten()));
    CHECK(!torch::equal(model->embedding_weight().index_select(0, used), original.index_select(0, used)));
    torch::NoGradGuard no_grad;
    const auto want = model->forward(ids);
    CHECK(relative_error(want, symp::nn::load_glm(kFixtures + base)->forward(ids)) > 1e-4);

    symp::nn::save_adapter(*model, config, (dir / base).string(), base);
    const auto json = symp::io::read_json((dir / base / "adapter_config.json").string());
    const std::string module = base == "glm_hf" ? "embed_tokens" : "word_embeddings";
    CHECK(json["modules_to_save"] == symp::io::Json::array({module}));
    const auto tensors = symp::nn::load_tensors((dir / base / "adapter_model.safetensors").string());
    const std::string key = base == "glm_hf"
                                ? "base_model.model.model.embed_tokens.weight"
                                : "base_model.model.transformer.embedding.word_embeddings.weight";
    REQUIRE(tensors.count(key) == 1);
    CHECK(torch::equal(tensors.at(key), model->embedding_weight()));

    auto fresh = symp::nn::load_glm(kFixtures + base);
    fresh->eval();
    const auto read = symp::nn::load_adapter(*fresh, (dir / base).string());
    CHECK(read.modules_to_save == std::vector<std::string>{module});
    CHECK(torch::equal(fresh->embedding_weight(), model->embedding_weight()));
    CHECK(relative_error(fresh->forward(ids), want) <= 1e-5);

    // The embedding's tensor is required, and must fit.
    auto config_json = json;
    auto without = tensors;
    without.erase(key);
    symp::nn::save_tensors((dir / base / "adapter_model.safetensors").string(), without);
    auto again = symp::nn::load_glm(kFixtures + base);
    CHECK_THROWS_WITH(symp::nn::load_adapter(*again, (dir / base).string()), Catch::Contains(key));
    // Other modules_to_save are refused by name.
    config_json["modules_to_save"] = symp::io::Json::array({"lm_head"});
    symp::io::write_json_atomic((dir / base / "adapter_config.json").string(), config_json);
    CHECK_THROWS_WITH(symp::nn::load_adapter(*again, (dir / base).string()),
                      Catch::Contains("modules_to_save"));
  }
  symp::nn::LoraConfig bad;
  bad.modules_to_save = {"output_layer"};
  CHECK_THROWS_WITH(bad.validate(), Catch::Contains("only the input embedding"));
  fs::remove_all(dir);
}
