// Training throughput of the tiny GLM (GlmConfig::tiny) on this machine's CPU, against libtorch's stock
// nn::TransformerEncoder of the same width and depth trained the same way, measured in the same run.
// The same GLM written in PyTorch (Python) is bench/train_tiny_pytorch.py, and bench/train_tiny_vs_pytorch.sh
// times the two against each other step by step: there this program runs with --only-symp (the GLM alone,
// a line per step with its time and loss) and --lockstep (each step waits for a line on stdin).
//   bench_train_tiny [--only-symp [--lockstep]] [steps=9] [threads=2]
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "symp/core/process.h"
#include "symp/nn/glm.h"
#include "symp/train/optimizer.h"

namespace {

constexpr int64_t kBatch = 16, kLength = 160, kVocab = 3072;

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Tokens per second of two training steps timed in alternation (`warm` untimed rounds first), from the
// median step time of each: a machine whose load changes during the run slows both sides alike, and a
// stray slow step does not move the median.
template <class StepA, class StepB>
std::pair<double, double> tokens_per_second(StepA a, StepB b, int steps, int warm = 2) {
  for (int i = 0; i < warm; ++i) {
    a();
    b();
  }
  std::vector<double> times_a, times_b;
  for (int i = 0; i < steps; ++i) {
    auto start = std::chrono::steady_clock::now();
    a();
    times_a.push_back(seconds_since(start));
    start = std::chrono::steady_clock::now();
    b();
    times_b.push_back(seconds_since(start));
  }
  const double tokens = static_cast<double>(kBatch * kLength);
  return {tokens / median(times_a), tokens / median(times_b)};
}

struct Stock : torch::nn::Module {
  Stock() {
    embedding = register_module("embedding", torch::nn::Embedding(kVocab, 256));
    encoder = register_module(
        "encoder",
        torch::nn::TransformerEncoder(torch::nn::TransformerEncoderOptions(
            torch::nn::TransformerEncoderLayerOptions(256, 4).dim_feedforward(1024).dropout(0.0), 4)));
    output = register_module("output", torch::nn::Linear(256, kVocab));
  }
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& mask) {
    auto h = embedding->forward(ids).transpose(0, 1);  // [T, B, d]
    return output->forward(encoder->forward(h, mask).transpose(0, 1));
  }
  torch::nn::Embedding embedding{nullptr};
  torch::nn::TransformerEncoder encoder{nullptr};
  torch::nn::Linear output{nullptr};
};

}  // namespace

int main(int argc, char** argv) {
  symp::configure_process(argv);  // as the symp binary runs (symp/core/process.h)
  bool only_symp = false, lockstep = false;
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--only-symp") {
      only_symp = true;
    } else if (std::string(argv[i]) == "--lockstep") {
      lockstep = true;
    } else {
      args.emplace_back(argv[i]);
    }
  }
  const int steps = args.size() > 0 ? std::atoi(args[0].c_str()) : 9;
  torch::set_num_threads(args.size() > 1 ? std::atoi(args[1].c_str()) : 2);
  torch::manual_seed(0);
  auto ids = torch::randint(0, kVocab, {kBatch, kLength}, torch::kInt64);
  auto target = torch::ones({kBatch, kLength}, torch::kBool);

  auto config = symp::nn::GlmConfig::tiny(kVocab);
  symp::nn::GlmModel glm(config);
  glm->init_weights(0);
  std::vector<std::pair<std::string, torch::Tensor>> params;
  for (auto& p : glm->named_parameters()) params.emplace_back(p.key(), p.value());
  symp::train::AdamW adam(params, {}, {});
  torch::Tensor last_loss;
  auto glm_step = [&] {
    adam.zero_grad();
    auto [sum, count] = symp::nn::next_token_loss(glm->forward(ids), ids, target);
    auto loss = sum / static_cast<double>(count);
    loss.backward();
    last_loss = loss.detach();
    std::vector<torch::Tensor> ps;
    for (auto& [n, p] : params) ps.push_back(p);
    symp::train::clip_grad_norm(ps, 1.0);
    adam.step(1e-4);
  };
  if (only_symp) {
    // The line format of bench/train_tiny_pytorch.py, which starts from the same ids and initial weights
    // and so prints the same losses. Steps 0 and 1 warm up; with --lockstep each step first waits for a
    // line on stdin (the script's driver alternates the two programs step by step).
    int64_t count = 0;
    for (auto& [n, p] : params) count += p.numel();
    fmt::print("params {}\nthreads {}\n", count, torch::get_num_threads());
    std::fflush(stdout);
    const int warm = 2;
    std::vector<double> times;
    std::string line;
    for (int i = 0; i < warm + steps; ++i) {
      if (lockstep && !std::getline(std::cin, line)) return 1;
      const auto start = std::chrono::steady_clock::now();
      glm_step();
      const double seconds = seconds_since(start);
      if (i >= warm) times.push_back(seconds);
      fmt::print("step {} {:.4f} {:.6f}\n", i, seconds, last_loss.item<double>());
      std::fflush(stdout);
    }
    if (!times.empty())
      fmt::print("tokens_per_second {:.1f}\n", static_cast<double>(kBatch * kLength) / median(times));
    return 0;
  }

  Stock stock;
  torch::optim::AdamW stock_adam(stock.parameters(), torch::optim::AdamWOptions(1e-4).weight_decay(0.01));
  auto causal = torch::full({kLength, kLength}, -std::numeric_limits<float>::infinity()).triu(1);
  auto stock_step = [&] {
    stock_adam.zero_grad();
    auto logits = stock.forward(ids, causal);
    auto loss = torch::nn::functional::cross_entropy(logits.narrow(1, 0, kLength - 1).reshape({-1, kVocab}),
                                                     ids.narrow(1, 1, kLength - 1).reshape({-1}));
    loss.backward();
    torch::nn::utils::clip_grad_norm_(stock.parameters(), 1.0);
    stock_adam.step();
  };
  const auto [glm_rate, stock_rate] = tokens_per_second(glm_step, stock_step, steps);
  int64_t stock_params = 0;
  for (auto& p : stock.parameters()) stock_params += p.numel();
  fmt::print("tiny GLM ({:.2f} M params, batch {} x {}): {:.0f} tokens/s\n", config.num_parameters() / 1e6,
             kBatch, kLength, glm_rate);
  fmt::print("libtorch nn::TransformerEncoder ({:.2f} M params, same batch): {:.0f} tokens/s\n",
             stock_params / 1e6, stock_rate);
  fmt::print("ratio symp / stock: {:.2f}x  (threads {})\n", glm_rate / stock_rate, torch::get_num_threads());
  return 0;
}
