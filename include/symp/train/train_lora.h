#pragma once
// `symp train-lora`: LoRA fine-tuning of a GLM model on tokenize's encoded JSONL, or full-parameter
// training of a small GLM from scratch (the embedded pipeline). Defaults are PAPER.md section 5's.
// Checkpoints (atomic, resumable bit for bit on CPU), metrics JSONL and a loss-curve PNG go to out_dir.
// No torch in this header.
#include <cstdint>
#include <string>

#include "symp/nn/lora_config.h"
#include "symp/train/dataset.h"

namespace symp::train {

struct TrainOptions {
  std::string train_file;   // encoded_train.jsonl
  std::string eval_file;    // encoded_eval.jsonl; empty = no evaluation
  std::string out_dir;      // checkpoints/, metrics.jsonl, loss.png, adapter/ or model/
  std::string base_model;   // model folder to fine-tune (with LoRA or fully)
  std::string init_config;  // instead of base_model: "tiny" or a config.json, random weights (from scratch)
  int64_t vocab_size = 0;   // vocabulary of init_config "tiny"; 0 = 1 + the largest id in the data
  // With init_config: a `tokenize fit` folder; its embedded codec's audio ids (a product code of envelope,
  // pitch and energy) start with rows that share one vector per factor value (GlmModel::init_product_rows).
  std::string init_audio_factors;
  // With init_audio_factors and full training: after every optimiser step the audio-id rows are projected
  // back onto sums of per-factor vectors (GlmModel::project_product_rows), so they stay tied while training.
  bool tie_audio_factors = false;
  bool lora = true;  // train adapters on a frozen base; false = every parameter
  nn::LoraConfig lora_config;
  DatasetOptions data;

  double lr = 1e-4;                 // peak learning rate
  double beta1 = 0.9;               // AdamW
  double beta2 = 0.999;             // AdamW
  double adam_eps = 1e-8;           // AdamW
  double weight_decay = 0.01;       // decoupled; not on norms and biases (the reference code passes none: 0)
  int64_t warmup_steps = 50;        // linear warm-up from 0
  std::string schedule = "linear";  // after warm-up: "linear" decay to 0 at the last step, or "constant"
  int64_t epochs = 5;
  int64_t max_steps = 0;          // optimiser steps in all; 0 = epochs x steps per epoch
  int64_t batch_size = 1;         // sequences per micro-batch (right-padded)
  bool group_by_length = false;   // batch sequences of similar length together (dataset.h group_by_length)
  int64_t grad_accum = 4;         // micro-batches per optimiser step
  double clip = 1.0;              // max global gradient norm; 0 = off
  int64_t eval_every = 200;       // steps between evaluations (and at the end); 0 = only at the end
  int64_t save_every = 200;       // steps between checkpoints (and at the end)
  int64_t keep = 0;               // checkpoints kept (the best one always); 0 = all
  bool resume = false;            // continue from the last checkpoint in out_dir
  int64_t stop_after = 0;         // stop (with a checkpoint) after this many steps of this run; 0 = never
  std::string device = "cpu";     // "cpu", "cuda", "cuda:1"
  std::string dtype = "float32";  // dtype of a frozen base: float32 or bfloat16 (adapters stay fp32)
  bool gradient_checkpointing = false;  // recompute each block in backward instead of keeping activations

  // Data parallelism (docs/training.md): a process started by torchrun, SLURM or --nproc joins its ranks.
  int nproc = 1;                      // local ranks `symp train-lora` starts itself (the command does it)
  std::string dist_backend = "auto";  // auto (nccl on CUDA when built with it, else gloo), gloo or nccl
  double dist_timeout_s = 1800;       // rendezvous and collectives give up after this long
  double bucket_mb = 25;              // gradient all-reduce bucket size
  uint64_t seed = 42;                 // model init, adapters, dropout and data order

  void validate() const;  // UsageError naming the field and value
};

struct TrainResult {
  int64_t steps = 0;             // optimiser steps done in all (resumed ones included)
  double last_loss = 0;          // training loss of the last step
  double first_loss = 0;         // training loss of step 1 (from metrics when resumed)
  double best_eval_loss = 0;     // lowest evaluation loss (0 without eval data)
  int64_t best_step = 0;         // its step
  double tokens_per_second = 0;  // training throughput of this run
  std::string output;            // the exported adapter/ or model/ folder
};

TrainResult train_lora(const TrainOptions& options);

}  // namespace symp::train
