#include "symp/infer/probe.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "model_io.h"
#include "symp/affect/affect.h"
#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/core/progress.h"
#include "symp/core/rng.h"
#include "symp/io/jsonl.h"
#include "symp/nn/glm.h"
#include "symp/records/encoded.h"

namespace symp::infer {
namespace {

using io::Json;

struct ProbeRecord {
  std::string id;
  size_t truth = 0;                            // index of the record's anchor
  std::vector<std::vector<int64_t>> variants;  // ids under each anchor's system prompt
  std::vector<int64_t> starts;                 // first reply id in each variant
};

// The record's text with its system line replaced: "<|system|>\n{line}\n<|user|>..." -> {line} = `system`.
std::string with_system(const std::string& text, const std::string& system, const std::string& where) {
  const std::string head = "<|system|>\n";
  const auto end = text.find("\n<|user|>");
  if (text.compare(0, head.size(), head) != 0 || end == std::string::npos)
    throw InputError(where +
                     ": field 'text' does not start with <|system|>\\n...\\n<|user|> (not a symp "
                     "training sequence)");
  return head + system + text.substr(end);
}

std::vector<ProbeRecord> read_records(const ProbeOptions& o, const text::ChatTokenizer& tokenizer) {
  const auto& anchors = affect::AnchorSet::builtin().all();
  const auto prefix = tokenizer.prefix_ids();
  std::vector<ProbeRecord> out;
  records::for_each_encoded_record(o.encoded, [&](const records::EncodedRecord& r, size_t line) {
    if (o.limit > 0 && static_cast<int>(out.size()) >= o.limit) return;
    const std::string where = fmt::format("{}:{}", o.encoded, line);
    if (!o.split.empty() && r.split != o.split) return;
    const auto truth =
        std::find_if(anchors.begin(), anchors.end(), [&](const auto& a) { return a.name == r.emotion; });
    if (truth == anchors.end()) return;  // no anchor to be right about
    ProbeRecord p;
    if (r.id.empty()) throw InputError(where + ": field 'id' missing");
    p.id = r.id;
    p.truth = static_cast<size_t>(truth - anchors.begin());
    const std::string& text = r.text;
    if (text.empty()) throw InputError(where + ": field 'text' missing or empty");
    if (!r.assistant_start)
      throw InputError(where + ": field 'assistant_start' is required (tokenize encode's records)");
    const auto& ids = r.input_ids;
    const int64_t start = *r.assistant_start;
    if (out.empty()) {  // the tokenizer must be the one the records were encoded with
      auto again = prefix;
      const auto body = tokenizer.encode(text);
      again.insert(again.end(), body.begin(), body.end());
      if (again != ids)
        throw InputError(where +
                         ": --tokenizer does not give this record's input_ids from its text (encoded "
                         "with another tokenizer?)");
    }
    const std::vector<int64_t> reply(ids.begin() + start, ids.end());
    for (const auto& a : anchors) {
      auto v = prefix;
      const auto body = tokenizer.encode(with_system(text, affect::system_prompt(a.va), where));
      v.insert(v.end(), body.begin(), body.end());
      const int64_t s = start + static_cast<int64_t>(v.size()) - static_cast<int64_t>(ids.size());
      // The reply tokenises the same after any system line (the turn's special tokens split the text).
      if (s <= 0 || !std::equal(reply.begin(), reply.end(), v.begin() + s))
        throw InputError(where + ": the reply's ids change with the system line; cannot score it alone");
      p.variants.push_back(std::move(v));
      p.starts.push_back(s);
    }
    out.push_back(std::move(p));
  });
  if (out.empty())
    throw InputError(o.encoded + ": no record of split '" + o.split + "' with an anchor emotion to probe");
  return out;
}

// Mean negative log-likelihood (nats per token) of each variants[k][starts[k]:] given what precedes it, all
// variants in one batch (right-padded: attention is causal, so padding after a sequence cannot change it).
// The output layer runs on the reply positions only.
std::vector<double> reply_nlls(nn::GlmModelImpl& model, const std::vector<std::vector<int64_t>>& variants,
                               const std::vector<int64_t>& starts, const torch::Device& device) {
  size_t longest = 0;
  for (const auto& v : variants) longest = std::max(longest, v.size());
  std::vector<int64_t> flat(variants.size() * longest, 0);
  for (size_t k = 0; k < variants.size(); ++k)
    std::copy(variants[k].begin(), variants[k].end(), flat.begin() + k * longest);
  const auto ids =
      torch::tensor(flat, torch::kInt64).view({static_cast<int64_t>(variants.size()), -1}).to(device);
  const auto hidden = model.hidden_states(ids);  // [K, T, H]
  std::vector<double> out;
  for (size_t k = 0; k < variants.size(); ++k) {
    const int64_t t = static_cast<int64_t>(variants[k].size()), start = starts[k];
    const auto h = hidden[static_cast<int64_t>(k)].slice(0, start - 1, t - 1).unsqueeze(0);
    const auto logp = torch::log_softmax(model.output_logits(h).squeeze(0).to(torch::kFloat32), -1);
    const auto targets = ids[static_cast<int64_t>(k)].slice(0, start, t).unsqueeze(1);
    out.push_back(-logp.gather(1, targets).mean().item<double>());
  }
  return out;
}

}  // namespace

void ProbeOptions::validate() const {
  if (model_dir.empty()) throw UsageError("--model: required");
  if (tokenizer_dir.empty()) throw UsageError("--tokenizer: required");
  if (encoded.empty()) throw UsageError("--encoded: required");
  if (out_dir.empty()) throw UsageError("--out: required");
  if (limit < 0) throw UsageError("--limit: must be >= 0");
  if (dtype != "f32" && dtype != "bf16") throw UsageError("--dtype: f32 or bf16, got '" + dtype + "'");
}

std::string run_probe(const ProbeOptions& o) {
  o.validate();
  const auto device = parse_device(o.device);
  const auto dtype = o.dtype == "bf16" ? torch::kBFloat16 : torch::kFloat32;
  const auto tokenizer = open_tokenizer(o.tokenizer_dir);
  const auto records = read_records(o, *tokenizer);
  const auto& anchors = affect::AnchorSet::builtin().all();
  const size_t k = anchors.size();

  const auto systems = parse_systems(o.include_base, o.base_name, o.adapters);
  ensure_dir(o.out_dir);
  std::vector<Json> items;
  Json summary{{"encoded", o.encoded},
               {"split", o.split},
               {"records", records.size()},
               {"chance", 1.0 / double(k)},
               {"chance_mean_rank", (double(k) + 1) / 2}};
  Json per_system = Json::array();
  torch::NoGradGuard no_grad;
  for (const auto& system : systems) {
    const std::string& name = system.name;
    const std::string& adapter = system.adapter_dir;
    auto model = load_system(o.model_dir, system, dtype, device);
    Progress bar("probe " + name, static_cast<int64_t>(records.size()), "record");
    std::vector<double> margins;
    std::vector<std::vector<int>> confusion(k, std::vector<int>(k, 0));
    size_t right = 0;
    double rank_sum = 0;
    for (const auto& r : records) {
      const auto nll = reply_nlls(*model, r.variants, r.starts, device);
      const size_t best = static_cast<size_t>(std::min_element(nll.begin(), nll.end()) - nll.begin());
      double best_other = INFINITY;
      for (size_t a = 0; a < k; ++a)
        if (a != r.truth) best_other = std::min(best_other, nll[a]);
      const double margin = best_other - nll[r.truth];
      size_t rank = 1;  // of the true anchor among the 12 (1 = lowest loss)
      for (size_t a = 0; a < k; ++a) rank += nll[a] < nll[r.truth];
      rank_sum += double(rank);
      margins.push_back(margin);
      right += best == r.truth;
      ++confusion[r.truth][best];
      Json losses = Json::object();
      for (size_t a = 0; a < k; ++a) losses[anchors[a].name] = nll[a];
      items.push_back({{"system", name},
                       {"id", r.id},
                       {"emotion", anchors[r.truth].name},
                       {"predicted", anchors[best].name},
                       {"rank", rank},
                       {"margin_nats", margin},
                       {"nll", losses}});
      bar.advance();
    }
    bar.finish();
    // Mean margin with a 95 % percentile bootstrap over records (seeded).
    double mean = 0;
    for (double m : margins) mean += m;
    mean /= double(margins.size());
    Rng rng(o.seed);
    std::vector<double> boot;
    for (int b = 0; b < 1000; ++b) {
      double s = 0;
      for (size_t i = 0; i < margins.size(); ++i) s += margins[rng.below(margins.size())];
      boot.push_back(s / double(margins.size()));
    }
    std::sort(boot.begin(), boot.end());
    Json names = Json::array();
    for (const auto& a : anchors) names.push_back(a.name);
    per_system.push_back({{"system", name},
                          {"adapter", adapter.empty() ? Json(nullptr) : Json(adapter)},
                          {"n", records.size()},
                          {"accuracy", double(right) / double(records.size())},
                          {"mean_rank", rank_sum / double(records.size())},
                          {"margin_nats", mean},
                          {"margin_nats_ci95", {boot[25], boot[974]}},
                          {"labels", names},
                          {"confusion", confusion}});
    log_info("probe", "{}: accuracy {:.3f} (chance {:.3f}), margin {:+.3f} nats over {} records", name,
             double(right) / double(records.size()), 1.0 / double(k), mean, records.size());
  }
  summary["systems"] = per_system;
  io::write_jsonl_atomic((fs::path(o.out_dir) / "probe_items.jsonl").string(), items);
  io::write_json_atomic((fs::path(o.out_dir) / "probe_summary.json").string(), summary);
  return summary.dump(2);
}

}  // namespace symp::infer
