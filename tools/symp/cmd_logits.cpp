// symp logits: run a GLM model (and adapter) over token ids and write the logits (the parity contract).
#include <memory>

#include "command.h"
#include "symp/nn/logits.h"

static symp::cli::Runner setup(CLI::App& app) {
  auto o = std::make_shared<symp::nn::LogitsOptions>();
  auto ids = std::make_shared<std::string>();
  app.add_option("--model", o->model_dir, "Model folder (config.json + safetensors)")->required();
  app.add_option("--adapter", o->adapter_dir, "PEFT adapter folder");
  app.add_option("--ids", *ids, "Token ids, comma separated")->required();
  app.add_option("--out", o->out, "Output .safetensors (float32 'logits' [T, vocab])")->required();
  app.add_option("--dtype", o->dtype, "Model dtype: float32 or bfloat16")->capture_default_str();
  app.add_flag("--merge", o->merge, "Merge the adapter into the base weights first");
  return [o, ids, &app](const symp::cli::GlobalOptions&) {
    o->ids = symp::nn::parse_ids(*ids);
    o->validate();
    symp::cli::save_effective_config_for_file(app, o->out);
    symp::nn::write_logits(*o);
    return 0;
  };
}

SYMP_COMMAND(logits, "logits", 45, "Logits of a GLM model (and adapter) for token ids, as safetensors", setup)
