#include "quickstart_metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "csv_table.h"
#include "symp/core/rng.h"
#include "symp/records/features_row.h"
#include "symp/records/manifest.h"
#include "symp/records/response.h"
#include "symp/text/rouge.h"

namespace symp::report {
namespace {

using io::Json;

Json number_or_null(double v) {
  return std::isfinite(v) ? Json(v) : Json(nullptr);
}

Json interval(std::pair<double, double> ci) {
  return Json::array({number_or_null(ci.first), number_or_null(ci.second)});
}

// judge/similarity.json's entry for `system`, or null.
Json similarity_of(const fs::path& path, const std::string& system) {
  if (!fs::exists(path)) return nullptr;
  for (const auto& d : io::read_json(path.string()))
    if (d.value("system", "") == system) return d;
  return nullptr;
}

// Cross-emotion ROUGE-L of one system: the mean over all pairs and a bootstrap interval over queries.
Json rouge_block(const Json& similarity, std::map<std::string, double>* by_query) {
  if (similarity.is_null()) return nullptr;
  std::vector<double> per_query;
  const auto found = similarity.find("lexical_by_query");
  if (found != similarity.end() && found->is_object()) {
    for (auto it = found->begin(); it != found->end(); ++it) {
      per_query.push_back(it.value().get<double>());
      if (by_query) (*by_query)[it.key()] = it.value().get<double>();
    }
  }
  return {{"mean", similarity["lexical"].value("mean", NAN)},
          {"ci95", interval(bootstrap_mean_ci95(per_query))},
          {"queries", per_query.size()},
          {"pairs", similarity["lexical"].value("pairs", 0)}};
}

// prosody.<feature>.<valence|arousal>.{rho, p, n} of `system` from eval-prosody's correlations.csv.
Json prosody_block(const fs::path& path, const std::string& system) {
  if (!fs::exists(path)) return nullptr;
  // Every feature and target is there, so the contract's fields exist even for a system none of whose
  // replies could be measured (no audio ids: no row in correlations.csv): rho and p null, n 0.
  Json out = Json::object();
  for (const auto& feature : records::prosody_feature_names())
    for (const char* target : {"valence", "arousal"})
      out[feature][target] = {{"rho", nullptr}, {"p", nullptr}, {"n", 0}};
  for (const auto& row : read_csv_table(path).rows) {
    auto cell = [&](const char* k) {
      const auto it = row.find(k);
      return it == row.end() ? std::string() : it->second;
    };
    if (cell("system") != system) continue;
    out[cell("feature")][cell("target")] = {{"rho", number_or_null(parse_number(cell("rho")))},
                                            {"p", number_or_null(parse_number(cell("p")))},
                                            {"n", static_cast<int64_t>(parse_number(cell("n")))}};
  }
  return out;
}

Json probe_block(const fs::path& path, const std::string& system) {
  if (!fs::exists(path)) return nullptr;
  for (const auto& s : io::read_json(path.string()).value("systems", Json::array())) {
    if (s.value("system", "") != system) continue;
    return {{"accuracy", s.value("accuracy", NAN)},
            {"margin_nats", s.value("margin_nats", NAN)},
            {"margin_nats_ci95", s.value("margin_nats_ci95", Json(nullptr))},
            {"mean_rank", s.value("mean_rank", Json(nullptr))},
            {"n", s.value("n", 0)},
            {"chance", 1.0 / 12.0}};
  }
  return nullptr;
}

// distinct-2 per reply (averaged) and the share of the replies' bigrams that occur in the corpus's replies.
Json fluency_block(const std::vector<std::string>& replies, const std::set<std::string>& corpus_bigrams) {
  if (replies.empty()) return nullptr;
  double distinct_sum = 0;
  size_t scored = 0, bigrams = 0, in_corpus = 0;
  for (const auto& text : replies) {
    const auto b = word_bigrams(text);
    if (b.empty()) continue;
    distinct_sum += double(std::set<std::string>(b.begin(), b.end()).size()) / double(b.size());
    ++scored;
    bigrams += b.size();
    for (const auto& x : b) in_corpus += corpus_bigrams.count(x);
  }
  return {{"distinct_2", scored ? distinct_sum / double(scored) : NAN},
          {"corpus_bigram_share", bigrams ? double(in_corpus) / double(bigrams) : NAN},
          {"replies", replies.size()},
          {"replies_with_bigrams", scored}};
}

Json criterion(const std::string& name, double value, const std::string& target, bool holds) {
  return {{"criterion", name},
          {"value", number_or_null(value)},
          {"target", target},
          {"holds", std::isfinite(value) && holds}};
}

}  // namespace

std::pair<double, double> bootstrap_mean_ci95(const std::vector<double>& values, uint64_t seed,
                                              int resamples) {
  if (values.size() < 2) return {NAN, NAN};
  Rng rng(seed);
  std::vector<double> means;
  means.reserve(static_cast<size_t>(resamples));
  for (int r = 0; r < resamples; ++r) {
    double sum = 0;
    for (size_t k = 0; k < values.size(); ++k) sum += values[rng.below(values.size())];
    means.push_back(sum / double(values.size()));
  }
  std::sort(means.begin(), means.end());
  auto q = [&](double p) { return means[static_cast<size_t>(std::lround(p * double(means.size() - 1)))]; };
  return {q(0.025), q(0.975)};
}

double json_number_at(const io::Json& j, std::initializer_list<const char*> path) {
  const Json* x = &j;
  for (const char* k : path) {
    if (!x->is_object() || !x->contains(k)) return NAN;
    x = &(*x)[k];
  }
  return x->is_number() ? x->get<double>() : NAN;
}

std::vector<std::string> word_bigrams(const std::string& text) {
  const auto words = text::rouge_tokenize(text, false);
  std::vector<std::string> out;
  for (size_t k = 1; k < words.size(); ++k) out.push_back(words[k - 1] + ' ' + words[k]);
  return out;
}

io::Json quickstart_metrics(const fs::path& run) {
  std::set<std::string> corpus_bigrams;
  const auto manifest = run / "corpus" / "manifest.jsonl";
  if (fs::exists(manifest))
    records::for_each_manifest_record(manifest.string(), [&](const records::ManifestRecord& r, size_t) {
      for (auto& b : word_bigrams(r.response_text)) corpus_bigrams.insert(std::move(b));
    });
  std::map<std::string, std::vector<std::string>> replies;  // system -> reply texts
  const auto responses = run / "replies" / "responses.jsonl";
  if (fs::exists(responses))
    records::for_each_response_record(responses.string(), [&](const records::ResponseRecord& r, size_t) {
      replies[r.system].push_back(r.response_text);
    });

  Json out{{"format", "symp-quickstart-report"}, {"version", 1}};
  std::map<std::string, std::map<std::string, double>> rouge_by_query;
  for (const std::string system : {"base", "lora"}) {
    out[system] = {{"condition_probe", probe_block(run / "probe" / "probe_summary.json", system)},
                   {"cross_emotion",
                    {{"rouge_l", rouge_block(similarity_of(run / "judge" / "similarity.json", system),
                                             &rouge_by_query[system])}}},
                   {"prosody", prosody_block(run / "prosody" / "correlations.csv", system)},
                   {"fluency", fluency_block(replies[system], corpus_bigrams)}};
  }
  out["corpus_ceiling"] = {
      {"source", "the corpus's neutral-split reference replies and their audio (corpus_ceiling/)"},
      {"cross_emotion",
       {{"rouge_l", rouge_block(similarity_of(run / "corpus_ceiling" / "judge" / "similarity.json", "corpus"),
                                nullptr)}}},
      {"prosody", prosody_block(run / "corpus_ceiling" / "prosody" / "correlations.csv", "corpus")}};

  // LoRA minus base, paired by query.
  std::vector<double> diff;
  for (const auto& [query, lora] : rouge_by_query["lora"]) {
    const auto it = rouge_by_query["base"].find(query);
    if (it != rouge_by_query["base"].end()) diff.push_back(lora - it->second);
  }
  double diff_mean = NAN;
  if (!diff.empty()) {
    diff_mean = 0;
    for (double d : diff) diff_mean += d / double(diff.size());
  }
  const auto diff_ci = bootstrap_mean_ci95(diff);
  const double base_rouge = json_number_at(out, {"base", "cross_emotion", "rouge_l", "mean"});
  const double lora_rouge = json_number_at(out, {"lora", "cross_emotion", "rouge_l", "mean"});
  const double rouge_ratio = lora_rouge / base_rouge;
  out["lora_vs_base"] = {
      {"rouge_l_difference",
       {{"mean", number_or_null(diff_mean)}, {"ci95", interval(diff_ci)}, {"queries", diff.size()}}},
      {"rouge_l_ratio", number_or_null(rouge_ratio)}};

  // Issue 17's criteria, measured (not asserted): each with its value and whether it holds.
  Json criteria = Json::array();
  const double d2 = json_number_at(out, {"lora", "fluency", "distinct_2"});
  criteria.push_back(criterion("lora distinct-2", d2, ">= 0.9", d2 >= 0.9));
  const double share = json_number_at(out, {"lora", "fluency", "corpus_bigram_share"});
  criteria.push_back(criterion("lora bigrams found in the corpus", share, ">= 0.9", share >= 0.9));
  const double acc_l = json_number_at(out, {"lora", "condition_probe", "accuracy"});
  const double acc_b = json_number_at(out, {"base", "condition_probe", "accuracy"});
  criteria.push_back(criterion("lora probe accuracy", acc_l, ">= 0.8", acc_l >= 0.8));
  criteria.push_back(criterion("base probe accuracy", acc_b, "<= 0.2", acc_b <= 0.2));
  criteria.push_back(
      criterion("cross-emotion ROUGE-L, lora / base", rouge_ratio, "<= 0.75", rouge_ratio <= 0.75));
  criteria.push_back(criterion("ROUGE-L difference lora - base, upper end of the 95 % interval",
                               diff_ci.second, "< 0", diff_ci.second < 0));
  for (const char* feature : {"f0_mean", "energy_mean"}) {
    const double rho = json_number_at(out, {"lora", "prosody", feature, "arousal", "rho"});
    const double p = json_number_at(out, {"lora", "prosody", feature, "arousal", "p"});
    const double n = json_number_at(out, {"lora", "prosody", feature, "arousal", "n"});
    // NaN when none of the base's replies could be measured (no audio): nothing for the LoRA to beat.
    const double base_rho = json_number_at(out, {"base", "prosody", feature, "arousal", "rho"});
    criteria.push_back(
        criterion(fmt::format("lora Spearman({}, arousal)", feature), rho,
                  ">= 0.3, p < 0.01, n >= 144, above the base's",
                  rho >= 0.3 && p < 0.01 && n >= 144 && (std::isnan(base_rho) || rho > base_rho)));
  }
  out["criteria"] = criteria;
  return out;
}

}  // namespace symp::report
