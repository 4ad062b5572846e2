// symp's side of the GPU benchmarks of BENCHMARKS.md, on the 9B-shaped GLM with random weights:
//   step:   one LoRA r32 training step (batch 1 x --seq tokens, AdamW, clipping 1.0), median of --steps
//           after --warmup, peak memory of the caching allocator (CUDA builds);
//   decode: greedy decoding with the KV cache from a --prompt-tokens prompt, --new tokens, tokens/s
//           (prompt forward included, as transformers' generate is timed).
// bench/cuda/bench_glm9b.sh runs it next to transformers + PEFT (bench/cuda/glm9b_reference.py) on the
// same GPU and prints the ratios. On a CPU, --layers/--hidden/... shrink the model so it runs anywhere:
//   bench_glm_step --mode step --device cuda --dtype bf16 [--checkpointing]
//   bench_glm_step --mode decode --device cuda --dtype bf16
//   bench_glm_step --mode step --device cpu --dtype f32 --layers 2 --hidden 256 --heads 4 --kv-heads 2
//                  --head-dim 64 --ffn 512 --vocab 4096 --seq 256
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "symp/core/process.h"
#include "symp/nn/glm.h"
#include "symp/train/optimizer.h"

#if defined(SYMP_TORCH_CUDA)
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace {

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void sync(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index() < 0 ? 0 : device.index());
}

double peak_gib(const torch::Device& device) {
#if defined(SYMP_TORCH_CUDA)
  if (device.is_cuda()) {
    const auto stats =
        c10::cuda::CUDACachingAllocator::getDeviceStats(device.index() < 0 ? 0 : device.index());
    const auto& peak =
        stats.allocated_bytes[static_cast<size_t>(c10::cuda::CUDACachingAllocator::StatType::AGGREGATE)];
    return static_cast<double>(peak.peak) / (1024.0 * 1024.0 * 1024.0);
  }
#endif
  (void)device;
  return 0;
}

volatile double sink = 0;  // keeps the bandwidth probe's result alive

// Streaming-read bandwidth of the device in GB/s: the best of a few sums over a buffer far larger than
// the caches. Decoding one token reads every weight once, so bandwidth / weight bytes bounds tokens/s.
double read_gbps(const torch::Device& device) {
  const int64_t n = device.is_cuda() ? (int64_t{1} << 29) : (int64_t{1} << 26);  // 2 GiB or 256 MiB of fp32
  auto buffer = torch::ones({n}, torch::TensorOptions().dtype(torch::kFloat32).device(device));
  double best = 1e30;
  for (int i = 0; i < 6; ++i) {
    sync(device);
    const double t0 = now_ms();
    sink = buffer.sum().item<double>();  // item() waits for the device
    best = std::min(best, now_ms() - t0);
  }
  return static_cast<double>(n) * 4.0 / (best / 1000.0) / 1e9;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  symp::configure_process(argv);  // as the symp binary runs (symp/core/process.h)
  std::map<std::string, std::string> a{{"--mode", "step"},         {"--device", "cuda"}, {"--dtype", "bf16"},
                                       {"--seq", "2048"},          {"--steps", "4"},     {"--warmup", "2"},
                                       {"--prompt-tokens", "256"}, {"--new", "128"},     {"--rank", "32"}};
  bool checkpointing = false;
  for (int i = 1; i < argc; ++i) {
    const std::string key = argv[i];
    if (key == "--checkpointing") {
      checkpointing = true;
    } else if (i + 1 < argc) {
      a[key] = argv[++i];
    }
  }
  auto config = symp::nn::GlmConfig::glm4_voice_9b();
  auto set = [&](const char* key, int64_t& field) {
    if (a.count(key)) field = std::atoll(a[key].c_str());
  };
  set("--layers", config.num_layers);
  set("--hidden", config.hidden_size);
  set("--heads", config.num_heads);
  set("--kv-heads", config.num_kv_heads);
  set("--head-dim", config.head_dim);
  set("--ffn", config.ffn_hidden_size);
  set("--vocab", config.vocab_size);
  config.rotary_dim = config.head_dim / 2;
  config.validate();
  const torch::Device device(a["--device"]);
  const auto dtype = a["--dtype"] == "bf16" ? torch::kBFloat16 : torch::kFloat32;
  const int64_t seq = std::atoll(a["--seq"].c_str());
  torch::manual_seed(0);

  symp::nn::GlmModel model(config, torch::TensorOptions().dtype(dtype).device(device));
  {
    torch::NoGradGuard no_grad;
    for (auto& p : model->parameters()) p.normal_(0, 0.02);  // random weights, drawn on the device
    for (auto& p : model->parameters()) p.requires_grad_(false);
  }
  const double n_params = static_cast<double>(config.num_parameters());
  const std::string size =
      n_params >= 1e9 ? fmt::format("{:.2f} B", n_params / 1e9) : fmt::format("{:.1f} M", n_params / 1e6);
  const std::string what = fmt::format("({} params, {} layers, hidden {}), {} {}", size, config.num_layers,
                                       config.hidden_size, a["--device"], a["--dtype"]);
  if (a["--mode"] == "step") {
    symp::nn::LoraConfig lora;
    lora.rank = std::atoll(a["--rank"].c_str());
    lora.alpha = static_cast<double>(lora.rank);
    lora.dropout = 0.1;
    symp::nn::attach_lora(*model, lora);
    model->set_gradient_checkpointing(checkpointing);
    model->train();
    std::vector<std::pair<std::string, torch::Tensor>> trainable;
    std::vector<torch::Tensor> params;
    for (const auto& item : model->named_parameters()) {
      if (!item.value().requires_grad()) continue;
      trainable.emplace_back(item.key(), item.value());
      params.push_back(item.value());
    }
    symp::train::AdamW optimizer(trainable, {}, {});
    auto ids = torch::randint(0, config.vocab_size, {1, seq},
                              torch::TensorOptions().dtype(torch::kInt64).device(device));
    auto target = torch::ones({1, seq}, torch::TensorOptions().dtype(torch::kBool).device(device));
    std::vector<double> times;
    const int steps = std::atoi(a["--steps"].c_str()), warmup = std::atoi(a["--warmup"].c_str());
    for (int i = 0; i < warmup + steps; ++i) {
      sync(device);
      const double t0 = now_ms();
      optimizer.zero_grad();
      auto [sum, count] = symp::nn::next_token_loss(model->forward(ids), ids, target);
      (sum / static_cast<double>(count)).backward();
      symp::train::clip_grad_norm(params, 1.0);
      optimizer.step(1e-4);
      sync(device);
      if (i >= warmup) times.push_back(now_ms() - t0);
    }
    const double ms = median(times);
    fmt::print("symp lora step {}{}: {:.1f} ms/step, {:.0f} tokens/s, peak {:.1f} GiB\n", what,
               checkpointing ? " +checkpointing" : "", ms, static_cast<double>(seq) / (ms / 1000.0),
               peak_gib(device));
  } else {
    torch::NoGradGuard no_grad;
    model->eval();
    const int64_t prompt = std::atoll(a["--prompt-tokens"].c_str()), fresh = std::atoll(a["--new"].c_str());
    auto ids = torch::randint(0, config.vocab_size, {1, prompt},
                              torch::TensorOptions().dtype(torch::kInt64).device(device));
    double best = 0;
    for (int round = 0; round < 2; ++round) {  // the first round warms up
      // Timed like transformers' generate: the prompt's forward, then one token at a time.
      symp::nn::KvCache cache;
      cache.reserve(prompt + fresh);
      sync(device);
      const double t0 = now_ms();
      auto logits = model->forward(ids, &cache);
      auto next = logits.select(1, -1).argmax(-1).view({1, 1});
      for (int64_t t = 1; t < fresh; ++t) {
        logits = model->forward(next, &cache);
        next = logits.select(1, -1).argmax(-1).view({1, 1});
      }
      sync(device);
      best = static_cast<double>(fresh) / ((now_ms() - t0) / 1000.0);
    }
    // Bytes one decoding step must read: every weight but the embedding table (one row is gathered; a
    // tied table is read whole as the output layer), plus the keys and values cached so far (mean length).
    const double element = dtype == torch::kBFloat16 ? 2.0 : 4.0;
    double weights = static_cast<double>(config.num_parameters());
    if (!config.tie_embeddings) weights -= static_cast<double>(config.vocab_size * config.hidden_size);
    const double kv = 2.0 * static_cast<double>(config.num_layers * config.num_kv_heads * config.head_dim) *
                      (static_cast<double>(prompt) + static_cast<double>(fresh) / 2.0);
    const double gbps = read_gbps(device);
    const double bound = gbps * 1e9 / ((weights + kv) * element);
    fmt::print(
        "symp decode {}: {:.1f} tokens/s ({:.1f} ms/token), peak {:.1f} GiB; bandwidth bound {:.1f} "
        "tokens/s ({:.0f} GB/s read, {:.2f} GB per token): {:.0f} % of it\n",
        what, best, 1000.0 / best, peak_gib(device), bound, gbps, (weights + kv) * element / 1e9,
        100.0 * best / bound);
  }
  return 0;
}
