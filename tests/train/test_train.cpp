#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>

#include "symp/core/error.h"
#include "symp/core/rng.h"
#include "symp/io/jsonl.h"
#include "symp/nn/glm.h"
#include "symp/nn/glm_config.h"
#include "symp/nn/tensor_io.h"
#include "symp/train/dataset.h"
#include "symp/train/optimizer.h"
#include "symp/train/train_lora.h"

namespace {

namespace fs = std::filesystem;
const std::string kFixtures = std::string(SYMP_SHARED_DIR) + "/fixtures/";

fs::path scratch(const std::string& name) {
  auto dir = fs::temp_directory_path() / ("symp_test_train_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// `count` random sequences of `length` ids below `vocab`, as tokenize writes them.
std::string write_sequences(const fs::path& path, int count, int length, int vocab, uint64_t seed) {
  symp::Rng rng(seed);
  std::vector<symp::io::Json> records;
  for (int i = 0; i < count; ++i) {
    std::vector<int64_t> ids;
    for (int t = 0; t < length - (i % 3); ++t) ids.push_back(static_cast<int64_t>(1 + rng.below(vocab - 1)));
    records.push_back({{"id", "r" + std::to_string(i)},
                       {"text", "x"},
                       {"valence", 0.1},
                       {"arousal", -0.2},
                       {"input_ids", ids},
                       {"assistant_start", 3}});
  }
  symp::io::write_jsonl_atomic(path.string(), records);
  return path.string();
}

// The training losses of metrics.jsonl, in step order.
std::vector<double> losses(const fs::path& out) {
  std::vector<double> values;
  for (const auto& r : symp::io::read_jsonl((out / "metrics.jsonl").string())) {
    if (r.contains("loss")) values.push_back(r["loss"].get<double>());
  }
  return values;
}

symp::train::TrainOptions lora_options(const fs::path& dir) {
  symp::train::TrainOptions o;
  o.train_file = write_sequences(dir / "train.jsonl", 10, 12, 256, 1);
  o.eval_file = write_sequences(dir / "eval.jsonl", 3, 12, 256, 2);
  o.base_model = kFixtures + "glm_chatglm";
  o.lora_config.rank = 4;
  o.lora_config.alpha = 8;
  o.lora_config.dropout = 0.1;  // exercises the RNG state a resume must restore
  o.lr = 1e-2;
  o.warmup_steps = 2;
  o.epochs = 3;
  o.batch_size = 2;
  o.grad_accum = 2;
  o.eval_every = 3;
  o.save_every = 3;
  return o;
}

}  // namespace

TEST_CASE("train: a tiny GLM trained from scratch overfits a handful of sequences", "[train]") {
  auto dir = scratch("overfit");
  symp::nn::GlmConfig config;
  config.vocab_size = 32;
  config.hidden_size = 64;
  config.num_layers = 2;
  config.num_heads = 4;
  config.num_kv_heads = 2;
  config.head_dim = 16;
  config.ffn_hidden_size = 128;
  config.rotary_dim = 8;
  symp::io::write_json_atomic((dir / "config.json").string(), config.to_chatglm_json());
  symp::train::TrainOptions o;
  o.train_file = write_sequences(dir / "train.jsonl", 4, 16, 32, 3);
  o.out_dir = (dir / "out").string();
  o.init_config = (dir / "config.json").string();
  o.lora = false;
  o.lr = 1e-2;
  o.weight_decay = 0;
  o.warmup_steps = 5;
  o.schedule = "constant";
  o.max_steps = 200;
  o.batch_size = 4;
  o.grad_accum = 1;
  o.save_every = 1000;
  auto result = symp::train::train_lora(o);
  CHECK(result.steps == 200);
  INFO("loss " << result.first_loss << " -> " << result.last_loss);
  CHECK(result.last_loss <= 0.1 * result.first_loss);
  CHECK(fs::exists(dir / "out/model/model.safetensors"));
  CHECK(fs::exists(dir / "out/loss.png"));
  fs::remove_all(dir);
}

TEST_CASE("train: --tie-audio-factors keeps the saved audio rows additive in the codec's factors",
          "[train]") {
  auto dir = scratch("tied_audio");
  symp::nn::GlmConfig config;
  config.vocab_size = 32;
  config.hidden_size = 32;
  config.num_layers = 1;
  config.num_heads = 2;
  config.num_kv_heads = 1;
  config.head_dim = 16;
  config.ffn_hidden_size = 64;
  config.rotary_dim = 8;
  symp::io::write_json_atomic((dir / "config.json").string(), config.to_chatglm_json());
  // A tokenize-fit folder as far as the layout goes: audio ids 8..31 = (a x 3 + b) x 4 + c.
  fs::create_directories(dir / "tok");
  symp::io::write_json_atomic((dir / "tok/tokenizer.json").string(),
                              {{"audio_offset", 8}, {"audio_codes", 24}});
  symp::io::write_json_atomic(
      (dir / "tok/codec.json").string(),
      {{"config", {{"envelope_codes", 2}, {"pitch_levels", 3}, {"energy_levels", 4}}}});
  auto options = [&](const std::string& out, bool tie) {
    symp::train::TrainOptions o;
    o.train_file = write_sequences(dir / "train.jsonl", 6, 16, 32, 5);
    o.out_dir = (dir / out).string();
    o.init_config = (dir / "config.json").string();
    o.init_audio_factors = (dir / "tok").string();
    o.tie_audio_factors = tie;
    o.lora = false;
    o.lr = 1e-2;
    o.warmup_steps = 0;
    o.max_steps = 20;
    o.batch_size = 3;
    o.grad_accum = 1;
    o.save_every = 1000;
    return o;
  };
  // How far the saved rows are from additive: the largest change of "c from 0 to 3" across (a, b).
  auto non_additive = [](const torch::Tensor& w) {
    auto row = [&](int a, int b, int c) { return w[8 + (a * 3 + b) * 4 + c]; };
    double worst = 0;
    for (int a = 0; a < 2; ++a)
      for (int b = 0; b < 3; ++b) {
        const auto d = (row(a, b, 3) - row(a, b, 0)) - (row(0, 0, 3) - row(0, 0, 0));
        worst = std::max(worst, d.abs().max().item<double>());
      }
    return worst;
  };
  symp::train::train_lora(options("tied", true));
  symp::train::train_lora(options("free", false));
  auto tied = symp::nn::load_glm((dir / "tied/model").string());
  auto free = symp::nn::load_glm((dir / "free/model").string());
  const auto tied_out = tied->named_parameters()["transformer.output_layer.weight"];
  const auto free_out = free->named_parameters()["transformer.output_layer.weight"];
  CHECK(non_additive(tied->embedding_weight()) < 1e-5);
  CHECK(non_additive(tied_out) < 1e-5);
  // Without the option the same training leaves them free (so the check above can fail).
  CHECK(non_additive(free->embedding_weight()) > 1e-3);
  CHECK(non_additive(free_out) > 1e-3);
  // It needs the layout and full training.
  auto bad = options("bad", true);
  bad.init_audio_factors.clear();
  CHECK_THROWS_WITH(symp::train::train_lora(bad), Catch::Contains("--tie-audio-factors"));
  fs::remove_all(dir);
}

TEST_CASE("train: a resumed LoRA run repeats the uninterrupted loss curve bit for bit", "[train]") {
  auto dir = scratch("resume");
  auto whole = lora_options(dir);
  whole.out_dir = (dir / "whole").string();
  whole.group_by_length = true;  // the grouped order is replanned from (seed, epoch) on resume too
  auto a = symp::train::train_lora(whole);
  auto split = lora_options(dir);
  split.out_dir = (dir / "split").string();
  split.group_by_length = true;
  split.stop_after = 4;
  auto first = symp::train::train_lora(split);
  CHECK(first.steps == 4);
  CHECK(first.output.empty());
  // As if killed during step 5's checkpoint-less stretch: step 4 is logged but has no checkpoint, so the
  // resume goes back to step 3 and must drop step 4 from the metrics before redoing it.
  fs::remove_all(fs::path(split.out_dir) / "checkpoints/step-00000004");
  split.stop_after = 0;
  split.resume = true;
  auto b = symp::train::train_lora(split);
  CHECK(b.steps == a.steps);
  CHECK(a.steps == 9);  // 10 sequences / 2 per batch = 5 batches = 3 steps of 2 per epoch, 3 epochs
  const auto la = losses(whole.out_dir), lb = losses(split.out_dir);
  REQUIRE(la.size() == lb.size());
  for (size_t i = 0; i < la.size(); ++i) CHECK(la[i] == lb[i]);  // exact, not approximate
  CHECK(la.back() < la.front());
  auto wa = symp::nn::load_tensors(whole.out_dir + "/adapter/adapter_model.safetensors");
  auto wb = symp::nn::load_tensors(split.out_dir + "/adapter/adapter_model.safetensors");
  for (const auto& [key, value] : wa) CHECK(torch::equal(value, wb.at(key)));
  auto best = symp::io::read_json(whole.out_dir + "/best.json");
  CHECK(best["step"].get<int64_t>() == a.best_step);
  CHECK(a.best_eval_loss > 0);
  // Starting again in a folder with checkpoints without --resume is refused.
  split.resume = false;
  CHECK_THROWS_AS(symp::train::train_lora(split), symp::UsageError);
  fs::remove_all(dir);
}

TEST_CASE("train: damaged or mismatched checkpoints are rejected clearly", "[train]") {
  auto dir = scratch("damaged");
  auto o = lora_options(dir);
  o.out_dir = (dir / "out").string();
  o.stop_after = 3;
  o.keep = 1;
  symp::train::train_lora(o);
  const fs::path ckpt = dir / "out/checkpoints/step-00000003";
  REQUIRE(fs::exists(ckpt / "state.safetensors"));
  REQUIRE(fs::exists(ckpt / "adapter/adapter_model.safetensors"));
  o.stop_after = 1;
  o.resume = true;
  // Settings that change the data order or shapes: refused by field name.
  auto other = o;
  other.batch_size = 1;
  CHECK_THROWS_WITH(symp::train::train_lora(other), Catch::Contains("batch_size"));
  // Wrong shapes: a checkpoint of a rank-4 adapter resumed with rank 2.
  auto rank2 = o;
  rank2.lora_config.rank = 2;
  CHECK_THROWS_WITH(symp::train::train_lora(rank2), Catch::Contains("shape"));
  // A truncated state file.
  fs::copy_file(ckpt / "state.safetensors", dir / "state.bak");
  fs::resize_file(ckpt / "state.safetensors", fs::file_size(ckpt / "state.safetensors") - 100);
  try {
    symp::train::train_lora(o);
    FAIL("resumed from a truncated checkpoint");
  } catch (const symp::Error& e) {
    INFO(e.what());
    CHECK(e.kind() == symp::ErrorKind::Input);
    CHECK(std::string(e.what()).find("state.safetensors") != std::string::npos);
  }
  fs::remove(ckpt / "state.safetensors");
  fs::copy_file(dir / "state.bak", ckpt / "state.safetensors");
  auto resumed = symp::train::train_lora(o);
  CHECK(resumed.steps == 4);
  CHECK(fs::exists(dir / "out/checkpoints/step-00000004"));
  fs::remove_all(dir);
}

TEST_CASE("train: encoded records become sequences with their loss targets", "[train]") {
  auto dir = scratch("data");
  auto path = write_sequences(dir / "d.jsonl", 3, 10, 50, 4);
  symp::train::DatasetOptions options;
  auto all = symp::train::read_sequences(path, options);
  REQUIRE(all.size() == 3);
  CHECK(all[0].target[0] == 0);
  CHECK(all[0].target[1] == 1);
  options.assistant_only = true;
  auto assistant = symp::train::read_sequences(path, options);
  CHECK(assistant[0].target[2] == 0);
  CHECK(assistant[0].target[3] == 1);
  options.assistant_only = false;
  options.max_length = 9;
  CHECK(symp::train::read_sequences(path, options).size() == 2);  // the 10-token record skipped
  options.overlong = symp::train::Overlong::Error;
  CHECK_THROWS_WITH(symp::train::read_sequences(path, options), Catch::Contains("r0"));
  symp::io::write_jsonl_atomic((dir / "bad.jsonl").string(), {{{"id", "x"}, {"input_ids", {1, -4}}}});
  CHECK_THROWS_WITH(symp::train::read_sequences((dir / "bad.jsonl").string(), {}),
                    Catch::Contains("input_ids"));
  // Every sequence once per epoch, a different order each epoch, and ranks split it evenly.
  auto e0 = symp::train::epoch_order(10, 42, 0), e1 = symp::train::epoch_order(10, 42, 1);
  CHECK(std::set<size_t>(e0.begin(), e0.end()).size() == 10);
  CHECK(e0 != e1);
  CHECK(symp::train::epoch_order(10, 42, 0) == e0);
  CHECK(symp::train::epoch_order(10, 42, 0, 1, 4).size() == 3);
  fs::remove_all(dir);
}

TEST_CASE("train: --group-by-length batches similar lengths and keeps every sequence once", "[train]") {
  const size_t count = 1003, batch = 8;  // 125 full batches and a short one
  std::vector<size_t> lengths(count);
  symp::Rng rng(7);
  for (auto& l : lengths) l = 190 + rng.below(330);  // the quickstart's 194..513 tokens
  // Padded tokens (each batch as long as its longest) over real tokens.
  auto padding = [&](const std::vector<size_t>& order) {
    double padded = 0, real = 0;
    for (size_t b = 0; b < order.size(); b += batch) {
      size_t longest = 0, n = std::min(batch, order.size() - b);
      for (size_t i = b; i < b + n; ++i) {
        longest = std::max(longest, lengths[order[i]]);
        real += double(lengths[order[i]]);
      }
      padded += double(longest * n);
    }
    return padded / real;
  };
  const auto order = symp::train::epoch_order(count, 42, 0);
  const auto grouped = symp::train::group_by_length(order, lengths, batch, 42, 0);
  CHECK(std::multiset<size_t>(grouped.begin(), grouped.end()) ==
        std::multiset<size_t>(order.begin(), order.end()));
  CHECK(padding(order) > 1.15);
  CHECK(padding(grouped) < 1.10);  // mega-batches of 4 batches: about 1.08 here
  // The short batch (count % batch = 3 sequences) stays last, so fixed-size slicing never splits a batch: it
  // is the 3 shortest of the last mega-batch (order's last 1003 % 32 = 11), longest first.
  std::vector<size_t> last_mega(order.end() - 11, order.end());
  std::stable_sort(last_mega.begin(), last_mega.end(),
                   [&](size_t a, size_t b) { return lengths[a] > lengths[b]; });
  CHECK(std::vector<size_t>(grouped.end() - 3, grouped.end()) ==
        std::vector<size_t>(last_mega.end() - 3, last_mega.end()));
  // Seeded: the same for the same (seed, epoch), the batches visited in another order in another epoch,
  // and not longest first (the batches are shuffled, unlike a plain sort).
  CHECK(symp::train::group_by_length(order, lengths, batch, 42, 0) == grouped);
  const auto next = symp::train::group_by_length(order, lengths, batch, 42, 1);
  CHECK(next != grouped);
  size_t first_batch_longest = 0, longest = 0;
  for (size_t i = 0; i < batch; ++i) first_batch_longest = std::max(first_batch_longest, lengths[grouped[i]]);
  for (const auto l : lengths) longest = std::max(longest, l);
  CHECK(first_batch_longest < longest);
  CHECK_THROWS_AS(symp::train::group_by_length(order, lengths, 0, 42, 0), symp::UsageError);
}

TEST_CASE("train: AdamW and the warm-up schedule follow torch and transformers", "[train]") {
  CHECK(symp::train::scheduled_lr(1e-4, 0, 50, 1000, "linear") == 0.0);
  CHECK(symp::train::scheduled_lr(1e-4, 25, 50, 1000, "linear") == Approx(5e-5));
  CHECK(symp::train::scheduled_lr(1e-4, 50, 50, 1000, "linear") == Approx(1e-4));
  CHECK(symp::train::scheduled_lr(1e-4, 525, 50, 1000, "linear") == Approx(5e-5));
  CHECK(symp::train::scheduled_lr(1e-4, 1000, 50, 1000, "linear") == 0.0);
  // One AdamW step from zero moments moves each weight by lr * sign(grad) (bias-corrected), after decay.
  auto w = torch::tensor({1.0f, -2.0f}).set_requires_grad(true);
  w.mutable_grad() = torch::tensor({0.5f, -3.0f});
  symp::train::AdamW adam({{"w", w}}, {}, {0.9, 0.999, 1e-8, 0.1});
  adam.step(0.01);
  CHECK(w[0].item<double>() == Approx(1.0 * (1 - 0.001) - 0.01).epsilon(1e-6));
  CHECK(w[1].item<double>() == Approx(-2.0 * (1 - 0.001) + 0.01).epsilon(1e-6));
  // Clipping scales the global norm down to the limit.
  auto g = torch::zeros({2}).set_requires_grad(true);
  g.mutable_grad() = torch::tensor({3.0f, 4.0f});
  CHECK(symp::train::clip_grad_norm({g}, 1.0) == Approx(5.0));
  CHECK(g.grad().norm().item<double>() == Approx(1.0).epsilon(1e-5));
}

TEST_CASE("train: symp train-lora runs end to end and writes a PEFT adapter", "[train][cli]") {
  auto dir = scratch("cli");
  const auto train = write_sequences(dir / "train.jsonl", 4, 10, 256, 5);
  const std::string out = (dir / "out").string();
  const std::string command = std::string(SYMP_BINARY) + " --log-level warn train-lora --model " + kFixtures +
                              "glm_chatglm --train " + train + " --out " + out +
                              " --lora-rank 2 --max-steps 2 --grad-accum 1 --warmup-steps 0 > " + out +
                              ".txt";
  REQUIRE(std::system(command.c_str()) == 0);
  CHECK(fs::exists(out + "/adapter/adapter_config.json"));
  CHECK(fs::exists(out + "/symp-config.toml"));
  CHECK(symp::io::read_json(out + "/adapter/adapter_config.json")["r"] == 2);
  const std::string bad =
      std::string(SYMP_BINARY) + " train-lora --train " + train + " --out " + out + "x 2>/dev/null";
  CHECK(WEXITSTATUS(std::system(bad.c_str())) == 2);  // neither --model nor --init
  fs::remove_all(dir);
}
