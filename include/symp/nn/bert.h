#pragma once
// BERT-family sentence and token encoders (BertModel, DistilBertModel) loaded from the files a model
// ships: config.json, model.safetensors (or shards), vocab.txt, and optionally tokenizer_config.json and
// sentence_bert_config.json. all-MiniLM-L6-v2 is a BertModel; distilbert-base-uncased, which BERTScore
// uses in the reference code, a DistilBertModel. No torch in this header (pimpl); float32 on the CPU.
//
//   auto embedder = symp::nn::make_bert_embedder("models/all-MiniLM-L6-v2");
//   auto rows = embedder->embed({"hello there", "hi"});  // mean-pooled, L2-normalised, 384 dims
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "symp/text/bertscore.h"
#include "symp/text/embedder.h"
#include "symp/text/wordpiece.h"

namespace symp::nn {

class BertEncoder {
 public:
  // Reads the folder; InputError naming the file and tensor for a missing, misshapen or unused tensor
  // (a pooler, position_ids buffer and task heads are known extras and skipped).
  explicit BertEncoder(const std::string& model_dir);
  ~BertEncoder();
  BertEncoder(BertEncoder&&) noexcept;
  BertEncoder& operator=(BertEncoder&&) noexcept;

  const text::WordPieceTokenizer& tokenizer() const;
  int num_layers() const;
  int hidden_size() const;
  std::string describe() const;  // "all-MiniLM-L6-v2 (BERT, 6 layers, hidden 384)"

  // Every layer's states for one id sequence: [layers + 1][tokens][hidden], the embeddings first.
  std::vector<std::vector<std::vector<float>>> hidden_states(const std::vector<int64_t>& ids) const;
  // The states of one layer (0 = embeddings, num_layers() = last) for each sequence, padded batches of
  // `batch_size` with an attention mask.
  std::vector<std::vector<std::vector<float>>> layer_states(const std::vector<std::vector<int64_t>>& ids,
                                                            int layer, int batch_size = 32) const;
  // Mean over the tokens of the last layer ([CLS] and [SEP] included, as sentence-transformers does),
  // then L2 normalisation.
  std::vector<std::vector<float>> mean_pooled(const std::vector<std::vector<int64_t>>& ids,
                                              int batch_size = 32) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A text::Embedder over BertEncoder::mean_pooled (what sentence-transformers computes for MiniLM).
std::unique_ptr<text::Embedder> make_bert_embedder(const std::string& model_dir);

// Token vectors of `layer` (-1 = the last) for BERTScore. bert-score's default layers: 5 for
// distilbert-base-uncased, 9 for bert-base-uncased.
std::unique_ptr<text::TokenEncoder> make_bert_token_encoder(const std::string& model_dir, int layer);

// `symp embed`: texts in (one JSON string per line; empty strings allowed), float32 `embeddings` [N, D]
// out as safetensors, and optionally one {"input_ids": [...]} line per text.
struct EmbedOptions {
  std::string model_dir;  // a BERT-family model folder
  std::string in_path;    // JSONL, one JSON string per line
  std::string out_path;   // .safetensors with `embeddings` [N, D]
  std::string ids_out;    // optional JSONL of the token ids each text was encoded with
  int batch_size = 32;    // texts per forward pass
  void validate() const;
};

// Returns the number of texts embedded.
size_t run_embed(const EmbedOptions& options);

}  // namespace symp::nn
