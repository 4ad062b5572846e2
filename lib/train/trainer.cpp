#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <regex>
#include <set>

#include "audio_factors.h"
#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/core/progress.h"
#include "symp/io/jsonl.h"
#include "symp/io/plot.h"
#include "symp/nn/glm.h"
#include "symp/nn/tensor_io.h"
#include "symp/train/optimizer.h"
#include "symp/train/process_group.h"
#include "symp/train/train_lora.h"

namespace symp::train {

void TrainOptions::validate() const {
  if (train_file.empty()) throw UsageError("train: --train is required");
  if (out_dir.empty()) throw UsageError("train: --out is required");
  if (base_model.empty() == init_config.empty()) {
    throw UsageError(
        "train: give exactly one of --model (a base to fine-tune) and --init (train from scratch)");
  }
  if (!init_audio_factors.empty() && init_config.empty())
    throw UsageError("train: --init-audio-factors needs --init (it sets a new model's first weights)");
  if (tie_audio_factors && (init_audio_factors.empty() || lora))
    throw UsageError("train: --tie-audio-factors needs --init-audio-factors and --full");
  if (lora) lora_config.validate();
  data.validate();
  auto positive = [](const char* field, int64_t value) {
    if (value <= 0) throw UsageError(fmt::format("train: {} = {} must be positive", field, value));
  };
  auto not_negative = [](const char* field, double value) {
    if (!(value >= 0)) throw UsageError(fmt::format("train: {} = {} must not be negative", field, value));
  };
  positive("batch_size", batch_size);
  positive("grad_accum", grad_accum);
  positive("epochs", epochs);
  positive("save_every", save_every);
  not_negative("max_steps", static_cast<double>(max_steps));
  not_negative("warmup_steps", static_cast<double>(warmup_steps));
  not_negative("eval_every", static_cast<double>(eval_every));
  not_negative("keep", static_cast<double>(keep));
  not_negative("stop_after", static_cast<double>(stop_after));
  not_negative("weight_decay", weight_decay);
  not_negative("clip", clip);
  positive("nproc", nproc);
  if (!(dist_timeout_s > 0))
    throw UsageError(fmt::format("train: dist_timeout_s = {} must be positive", dist_timeout_s));
  if (!(bucket_mb > 0)) throw UsageError(fmt::format("train: bucket_mb = {} must be positive", bucket_mb));
  if (dist_backend != "auto" && dist_backend != "gloo" && dist_backend != "nccl") {
    throw UsageError(fmt::format("train: dist_backend = '{}': expected auto, gloo or nccl", dist_backend));
  }
  not_negative("vocab_size", static_cast<double>(vocab_size));
  if (!(lr > 0)) throw UsageError(fmt::format("train: lr = {} must be positive", lr));
  if (!(beta1 >= 0 && beta1 < 1)) throw UsageError(fmt::format("train: beta1 = {} must be in [0, 1)", beta1));
  if (!(beta2 >= 0 && beta2 < 1)) throw UsageError(fmt::format("train: beta2 = {} must be in [0, 1)", beta2));
  if (!(adam_eps > 0)) throw UsageError(fmt::format("train: adam_eps = {} must be positive", adam_eps));
  if (schedule != "linear" && schedule != "constant") {
    throw UsageError(fmt::format("train: schedule = '{}': expected linear or constant", schedule));
  }
  if (dtype != "float32" && dtype != "bfloat16") {
    throw UsageError(fmt::format("train: dtype = '{}': expected float32 or bfloat16", dtype));
  }
  if (dtype != "float32" && !lora) throw UsageError("train: full-parameter training needs dtype float32");
  try {
    torch::Device parsed(device);
    (void)parsed;
  } catch (const std::exception&) {
    throw UsageError(fmt::format("train: device = '{}': expected cpu, cuda or cuda:N", device));
  }
}

namespace {

constexpr int kStateFormat = 1;

struct Batch {
  torch::Tensor ids, target;  // [B, L] int64 (right-padded with 0) and bool
  int64_t tokens = 0;         // real tokens in the batch
};

Batch make_batch(const std::vector<Sequence>& data, const std::vector<size_t>& order, size_t begin,
                 size_t end, const torch::Device& device) {
  size_t length = 0;
  for (size_t i = begin; i < end; ++i) length = std::max(length, data[order[i]].ids.size());
  const auto rows = static_cast<int64_t>(end - begin);
  auto ids = torch::zeros({rows, static_cast<int64_t>(length)}, torch::kInt64);
  auto target = torch::zeros({rows, static_cast<int64_t>(length)}, torch::kBool);
  auto ids_a = ids.accessor<int64_t, 2>();
  auto target_a = target.accessor<bool, 2>();
  Batch batch;
  for (size_t r = 0; r < end - begin; ++r) {
    const auto& s = data[order[begin + r]];
    for (size_t t = 0; t < s.ids.size(); ++t) {
      ids_a[r][t] = s.ids[t];
      target_a[r][t] = s.target[t] != 0;
    }
    batch.tokens += static_cast<int64_t>(s.ids.size());
  }
  batch.ids = ids.to(device);
  batch.target = target.to(device);
  return batch;
}

std::string step_name(int64_t step) {
  return fmt::format("step-{:08d}", step);
}

// Completed checkpoints (renamed into place) by step, oldest first.
std::vector<std::pair<int64_t, fs::path>> list_checkpoints(const fs::path& dir) {
  std::vector<std::pair<int64_t, fs::path>> out;
  if (!fs::is_directory(dir)) return out;
  static const std::regex pattern("step-([0-9]{8})");
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::smatch m;
    const std::string name = entry.path().filename().string();
    if (entry.is_directory() && std::regex_match(name, m, pattern))
      out.emplace_back(std::stoll(m[1]), entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class Trainer {
 public:
  Trainer(const TrainOptions& options, ProcessGroup& group, torch::Device device)
      : o_(options), group_(group), device_(device), out_(options.out_dir) {}

  TrainResult run() {
    ensure_dir(out_);
    load_data();
    build_model();
    plan();
    auto checkpoints = list_checkpoints(out_ / "checkpoints");
    if (!checkpoints.empty() && !o_.resume) {
      throw UsageError(fmt::format(
          "train: {} already holds checkpoints; pass --resume or choose another --out", out_.string()));
    }
    if (o_.resume && !checkpoints.empty()) {
      restore(checkpoints.back().second);
    } else {
      if (o_.resume)
        log_info("train", "no checkpoint in {}; starting from step 0", (out_ / "checkpoints").string());
      if (group_.is_main()) io::write_jsonl_atomic((out_ / "metrics.jsonl").string(), {});
    }
    return loop();
  }

 private:
  void load_data() {
    train_ = read_sequences(o_.train_file, o_.data);
    if (!o_.eval_file.empty()) eval_ = read_sequences(o_.eval_file, o_.data);
    for (const auto* set : {&train_, &eval_}) {
      for (const auto& s : *set) max_id_ = std::max(max_id_, *std::max_element(s.ids.begin(), s.ids.end()));
    }
  }

  void build_model() {
    torch::manual_seed(o_.seed);
    const auto dtype = o_.dtype == "bfloat16" ? torch::kBFloat16 : torch::kFloat32;
    if (!o_.base_model.empty()) {
      model_ = nn::load_glm(o_.base_model, dtype, device_);
    } else {
      nn::GlmConfig config;
      if (o_.init_config == "tiny") {
        config = nn::GlmConfig::tiny(o_.vocab_size > 0 ? o_.vocab_size : max_id_ + 1);
      } else {
        config = nn::GlmConfig::from_json(io::read_json(o_.init_config), o_.init_config);
      }
      model_ = nn::GlmModel(config, torch::TensorOptions().dtype(torch::kFloat32).device(device_));
      model_->init_weights(o_.seed);
      if (!o_.init_audio_factors.empty()) init_audio_factor_rows(*model_, o_.init_audio_factors, o_.seed + 1);
    }
    if (o_.tie_audio_factors) {
      tied_audio_ = read_audio_factor_layout(o_.init_audio_factors);
      log_info("train", "audio-id rows stay sums of their factors' vectors (--tie-audio-factors)");
    }
    model_->set_gradient_checkpointing(o_.gradient_checkpointing);
    if (max_id_ >= model_->config().vocab_size) {
      throw InputError(fmt::format("train: the data holds token id {}, past the model's vocabulary of {}",
                                   max_id_, model_->config().vocab_size));
    }
    std::vector<std::string> no_decay;
    if (o_.lora) {
      const int layers = nn::attach_lora(*model_, o_.lora_config);
      log_info("train", "LoRA r {} alpha {} on {} layers", o_.lora_config.rank, o_.lora_config.alpha, layers);
    }
    std::vector<std::pair<std::string, torch::Tensor>> trainable;
    int64_t count = 0;
    for (const auto& item : model_->named_parameters()) {
      if (!item.value().requires_grad()) continue;
      trainable.emplace_back(item.key(), item.value());
      count += item.value().numel();
      // As transformers' Trainer: no decay on biases and norm weights (1-D); LoRA matrices all decay.
      if (item.value().dim() == 1) no_decay.push_back(item.key());
    }
    log_info("train", "{}; {} trainable parameters ({:.2f} M)", model_->config().summary(), trainable.size(),
             static_cast<double>(count) / 1e6);
    optimizer_ = std::make_unique<AdamW>(trainable, no_decay,
                                         AdamWOptions{o_.beta1, o_.beta2, o_.adam_eps, o_.weight_decay});
    if (group_.world_size() > 1) {
      // Every rank starts from rank 0's weights (they agree already: same seed), then draws its own dropout.
      std::vector<torch::Tensor> params;
      for (const auto& [name, p] : trainable) params.push_back(p);
      {
        torch::NoGradGuard no_grad;
        group_.broadcast(params, 0);
      }
      torch::manual_seed(o_.seed + 1000003ULL * static_cast<uint64_t>(group_.rank()));
      sync_ =
          std::make_unique<GradientSync>(group_, params, static_cast<int64_t>(o_.bucket_mb * 1024 * 1024));
      log_info("train", "gradients all-reduced in {} bucket(s) of up to {} MB over {} ranks ({})",
               sync_->buckets(), o_.bucket_mb, group_.world_size(), group_.backend());
    }
  }

  // This rank's sequence order for epoch_ (grouped by length when asked).
  std::vector<size_t> epoch_plan() const {
    auto order = epoch_order(train_.size(), o_.seed, epoch_, group_.rank(), group_.world_size());
    if (!o_.group_by_length) return order;
    std::vector<size_t> lengths(train_.size());
    for (size_t i = 0; i < train_.size(); ++i) lengths[i] = train_[i].ids.size();
    return group_by_length(order, lengths, static_cast<size_t>(o_.batch_size), o_.seed, epoch_);
  }

  void plan() {
    order_ = epoch_plan();
    batches_per_epoch_ = (static_cast<int64_t>(order_.size()) + o_.batch_size - 1) / o_.batch_size;
    steps_per_epoch_ = (batches_per_epoch_ + o_.grad_accum - 1) / o_.grad_accum;
    total_steps_ = o_.max_steps > 0 ? o_.max_steps : o_.epochs * steps_per_epoch_;
    log_info("train", "{} sequences, {} steps per epoch, {} steps; effective batch {} = {} x {} x {} ranks",
             train_.size(), steps_per_epoch_, total_steps_,
             o_.batch_size * o_.grad_accum * group_.world_size(), o_.batch_size, o_.grad_accum,
             group_.world_size());
  }

  // One optimiser step over up to grad_accum micro-batches (fewer at the end of an epoch).
  double train_step(int64_t& tokens) {
    model_->train();
    optimizer_->zero_grad();
    const int64_t micro = std::min(o_.grad_accum, batches_per_epoch_ - batch_);
    double loss_total = 0;
    for (int64_t m = 0; m < micro; ++m) {
      const size_t begin = static_cast<size_t>(batch_ * o_.batch_size);
      const size_t end = std::min(order_.size(), begin + static_cast<size_t>(o_.batch_size));
      auto batch = make_batch(train_, order_, begin, end, device_);
      auto [sum, count] = nn::masked_next_token_loss(*model_, batch.ids, batch.target);
      auto loss = sum / static_cast<double>(std::max<int64_t>(count, 1));
      if (sync_ && m == micro - 1) sync_->arm();  // the last backward of the step overlaps the all-reduce
      (loss / static_cast<double>(micro)).backward();
      loss_total += loss.item<double>();
      tokens += batch.tokens;
      ++batch_;
    }
    if (batch_ >= batches_per_epoch_) {
      ++epoch_;
      batch_ = 0;
      order_ = epoch_plan();
    }
    std::vector<torch::Tensor> params;
    for (const auto& [name, p] : optimizer_->params()) params.push_back(p);
    if (sync_) sync_->finish();
    grad_norm_ = clip_grad_norm(params, o_.clip);
    lr_ = scheduled_lr(o_.lr, step_, o_.warmup_steps, total_steps_, o_.schedule);
    optimizer_->step(lr_);
    if (tied_audio_) tie_audio_factor_rows(*model_, *tied_audio_);
    ++step_;
    std::vector<double> reduced{loss_total / static_cast<double>(micro), static_cast<double>(tokens)};
    group_.all_reduce_sum(reduced);
    tokens = static_cast<int64_t>(reduced[1]);  // every rank's tokens
    return reduced[0] / group_.world_size();
  }

  double evaluate() {
    torch::NoGradGuard no_grad;
    model_->eval();
    double sum = 0;
    int64_t count = 0;
    std::vector<size_t> order;  // this rank's share of the evaluation data
    for (size_t i = static_cast<size_t>(group_.rank()); i < eval_.size();
         i += static_cast<size_t>(group_.world_size()))
      order.push_back(i);
    // Batched by length (the loss is a sum over tokens, so the order does not matter): less padding.
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return eval_[a].ids.size() > eval_[b].ids.size(); });
    for (size_t begin = 0; begin < order.size(); begin += static_cast<size_t>(o_.batch_size)) {
      const size_t end = std::min(order.size(), begin + static_cast<size_t>(o_.batch_size));
      auto batch = make_batch(eval_, order, begin, end, device_);
      auto [loss_sum, n] = nn::masked_next_token_loss(*model_, batch.ids, batch.target);
      sum += loss_sum.item<double>();
      count += n;
    }
    std::vector<double> totals{sum, static_cast<double>(count)};
    group_.all_reduce_sum(totals);
    return totals[0] / std::max(totals[1], 1.0);  // token-weighted mean
  }

  TrainResult loop() {
    TrainResult result;
    std::optional<io::JsonlAppender> metrics;
    std::optional<Progress> bar;
    if (group_.is_main()) {
      metrics.emplace((out_ / "metrics.jsonl").string(), false);
      bar.emplace("train", total_steps_, "step");
      bar->set_initial(step_);
    }
    const auto start = std::chrono::steady_clock::now();
    int64_t run_tokens = 0, run_steps = 0;
    double last_loss = history_loss_.empty() ? 0 : history_loss_.back();
    while (step_ < total_steps_) {
      if (o_.stop_after > 0 && run_steps == o_.stop_after) break;
      int64_t tokens = 0;
      last_loss = train_step(tokens);
      tokens_seen_ += tokens;
      run_tokens += tokens;
      ++run_steps;
      const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      const double rate = static_cast<double>(run_tokens) / std::max(elapsed, 1e-9);
      if (!std::isfinite(last_loss))
        throw RuntimeError(fmt::format("train: loss became {} at step {}", last_loss, step_));
      history_step_.push_back(static_cast<double>(step_));
      history_loss_.push_back(last_loss);
      if (metrics)
        metrics->append(
            {{"step", step_},
             {"epoch", static_cast<double>(epoch_) + static_cast<double>(batch_) / batches_per_epoch_},
             {"loss", last_loss},
             {"lr", lr_},
             {"grad_norm", grad_norm_},
             {"tokens", tokens_seen_},
             {"tokens_per_s", rate},
             {"elapsed_s", elapsed}});
      if (bar) {
        bar->advance();
        bar->set_note(fmt::format("loss {:.4f} lr {:.2e} {:.0f} tok/s", last_loss, lr_, rate));
      }
      const bool last = step_ == total_steps_ || (o_.stop_after > 0 && run_steps == o_.stop_after);
      if (!eval_.empty() && ((o_.eval_every > 0 && step_ % o_.eval_every == 0) || step_ == total_steps_)) {
        const double eval_loss = evaluate();
        eval_step_.push_back(static_cast<double>(step_));
        eval_loss_.push_back(eval_loss);
        if (metrics) metrics->append({{"step", step_}, {"eval_loss", eval_loss}});
        log_info("train", "step {}: eval loss {:.4f}", step_, eval_loss);
        if (eval_loss < best_eval_) {
          best_eval_ = eval_loss;
          best_step_ = step_;
        }
      }
      if (step_ % o_.save_every == 0 || last) save_checkpoint();
      if (step_ % o_.save_every == 0 || last) plot();
      result.tokens_per_second = rate;
    }
    if (bar) bar->finish();
    group_.barrier();
    if (step_ == total_steps_) result.output = export_final();
    result.steps = step_;
    result.last_loss = last_loss;
    result.first_loss = history_loss_.empty() ? 0 : history_loss_.front();
    result.best_eval_loss = std::isfinite(best_eval_) ? best_eval_ : 0;
    result.best_step = best_step_;
    return result;
  }

  void save_checkpoint() {
    // Each rank's dropout stream goes into the checkpoint, so a multi-rank run resumes bit for bit too.
    auto rng_states = group_.all_gather(at::detail::getDefaultCPUGenerator().get_state().to(group_.device()));
    if (group_.world_size() > 1) check_ranks_agree();
    std::vector<torch::Tensor> cuda_states;  // dropout on a GPU draws from the device's generator
    if (device_.is_cuda()) {
      cuda_states =
          group_.all_gather(at::globalContext().defaultGenerator(device_).get_state().to(group_.device()));
    }
    if (!group_.is_main()) return;
    const fs::path dir = out_ / "checkpoints";
    const fs::path final_dir = dir / step_name(step_);
    if (fs::exists(final_dir)) return;
    const fs::path tmp = dir / (".tmp-" + step_name(step_));
    fs::remove_all(tmp);
    ensure_dir(tmp);
    if (o_.lora) {
      nn::save_adapter(*model_, o_.lora_config, (tmp / "adapter").string(), o_.base_model);
    } else {
      nn::save_glm(*model_, (tmp / "model").string());
    }
    std::map<std::string, torch::Tensor> state;
    for (const auto& [name, p] : optimizer_->params()) state["param." + name] = p.detach().cpu();
    for (auto& [name, t] : optimizer_->state()) state["adam." + name] = t;
    state["rng.cpu"] = rng_states[0].cpu();
    for (size_t r = 1; r < rng_states.size(); ++r)
      state[fmt::format("rng.cpu.rank{}", r)] = rng_states[r].cpu();
    for (size_t r = 0; r < cuda_states.size(); ++r) {
      state[r == 0 ? std::string("rng.cuda") : fmt::format("rng.cuda.rank{}", r)] = cuda_states[r].cpu();
    }
    nn::save_tensors((tmp / "state.safetensors").string(), state);
    io::Json json{{"format", kStateFormat},
                  {"step", step_},
                  {"epoch", epoch_},
                  {"batch", batch_},
                  {"tokens", tokens_seen_},
                  {"adam_steps", optimizer_->steps()},
                  {"total_steps", total_steps_},
                  {"best_step", best_step_},
                  {"best_eval_loss", std::isfinite(best_eval_) ? io::Json(best_eval_) : io::Json(nullptr)},
                  {"lora", o_.lora},
                  {"sequences", train_.size()},
                  {"seed", o_.seed},
                  {"batch_size", o_.batch_size},
                  {"grad_accum", o_.grad_accum},
                  {"world_size", group_.world_size()}};
    io::write_json_atomic((tmp / "state.json").string(), json);
    fs::rename(tmp, final_dir);  // a checkpoint appears whole or not at all
    log_info("train", "checkpoint {}", final_dir.string());
    if (best_step_ > 0) {
      const fs::path best = dir / step_name(best_step_);
      io::write_json_atomic((out_ / "best.json").string(),
                            {{"step", best_step_},
                             {"eval_loss", best_eval_},
                             {"checkpoint", fs::exists(best) ? io::Json(best.string()) : io::Json(nullptr)}});
    }
    prune();
  }

  // Every rank applies the same averaged gradients, so the parameters must agree exactly; a checksum per
  // rank at each checkpoint catches a rank that drifted (different data, a non-deterministic reduction).
  void check_ranks_agree() {
    torch::NoGradGuard no_grad;
    double sum = 0;
    for (const auto& [name, p] : optimizer_->params()) sum += p.to(torch::kFloat64).sum().item<double>();
    const auto sums = group_.all_gather(torch::full({1}, sum, torch::kFloat64).to(group_.device()));
    for (size_t r = 1; r < sums.size(); ++r) {
      const double other = sums[r].item<double>();
      if (other != sum && group_.is_main()) {
        throw RuntimeError(
            fmt::format("train: at step {} the parameters of rank {} differ from rank 0's (checksums {:.17g} "
                        "and {:.17g})",
                        step_, r, other, sum));
      }
    }
  }

  void prune() {
    if (o_.keep <= 0) return;
    auto all = list_checkpoints(out_ / "checkpoints");
    int64_t surplus = static_cast<int64_t>(all.size()) - o_.keep;
    for (const auto& [step, path] : all) {
      if (surplus <= 0) break;
      if (step == best_step_ || step == step_) continue;
      fs::remove_all(path);
      --surplus;
    }
  }

  void restore(const fs::path& dir) {
    with_context("resuming from checkpoint " + dir.string(), [&] {
      const auto json = io::read_json((dir / "state.json").string());
      const std::string context = (dir / "state.json").string();
      if (json.value("format", 0) != kStateFormat) throw InputError(context + ": unknown checkpoint format");
      auto same = [&](const char* field, const io::Json& now) {
        if (!json.contains(field) || json[field] != now) {
          throw UsageError(
              fmt::format("{}: field '{}' = {} but this run has {}; resume with the same settings", context,
                          field, json.contains(field) ? json[field].dump() : "(absent)", now.dump()));
        }
      };
      same("lora", o_.lora);
      same("sequences", train_.size());
      same("seed", o_.seed);
      same("batch_size", o_.batch_size);
      same("grad_accum", o_.grad_accum);
      same("total_steps", total_steps_);
      same("world_size", group_.world_size());
      auto state = nn::load_tensors((dir / "state.safetensors").string());
      torch::NoGradGuard no_grad;
      std::set<std::string> expected;
      for (const auto& [name, p] : optimizer_->params()) {
        const std::string key = "param." + name;
        expected.insert(key);
        auto it = state.find(key);
        if (it == state.end()) throw InputError(fmt::format("{}: missing tensor '{}'", dir.string(), key));
        if (it->second.sizes() != p.sizes()) {
          throw InputError(fmt::format("{}: tensor '{}' does not have the model's shape", dir.string(), key));
        }
        p.copy_(it->second);
      }
      std::map<std::string, torch::Tensor> adam;
      for (const auto& [key, t] : state) {
        if (key.rfind("adam.", 0) == 0) {
          adam[key.substr(5)] = t;
        } else if (key.rfind("rng.", 0) != 0 && !expected.count(key)) {
          throw InputError(
              fmt::format("{}: unexpected tensor '{}' (a checkpoint of another model?)", dir.string(), key));
        }
      }
      optimizer_->load_state(adam, json.at("adam_steps").get<int64_t>(), dir.string());
      const std::string rng_key =
          group_.rank() == 0 ? std::string("rng.cpu") : fmt::format("rng.cpu.rank{}", group_.rank());
      if (!state.count(rng_key))
        throw InputError(fmt::format("{}: missing tensor '{}'", dir.string(), rng_key));
      auto generator = at::detail::getDefaultCPUGenerator();
      generator.set_state(state.at(rng_key));
      if (device_.is_cuda()) {
        const std::string cuda_key =
            group_.rank() == 0 ? std::string("rng.cuda") : fmt::format("rng.cuda.rank{}", group_.rank());
        if (state.count(cuda_key)) {
          auto cuda_generator = at::globalContext().defaultGenerator(device_);
          cuda_generator.set_state(state.at(cuda_key));
        } else {
          log_warn("train", "{}: no '{}' (a CPU checkpoint?): GPU dropout continues from a fresh stream",
                   dir.string(), cuda_key);
        }
      }
      step_ = json.at("step").get<int64_t>();
      epoch_ = json.at("epoch").get<int64_t>();
      batch_ = json.at("batch").get<int64_t>();
      tokens_seen_ = json.at("tokens").get<int64_t>();
      best_step_ = json.at("best_step").get<int64_t>();
      best_eval_ = json["best_eval_loss"].is_null() ? std::numeric_limits<double>::infinity()
                                                    : json["best_eval_loss"].get<double>();
      order_ = epoch_plan();
    });
    log_info("train", "resumed at step {} of {} (epoch {}, batch {})", step_, total_steps_, epoch_, batch_);
    if (!group_.is_main()) return;
    // Keep the metrics up to the checkpoint: steps logged after it are about to be redone.
    const std::string path = (out_ / "metrics.jsonl").string();
    std::vector<io::Json> kept;
    if (fs::exists(path)) {
      for (auto& record : io::read_jsonl(path, true)) {
        if (record.value("step", int64_t{0}) > step_) continue;
        if (record.contains("loss")) {
          history_step_.push_back(record["step"].get<double>());
          history_loss_.push_back(record["loss"].get<double>());
        }
        if (record.contains("eval_loss")) {
          eval_step_.push_back(record["step"].get<double>());
          eval_loss_.push_back(record["eval_loss"].get<double>());
        }
        kept.push_back(std::move(record));
      }
    }
    io::write_jsonl_atomic(path, kept);
  }

  void plot() {
    if (!group_.is_main() || history_loss_.empty()) return;
    io::Figure figure;
    figure.title = o_.lora ? "LoRA fine-tuning" : "training";
    figure.xlabel = "step";
    figure.ylabel = "loss (nats/token)";
    figure.series.push_back({"train", history_step_, history_loss_, false, -1});
    if (!eval_loss_.empty()) figure.series.push_back({"eval", eval_step_, eval_loss_, true, -1});
    io::plot_png((out_ / "loss.png").string(), figure);
  }

  std::string export_final() {
    if (!group_.is_main()) return {};
    const fs::path dir = out_ / (o_.lora ? "adapter" : "model");
    if (o_.lora) {
      nn::save_adapter(*model_, o_.lora_config, dir.string(), o_.base_model);
    } else {
      nn::save_glm(*model_, dir.string());
    }
    log_info("train", "wrote {}", dir.string());
    return dir.string();
  }

  const TrainOptions& o_;
  ProcessGroup& group_;
  torch::Device device_;
  fs::path out_;
  std::vector<Sequence> train_, eval_;
  int64_t max_id_ = 0;
  nn::GlmModel model_{nullptr};
  std::unique_ptr<AdamW> optimizer_;
  std::optional<AudioFactorLayout> tied_audio_;  // --tie-audio-factors
  std::unique_ptr<GradientSync> sync_;
  std::vector<size_t> order_;
  int64_t batches_per_epoch_ = 0, steps_per_epoch_ = 0, total_steps_ = 0;
  int64_t step_ = 0, epoch_ = 0, batch_ = 0, tokens_seen_ = 0, best_step_ = 0;
  double best_eval_ = std::numeric_limits<double>::infinity(), lr_ = 0, grad_norm_ = 0;
  std::vector<double> history_step_, history_loss_, eval_step_, eval_loss_;
};

}  // namespace

TrainResult train_lora(const TrainOptions& options) {
  options.validate();
  torch::Device device(options.device);
  const auto env = detect_dist_env();
  if (!env) {
    SingleProcessGroup group;
    return Trainer(options, group, device).run();
  }
  if (device.is_cuda()) {
    if (device.has_index() && device.index() != env->local_rank) {
      log_warn("train", "--device {} ignored: local rank {} uses cuda:{}", options.device, env->local_rank,
               env->local_rank);
    }
    device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(env->local_rank));
  }
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(options.dist_timeout_s * 1000));
  auto group = make_c10d_group(*env, options.dist_backend, device, timeout);
  return Trainer(options, *group, device).run();
}

}  // namespace symp::train
