// symp embed: sentence embeddings from a BERT-family model folder (all-MiniLM-L6-v2 and the like).
#include "command.h"
#include "symp/nn/bert.h"

namespace {

symp::cli::Runner setup(CLI::App& app) {
  auto o = std::make_shared<symp::nn::EmbedOptions>();
  app.add_option("--model", o->model_dir,
                 "BERT-family model folder (config.json, model.safetensors, vocab.txt)")
      ->required();
  app.add_option("--in", o->in_path, "Texts: one JSON string per line (empty strings allowed)")->required();
  app.add_option("--out", o->out_path, "Output safetensors with float32 `embeddings` [N, D]")->required();
  app.add_option("--ids-out", o->ids_out, "Optional JSONL of {\"input_ids\": [...]} per text");
  app.add_option("--batch-size", o->batch_size, "Texts per forward pass")->capture_default_str();
  return [o, &app](const symp::cli::GlobalOptions&) {
    o->validate();
    symp::cli::save_effective_config_for_file(app, o->out_path);
    symp::nn::run_embed(*o);
    return 0;
  };
}

}  // namespace

SYMP_COMMAND(embed, "embed", 75, "Sentence embeddings (mean-pooled, L2-normalised) from a BERT-family model",
             setup)
