#include "stop_tokens.h"

#include <filesystem>

#include "symp/core/error.h"
#include "symp/io/jsonl.h"

namespace symp::infer {

namespace fs = std::filesystem;

std::map<int64_t, std::string> stop_tokens(const std::string& model_dir, const std::string& tokenizer_dir,
                                           const text::ChatTokenizer& tokenizer) {
  std::map<int64_t, std::string> stops;
  for (const char* name : {"<|user|>", "<|observation|>"}) {
    try {
      stops[tokenizer.special_id(name)] = name;
    } catch (const InputError&) {
      if (std::string(name) == "<|user|>") throw;  // the layout cannot end a turn without it
    }
  }
  const auto generation = fs::path(model_dir) / "generation_config.json";
  if (fs::exists(generation)) {
    const auto j = io::read_json(generation.string());
    if (j.contains("eos_token_id")) {
      const auto& e = j["eos_token_id"];
      std::vector<int64_t> ids;
      if (e.is_number_integer())
        ids.push_back(e.get<int64_t>());
      else if (e.is_array())
        ids = with_context(generation.string() + ": field 'eos_token_id'",
                           [&] { return e.get<std::vector<int64_t>>(); });
      for (int64_t id : ids) {
        if (!stops.count(id))
          stops[id] = id < tokenizer.vocab_size() ? tokenizer.decode({id}) : std::to_string(id);
      }
    }
  }
  const auto config = fs::path(tokenizer_dir) / "tokenizer_config.json";
  if (fs::exists(config)) {
    const auto j = io::read_json(config.string());
    std::string eos;
    if (j.contains("eos_token") && j["eos_token"].is_string()) eos = j["eos_token"].get<std::string>();
    if (j.contains("eos_token") && j["eos_token"].is_object()) eos = j["eos_token"].value("content", "");
    if (!eos.empty())
      stops[with_context(config.string() + ": eos_token", [&] { return tokenizer.special_id(eos); })] = eos;
  }
  return stops;
}

}  // namespace symp::infer
