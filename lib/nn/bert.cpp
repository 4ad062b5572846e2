#include "symp/nn/bert.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <set>

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/io/jsonl.h"
#include "symp/io/safetensors.h"
#include "symp/nn/bert_config.h"
#include "symp/nn/tensor_io.h"

namespace symp::nn {
namespace fs = std::filesystem;

namespace {

// Takes tensors out of a checkpoint by name with shape checks, and afterwards lists what was not used.
class WeightReader {
 public:
  WeightReader(io::SafetensorsModel model, std::string prefix, std::string where)
      : model_(std::move(model)), prefix_(std::move(prefix)), where_(std::move(where)) {}

  torch::Tensor take(const std::string& name, std::vector<int64_t> shape) {
    std::string key = prefix_ + name;
    if (!model_.contains(key)) throw InputError(where_ + ": tensor '" + key + "' is missing");
    const auto& view = model_.get(key);
    if (view.shape != shape) {
      throw InputError(where_ + ": tensor '" + key + "' has shape " + view.shape_string() + ", expected " +
                       io::TensorView{"", io::DType::F32, shape, nullptr, 0, ""}.shape_string());
    }
    used_.insert(key);
    return to_tensor(view, torch::kFloat32);
  }

  // Unused tensors must be known extras: the pooler, the position_ids buffer, or task heads outside
  // the encoder's prefix.
  void check_all_used() const {
    static const std::vector<std::string> heads = {
        "cls.",        "vocab_transform.", "vocab_layer_norm.", "vocab_projector.",
        "classifier.", "pre_classifier.",  "qa_outputs.",       "lm_head."};
    std::vector<std::string> skipped;
    for (const auto& name : model_.names()) {
      if (used_.count(name)) continue;
      bool inside = name.compare(0, prefix_.size(), prefix_) == 0;
      std::string rest = inside ? name.substr(prefix_.size()) : name;
      bool known = rest.rfind("pooler.", 0) == 0 || rest == "embeddings.position_ids" || !inside ||
                   std::any_of(heads.begin(), heads.end(),
                               [&](const std::string& h) { return rest.rfind(h, 0) == 0; });
      if (!known) throw InputError(where_ + ": tensor '" + name + "' is not used by the encoder");
      skipped.push_back(name);
    }
    if (!skipped.empty())
      log_info("bert", "{}: skipped {} tensors outside the encoder (e.g. {})", where_, skipped.size(),
               skipped.front());
  }

 private:
  io::SafetensorsModel model_;
  std::string prefix_, where_;
  std::set<std::string> used_;
};

struct LayerNorm {
  torch::Tensor weight, bias;
};

struct Layer {
  torch::Tensor q_w, q_b, k_w, k_b, v_w, v_b, o_w, o_b;
  LayerNorm attn_norm;
  torch::Tensor ff1_w, ff1_b, ff2_w, ff2_b;
  LayerNorm out_norm;
};

}  // namespace

struct BertEncoder::Impl {
  BertConfig config;
  std::string name;
  text::WordPieceTokenizer tokenizer;
  torch::Tensor word_emb, pos_emb, type_emb;
  LayerNorm emb_norm;
  std::vector<Layer> layers;

  torch::Tensor norm(const torch::Tensor& x, const LayerNorm& n) const {
    return torch::layer_norm(x, {config.hidden}, n.weight, n.bias, config.eps);
  }

  torch::Tensor activate(const torch::Tensor& x) const {
    if (config.activation == "relu") return torch::relu(x);
    if (config.activation == "gelu") return torch::gelu(x);  // exact (erf) GELU
    // gelu_new / gelu_pytorch_tanh: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
    return 0.5 * x * (1.0 + torch::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * torch::pow(x, 3))));
  }

  // ids, mask: [B, T]. Returns the states of layers 0..upto (0 = embeddings).
  std::vector<torch::Tensor> forward(const torch::Tensor& ids, const torch::Tensor& mask, int upto) const {
    const int64_t b = ids.size(0), t = ids.size(1), h = config.heads, dh = config.hidden / config.heads;
    auto positions = torch::arange(t, torch::kLong);
    auto x = word_emb.index_select(0, ids.reshape({-1})).reshape({b, t, config.hidden}) +
             pos_emb.index_select(0, positions).unsqueeze(0);
    if (type_emb.defined()) x = x + type_emb[0];  // token type 0 everywhere: one segment
    x = norm(x, emb_norm);
    // Additive mask: 0 where attended, the float minimum at padding (as transformers does).
    auto additive =
        (1.0 - mask.to(torch::kFloat32)).view({b, 1, 1, t}) * std::numeric_limits<float>::lowest();
    std::vector<torch::Tensor> states{x};
    for (int l = 0; l < upto; ++l) {
      const Layer& L = layers[static_cast<size_t>(l)];
      auto split = [&](const torch::Tensor& y) { return y.view({b, t, h, dh}).transpose(1, 2); };
      auto q = split(torch::linear(x, L.q_w, L.q_b));
      auto k = split(torch::linear(x, L.k_w, L.k_b));
      auto v = split(torch::linear(x, L.v_w, L.v_b));
      auto scores = torch::matmul(q, k.transpose(-1, -2)) / std::sqrt(static_cast<double>(dh)) + additive;
      auto context =
          torch::matmul(torch::softmax(scores, -1), v).transpose(1, 2).reshape({b, t, config.hidden});
      x = norm(x + torch::linear(context, L.o_w, L.o_b), L.attn_norm);
      auto ff = torch::linear(activate(torch::linear(x, L.ff1_w, L.ff1_b)), L.ff2_w, L.ff2_b);
      x = norm(x + ff, L.out_norm);
      states.push_back(x);
    }
    return states;
  }

  // Pads a batch with [PAD] and builds its attention mask.
  std::pair<torch::Tensor, torch::Tensor> pad(const std::vector<const std::vector<int64_t>*>& batch) const {
    size_t t = 0;
    for (const auto* ids : batch) t = std::max(t, ids->size());
    if (t > static_cast<size_t>(config.max_positions)) {
      throw InputError(name + ": a sequence of " + std::to_string(t) +
                       " tokens exceeds max_position_embeddings " + std::to_string(config.max_positions));
    }
    auto ids = torch::full({static_cast<int64_t>(batch.size()), static_cast<int64_t>(t)}, tokenizer.pad_id(),
                           torch::kLong);
    auto mask = torch::zeros({static_cast<int64_t>(batch.size()), static_cast<int64_t>(t)}, torch::kLong);
    for (size_t i = 0; i < batch.size(); ++i) {
      for (size_t j = 0; j < batch[i]->size(); ++j) {
        int64_t id = (*batch[i])[j];
        if (id < 0 || id >= config.vocab)
          throw InputError(name + ": token id " + std::to_string(id) + " out of range");
        ids[static_cast<int64_t>(i)][static_cast<int64_t>(j)] = id;
        mask[static_cast<int64_t>(i)][static_cast<int64_t>(j)] = 1;
      }
    }
    return {ids, mask};
  }

  // Runs `fn(batch_indices, states_of_layer, mask)` over batches of similar length.
  template <class Fn>
  void batched(const std::vector<std::vector<int64_t>>& all, int layer, int batch_size, Fn&& fn) const {
    std::vector<size_t> order(all.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return all[a].size() < all[b].size(); });
    torch::InferenceMode guard;
    for (size_t start = 0; start < order.size(); start += static_cast<size_t>(batch_size)) {
      std::vector<size_t> idx(order.begin() + static_cast<std::ptrdiff_t>(start),
                              order.begin() + static_cast<std::ptrdiff_t>(std::min(
                                                  order.size(), start + static_cast<size_t>(batch_size))));
      std::vector<const std::vector<int64_t>*> batch;
      for (size_t i : idx) batch.push_back(&all[i]);
      auto [ids, mask] = pad(batch);
      auto states = forward(ids, mask, layer);
      fn(idx, states.back(), mask);
    }
  }
};

namespace {

std::vector<std::vector<float>> to_rows(const torch::Tensor& t) {
  auto c = t.contiguous().to(torch::kFloat32);
  std::vector<std::vector<float>> rows(static_cast<size_t>(c.size(0)));
  const float* p = c.data_ptr<float>();
  for (size_t i = 0; i < rows.size(); ++i) {
    rows[i].assign(p + i * static_cast<size_t>(c.size(1)), p + (i + 1) * static_cast<size_t>(c.size(1)));
  }
  return rows;
}

}  // namespace

BertEncoder::BertEncoder(const std::string& model_dir) : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.name = fs::path(model_dir).filename().string();
  if (m.name.empty()) m.name = fs::path(model_dir).parent_path().filename().string();
  m.config = read_bert_config((fs::path(model_dir) / "config.json").string());
  m.tokenizer = text::WordPieceTokenizer::from_model_dir(model_dir);
  const BertConfig& c = m.config;
  if (m.tokenizer.options().max_length > static_cast<size_t>(c.max_positions)) {
    // Truncate to what the position table holds rather than fail on a long text.
    auto options = m.tokenizer.options();
    options.max_length = static_cast<size_t>(c.max_positions);
    m.tokenizer = text::WordPieceTokenizer::load((fs::path(model_dir) / "vocab.txt").string(), options);
  }
  if (m.tokenizer.vocab_size() > static_cast<size_t>(c.vocab)) {
    throw InputError(model_dir + ": vocab.txt has " + std::to_string(m.tokenizer.vocab_size()) +
                     " lines but config.json's vocab_size is " + std::to_string(c.vocab));
  }
  auto model = io::SafetensorsModel::open(model_dir);
  // Checkpoints of task models keep the encoder under "bert." or "distilbert.".
  std::string prefix;
  for (const char* p : {"bert.", "distilbert."}) {
    if (model.contains(std::string(p) + "embeddings.word_embeddings.weight")) prefix = p;
  }
  WeightReader w(std::move(model), prefix, model_dir);
  const int64_t d = c.hidden, f = c.intermediate;
  m.word_emb = w.take("embeddings.word_embeddings.weight", {c.vocab, d});
  m.pos_emb = w.take("embeddings.position_embeddings.weight", {c.max_positions, d});
  if (c.family == BertFamily::Bert)
    m.type_emb = w.take("embeddings.token_type_embeddings.weight", {c.type_vocab, d});
  m.emb_norm = {w.take("embeddings.LayerNorm.weight", {d}), w.take("embeddings.LayerNorm.bias", {d})};
  for (int l = 0; l < c.layers; ++l) {
    Layer L;
    auto lin = [&](const std::string& base, int64_t out, int64_t in, torch::Tensor& weight,
                   torch::Tensor& bias) {
      weight = w.take(base + ".weight", {out, in});
      bias = w.take(base + ".bias", {out});
    };
    auto ln = [&](const std::string& base) {
      return LayerNorm{w.take(base + ".weight", {d}), w.take(base + ".bias", {d})};
    };
    if (c.family == BertFamily::Bert) {
      std::string p = "encoder.layer." + std::to_string(l) + ".";
      lin(p + "attention.self.query", d, d, L.q_w, L.q_b);
      lin(p + "attention.self.key", d, d, L.k_w, L.k_b);
      lin(p + "attention.self.value", d, d, L.v_w, L.v_b);
      lin(p + "attention.output.dense", d, d, L.o_w, L.o_b);
      L.attn_norm = ln(p + "attention.output.LayerNorm");
      lin(p + "intermediate.dense", f, d, L.ff1_w, L.ff1_b);
      lin(p + "output.dense", d, f, L.ff2_w, L.ff2_b);
      L.out_norm = ln(p + "output.LayerNorm");
    } else {
      std::string p = "transformer.layer." + std::to_string(l) + ".";
      lin(p + "attention.q_lin", d, d, L.q_w, L.q_b);
      lin(p + "attention.k_lin", d, d, L.k_w, L.k_b);
      lin(p + "attention.v_lin", d, d, L.v_w, L.v_b);
      lin(p + "attention.out_lin", d, d, L.o_w, L.o_b);
      L.attn_norm = ln(p + "sa_layer_norm");
      lin(p + "ffn.lin1", f, d, L.ff1_w, L.ff1_b);
      lin(p + "ffn.lin2", d, f, L.ff2_w, L.ff2_b);
      L.out_norm = ln(p + "output_layer_norm");
    }
    m.layers.push_back(std::move(L));
  }
  w.check_all_used();
}

BertEncoder::~BertEncoder() = default;
BertEncoder::BertEncoder(BertEncoder&&) noexcept = default;
BertEncoder& BertEncoder::operator=(BertEncoder&&) noexcept = default;

const text::WordPieceTokenizer& BertEncoder::tokenizer() const {
  return impl_->tokenizer;
}
int BertEncoder::num_layers() const {
  return impl_->config.layers;
}
int BertEncoder::hidden_size() const {
  return impl_->config.hidden;
}

std::string BertEncoder::describe() const {
  const BertConfig& c = impl_->config;
  return impl_->name + " (" + (c.family == BertFamily::Bert ? "BERT" : "DistilBERT") + ", " +
         std::to_string(c.layers) + " layers, hidden " + std::to_string(c.hidden) + ")";
}

std::vector<std::vector<std::vector<float>>> BertEncoder::hidden_states(
    const std::vector<int64_t>& ids) const {
  torch::InferenceMode guard;
  auto [tensor, mask] = impl_->pad({&ids});
  std::vector<std::vector<std::vector<float>>> out;
  for (const auto& state : impl_->forward(tensor, mask, num_layers())) out.push_back(to_rows(state[0]));
  return out;
}

std::vector<std::vector<std::vector<float>>> BertEncoder::layer_states(
    const std::vector<std::vector<int64_t>>& ids, int layer, int batch_size) const {
  if (layer < 0 || layer > num_layers()) {
    throw UsageError("bert: layer " + std::to_string(layer) + " is outside 0.." +
                     std::to_string(num_layers()));
  }
  std::vector<std::vector<std::vector<float>>> out(ids.size());
  impl_->batched(ids, layer, std::max(1, batch_size),
                 [&](const std::vector<size_t>& idx, const torch::Tensor& states, const torch::Tensor&) {
                   for (size_t i = 0; i < idx.size(); ++i) {
                     auto len = static_cast<int64_t>(ids[idx[i]].size());
                     out[idx[i]] = to_rows(states[static_cast<int64_t>(i)].slice(0, 0, len));
                   }
                 });
  return out;
}

std::vector<std::vector<float>> BertEncoder::mean_pooled(const std::vector<std::vector<int64_t>>& ids,
                                                         int batch_size) const {
  std::vector<std::vector<float>> out(ids.size());
  impl_->batched(ids, num_layers(), std::max(1, batch_size),
                 [&](const std::vector<size_t>& idx, const torch::Tensor& states, const torch::Tensor& mask) {
                   // sentence-transformers: sum(h * mask) / max(sum(mask), 1e-9), then x / max(|x|, 1e-12).
                   auto m = mask.to(torch::kFloat32).unsqueeze(-1);
                   auto pooled = (states * m).sum(1) / m.sum(1).clamp_min(1e-9);
                   pooled = pooled / pooled.norm(2, -1, true).clamp_min(1e-12);
                   auto rows = to_rows(pooled);
                   for (size_t i = 0; i < idx.size(); ++i) out[idx[i]] = std::move(rows[i]);
                 });
  return out;
}

namespace {

class BertEmbedder : public text::Embedder {
 public:
  explicit BertEmbedder(const std::string& dir) : encoder_(dir) {}
  std::vector<std::vector<float>> embed(const std::vector<std::string>& texts) override {
    std::vector<std::vector<int64_t>> ids;
    ids.reserve(texts.size());
    for (const auto& t : texts) ids.push_back(encoder_.tokenizer().encode(t));
    return encoder_.mean_pooled(ids);
  }
  int dim() const override { return encoder_.hidden_size(); }
  std::string describe() const override { return encoder_.describe() + ", mean pooling, L2-normalised"; }

 private:
  BertEncoder encoder_;
};

class BertTokenEncoder : public text::TokenEncoder {
 public:
  BertTokenEncoder(const std::string& dir, int layer)
      : encoder_(dir), layer_(layer < 0 ? encoder_.num_layers() : layer) {
    if (layer_ > encoder_.num_layers()) {
      throw UsageError("bertscore: layer " + std::to_string(layer_) + " but " + dir + " has " +
                       std::to_string(encoder_.num_layers()) + " layers");
    }
  }
  std::vector<text::TokenVectors> encode_tokens(const std::vector<std::string>& texts) override {
    std::vector<std::vector<int64_t>> ids;
    ids.reserve(texts.size());
    for (const auto& t : texts) ids.push_back(encoder_.tokenizer().encode(t));
    auto states = encoder_.layer_states(ids, layer_);
    std::vector<text::TokenVectors> out(texts.size());
    for (size_t i = 0; i < texts.size(); ++i) out[i] = {std::move(ids[i]), std::move(states[i])};
    return out;
  }
  std::vector<int64_t> special_ids() const override {
    return {encoder_.tokenizer().cls_id(), encoder_.tokenizer().sep_id()};
  }
  std::string describe() const override {
    return encoder_.describe() + ", layer " + std::to_string(layer_) + ", BERTScore without idf or rescaling";
  }

 private:
  BertEncoder encoder_;
  int layer_;
};

}  // namespace

std::unique_ptr<text::Embedder> make_bert_embedder(const std::string& model_dir) {
  return std::make_unique<BertEmbedder>(model_dir);
}

std::unique_ptr<text::TokenEncoder> make_bert_token_encoder(const std::string& model_dir, int layer) {
  return std::make_unique<BertTokenEncoder>(model_dir, layer);
}

void EmbedOptions::validate() const {
  if (model_dir.empty()) throw UsageError("embed: --model is required");
  if (in_path.empty()) throw UsageError("embed: --in is required");
  if (out_path.empty()) throw UsageError("embed: --out is required");
  if (batch_size < 1) throw UsageError("embed: batch_size must be >= 1, got " + std::to_string(batch_size));
}

size_t run_embed(const EmbedOptions& options) {
  options.validate();
  // Input lines are JSON strings, not objects, so they are parsed here rather than with read_jsonl.
  std::vector<std::string> texts;
  {
    std::string content = read_text_file(options.in_path);
    size_t line_no = 0, pos = 0;
    while (pos < content.size()) {
      size_t end = content.find('\n', pos);
      if (end == std::string::npos) end = content.size();
      std::string line = content.substr(pos, end - pos);
      pos = end + 1;
      ++line_no;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      io::Json j;
      try {
        j = io::Json::parse(line);
      } catch (const std::exception& e) {
        throw InputError(options.in_path + ":" + std::to_string(line_no) + ": not JSON: " + e.what());
      }
      if (!j.is_string())
        throw InputError(options.in_path + ":" + std::to_string(line_no) + ": not a JSON string");
      texts.push_back(j.get<std::string>());
    }
  }
  BertEncoder encoder(options.model_dir);
  std::vector<std::vector<int64_t>> ids;
  for (const auto& t : texts) ids.push_back(encoder.tokenizer().encode(t));
  auto rows = encoder.mean_pooled(ids, options.batch_size);
  const auto d = static_cast<size_t>(encoder.hidden_size());
  std::vector<float> flat;
  flat.reserve(rows.size() * d);
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  io::SafetensorsWriter writer;
  writer.add_f32("embeddings", {static_cast<int64_t>(rows.size()), static_cast<int64_t>(d)}, flat);
  writer.set_metadata("model", encoder.describe());
  writer.write(options.out_path);
  if (!options.ids_out.empty()) {
    std::vector<io::Json> lines;
    for (const auto& i : ids) lines.push_back(io::Json{{"input_ids", i}});
    io::write_jsonl_atomic(options.ids_out, lines);
  }
  log_info("embed", "{} texts -> {} ({})", texts.size(), options.out_path, encoder.describe());
  return texts.size();
}

}  // namespace symp::nn
