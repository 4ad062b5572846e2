// symp train-lora: LoRA fine-tuning (or full training of a small GLM from scratch) on encoded JSONL.
#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "command.h"
#include "symp/core/log.h"
#include "symp/train/distributed.h"
#include "symp/train/train_lora.h"

static symp::cli::Runner setup(CLI::App& app) {
  auto o = std::make_shared<symp::train::TrainOptions>();
  auto full = std::make_shared<bool>(false);
  auto overlong = std::make_shared<std::string>("skip");
  app.add_option("--train", o->train_file, "Encoded training JSONL (tokenize's encoded_train.jsonl)")
      ->required();
  app.add_option("--eval", o->eval_file, "Encoded evaluation JSONL");
  app.add_option("--out", o->out_dir,
                 "Output folder: checkpoints, metrics.jsonl, loss.png, adapter/ or model/")
      ->required();
  app.add_option("--model", o->base_model, "Base model folder to fine-tune");
  app.add_option("--init", o->init_config, "Train from scratch: 'tiny' or a config.json");
  app.add_option("--vocab-size", o->vocab_size, "Vocabulary of --init tiny (0: 1 + largest id in the data)")
      ->capture_default_str();
  app.add_option("--init-audio-factors", o->init_audio_factors,
                 "With --init: a `tokenize fit` folder; the embedded codec's audio ids (envelope x pitch x "
                 "energy) start with rows that share one vector per factor value");
  app.add_flag(
      "--tie-audio-factors", o->tie_audio_factors,
      "With --init-audio-factors and --full: keep the audio-id rows sums of per-factor vectors while "
      "training (projected after every step), so what the model learns about one pitch or energy "
      "level holds for every id that has it");
  app.add_flag("--full", *full, "Train every parameter instead of LoRA adapters");
  app.add_option("--lora-rank", o->lora_config.rank, "LoRA rank r")->capture_default_str();
  app.add_option("--lora-alpha", o->lora_config.alpha, "LoRA alpha (scale alpha / r)")->capture_default_str();
  app.add_option("--lora-dropout", o->lora_config.dropout, "LoRA dropout")->capture_default_str();
  app.add_option("--lora-targets", o->lora_config.targets, "Modules to adapt (ChatGLM names)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_flag("--rslora", o->lora_config.use_rslora, "Scale by alpha / sqrt(r) (rsLoRA)");
  app.add_option("--lora-modules-to-save", o->lora_config.modules_to_save,
                 "Modules trained in full and saved in the adapter, as PEFT's modules_to_save: only "
                 "word_embeddings (the input embedding), so ids the base never saw get learned vectors");
  app.add_option("--lr", o->lr, "Peak learning rate")->capture_default_str();
  app.add_option("--beta1", o->beta1, "AdamW beta1")->capture_default_str();
  app.add_option("--beta2", o->beta2, "AdamW beta2")->capture_default_str();
  app.add_option("--adam-eps", o->adam_eps, "AdamW epsilon")->capture_default_str();
  app.add_option("--weight-decay", o->weight_decay, "Decoupled weight decay")->capture_default_str();
  app.add_option("--warmup-steps", o->warmup_steps, "Linear warm-up steps")->capture_default_str();
  app.add_option("--schedule", o->schedule, "After warm-up: linear or constant")->capture_default_str();
  app.add_option("--epochs", o->epochs, "Epochs")->capture_default_str();
  app.add_option("--max-steps", o->max_steps, "Optimiser steps in all (0: from --epochs)")
      ->capture_default_str();
  app.add_option("--batch-size", o->batch_size, "Sequences per micro-batch")->capture_default_str();
  app.add_flag("--group-by-length", o->group_by_length,
               "Batch sequences of similar length together (less padding; batches still shuffled)");
  app.add_option("--grad-accum", o->grad_accum, "Micro-batches per optimiser step")->capture_default_str();
  app.add_option("--max-length", o->data.max_length, "Max tokens per sequence")->capture_default_str();
  app.add_option("--overlong", *overlong, "Longer sequences: skip, truncate or error")->capture_default_str();
  app.add_flag("--assistant-only", o->data.assistant_only, "Loss on the assistant part only");
  app.add_option("--clip", o->clip, "Gradient clipping norm (0: off)")->capture_default_str();
  app.add_option("--eval-every", o->eval_every, "Steps between evaluations")->capture_default_str();
  app.add_option("--save-every", o->save_every, "Steps between checkpoints")->capture_default_str();
  app.add_option("--keep", o->keep, "Checkpoints to keep besides the best (0: all)")->capture_default_str();
  app.add_flag("--resume", o->resume, "Continue from the last checkpoint in --out");
  app.add_option("--stop-after", o->stop_after, "Stop with a checkpoint after this many steps (0: never)")
      ->capture_default_str();
  app.add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--dtype", o->dtype, "Frozen base dtype: float32 or bfloat16")->capture_default_str();
  app.add_flag(
      "--gradient-checkpointing", o->gradient_checkpointing,
      "Recompute each block in backward instead of keeping its activations (less memory, ~1/3 slower)");
  app.add_option(
         "--nproc", o->nproc,
         "Data-parallel ranks to start on this machine (one per GPU with --device cuda). A process "
         "started by torchrun or srun joins its run from RANK/WORLD_SIZE/MASTER_ADDR or SLURM_* instead")
      ->capture_default_str();
  app.add_option("--dist-backend", o->dist_backend,
                 "c10d backend: auto (nccl on CUDA if built, else gloo), gloo, nccl")
      ->capture_default_str();
  app.add_option("--dist-timeout", o->dist_timeout_s,
                 "Seconds the rendezvous and each collective wait for the other ranks before failing")
      ->capture_default_str();
  app.add_option("--bucket-mb", o->bucket_mb, "Gradient all-reduce bucket size in MB")->capture_default_str();
  return [o, full, overlong, &app](const symp::cli::GlobalOptions& g) {
    o->data.overlong = symp::train::parse_overlong(*overlong);
    o->seed = g.seed;
    o->lora = !*full;
    o->validate();
    const auto env = symp::train::detect_dist_env();
    if (!env && o->nproc > 1) {  // the launcher: start the ranks, wait, report
      symp::cli::save_effective_config(app, o->out_dir);
      return symp::train::launch_local(o->nproc, symp::train::own_command_line());
    }
    if (env) {
      symp::set_log_prefix(fmt::format("rank {}", env->rank));
      if (env->rank != 0 && symp::log_level() == symp::LogLevel::Info)
        symp::set_log_level(symp::LogLevel::Warn);
      if (o->nproc > 1 && o->nproc != env->local_world_size) {
        symp::log_warn("train", "--nproc {} ignored: this process is rank {} of {} started by {}", o->nproc,
                       env->rank, env->world_size, env->source);
      }
    }
    if (!env || env->rank == 0) symp::cli::save_effective_config(app, o->out_dir);
    const auto result = symp::train::train_lora(*o);
    if (env && env->rank != 0) return 0;
    std::cout << fmt::format(
        "steps {}  loss {:.4f} -> {:.4f}  best eval {:.4f} at step {}  {:.0f} tokens/s  {}\n", result.steps,
        result.first_loss, result.last_loss, result.best_eval_loss, result.best_step,
        result.tokens_per_second, result.output);
    return 0;
  };
}

SYMP_COMMAND(train_lora, "train-lora", 60, "LoRA fine-tuning (or training from scratch) of a GLM model",
             setup)
