#include "symp/nn/bert_config.h"

#include <fmt/format.h>

#include <cmath>

#include "symp/core/error.h"
#include "symp/io/jsonl.h"

namespace symp::nn {
namespace {

constexpr int kMaxSize = 1 << 24;

int require_size(const io::Json& j, const char* key, const std::string& file) {
  if (!j.contains(key)) throw InputError(fmt::format("{}: field '{}' is missing", file, key));
  int value = 0;
  io::read_optional(j, key, value, file);
  if (value <= 0 || value > kMaxSize)
    throw InputError(fmt::format("{}: field '{}' = {} outside 1..{}", file, key, value, kMaxSize));
  return value;
}

template <class T>
T optional_field(const io::Json& j, const char* key, T fallback, const std::string& file) {
  io::read_optional(j, key, fallback, file);
  return fallback;
}

}  // namespace

BertConfig read_bert_config(const std::string& path) {
  const io::Json j = io::read_json(path);
  if (!j.is_object()) throw InputError(path + ": expected a JSON object");
  BertConfig c;
  const std::string type = optional_field<std::string>(j, "model_type", "", path);
  if (type == "bert") {
    c.family = BertFamily::Bert;
    c.hidden = require_size(j, "hidden_size", path);
    c.heads = require_size(j, "num_attention_heads", path);
    c.layers = require_size(j, "num_hidden_layers", path);
    c.intermediate = require_size(j, "intermediate_size", path);
    c.type_vocab = require_size(j, "type_vocab_size", path);
    c.eps = optional_field<double>(j, "layer_norm_eps", 1e-12, path);
    c.activation = optional_field<std::string>(j, "hidden_act", "gelu", path);
    const auto pos = optional_field<std::string>(j, "position_embedding_type", "absolute", path);
    if (pos != "absolute")
      throw InputError(path + ": field 'position_embedding_type' = '" + pos + "' is not supported");
  } else if (type == "distilbert") {
    c.family = BertFamily::DistilBert;
    c.hidden = require_size(j, "dim", path);
    c.heads = require_size(j, "n_heads", path);
    c.layers = require_size(j, "n_layers", path);
    c.intermediate = require_size(j, "hidden_dim", path);
    c.activation = optional_field<std::string>(j, "activation", "gelu", path);
  } else {
    throw InputError(path + ": field 'model_type' = '" + type +
                     "' is not a BERT-family encoder (bert, distilbert)");
  }
  c.max_positions = require_size(j, "max_position_embeddings", path);
  c.vocab = require_size(j, "vocab_size", path);
  if (c.hidden % c.heads != 0) {
    throw InputError(path + ": hidden size " + std::to_string(c.hidden) + " is not a multiple of the " +
                     std::to_string(c.heads) + " heads");
  }
  if (!(std::isfinite(c.eps) && c.eps > 0))
    throw InputError(fmt::format("{}: field 'layer_norm_eps' = {} must be a positive number", path, c.eps));
  if (c.activation != "gelu" && c.activation != "gelu_new" && c.activation != "gelu_pytorch_tanh" &&
      c.activation != "relu") {
    throw InputError(path + ": activation '" + c.activation + "' is not supported");
  }
  return c;
}

}  // namespace symp::nn
