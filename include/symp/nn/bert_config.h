#pragma once
// The sizes of a BERT-family encoder (symp/nn/bert.h), read from its config.json as transformers writes it
// for BertModel and DistilBertModel. No torch here, so the reader can be used and fuzzed without it.
#include <string>

namespace symp::nn {

enum class BertFamily { Bert, DistilBert };

struct BertConfig {
  BertFamily family = BertFamily::Bert;
  int hidden = 0, heads = 0, layers = 0, intermediate = 0, max_positions = 0, type_vocab = 0, vocab = 0;
  double eps = 1e-12;      // LayerNorm epsilon (DistilBERT hard-codes 1e-12)
  std::string activation;  // "gelu", "gelu_new", "gelu_pytorch_tanh", "relu"
};

// InputError naming the file and the field: a model type other than bert or distilbert, a size missing,
// not an integer or outside 1..2^24, heads that do not divide the hidden size, an unsupported activation
// or position embedding.
BertConfig read_bert_config(const std::string& path);

}  // namespace symp::nn
