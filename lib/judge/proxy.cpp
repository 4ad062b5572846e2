#include "symp/judge/proxy.h"

#include <algorithm>
#include <cmath>

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/judge/audio_judge.h"
#include "symp/records/judge_item.h"
#include "symp/records/manifest.h"
#include "symp/text/rouge.h"

namespace symp::judge {

void ProxyOptions::validate() const {
  if (corpus_manifest.empty()) throw UsageError("proxy judge: corpus_manifest is empty");
  if (!(alpha > 0.0)) throw UsageError("proxy judge: alpha must be > 0, got " + std::to_string(alpha));
}

std::vector<std::string> TextEmotionProxy::features(const std::string& text) const {
  auto tokens = text::rouge_tokenize(text, true);
  std::vector<std::string> f = tokens;
  if (options_.bigrams) {
    for (size_t i = 1; i < tokens.size(); ++i) f.push_back(tokens[i - 1] + "_" + tokens[i]);
  }
  return f;
}

TextEmotionProxy TextEmotionProxy::train(const ProxyOptions& options) {
  options.validate();
  TextEmotionProxy p;
  p.options_ = options;
  std::vector<std::pair<std::string, std::string>> data;  // (emotion, text)
  records::for_each_manifest_record(options.corpus_manifest, [&](const records::ManifestRecord& r, size_t) {
    if (r.partition != "train") return;
    records::require(r, {records::ManifestField::Emotion, records::ManifestField::ResponseText});
    data.emplace_back(r.emotion, r.response_text);
  });
  if (data.empty()) throw InputError(options.corpus_manifest + ": no record with partition \"train\"");
  for (const auto& [emotion, text] : data) {
    if (std::find(p.emotions_.begin(), p.emotions_.end(), emotion) == p.emotions_.end())
      p.emotions_.push_back(emotion);
  }
  std::sort(p.emotions_.begin(), p.emotions_.end());
  const size_t k = p.emotions_.size();
  std::vector<double> docs(k, 0.0);
  p.total_.assign(k, 0.0);
  for (const auto& [emotion, text] : data) {
    size_t c =
        static_cast<size_t>(std::find(p.emotions_.begin(), p.emotions_.end(), emotion) - p.emotions_.begin());
    docs[c] += 1.0;
    for (const auto& f : p.features(text)) {
      auto& row = p.counts_[f];
      if (row.empty()) row.assign(k, 0.0);
      row[c] += 1.0;
      p.total_[c] += 1.0;
    }
  }
  for (size_t c = 0; c < k; ++c) p.log_prior_.push_back(std::log(docs[c] / static_cast<double>(data.size())));
  p.train_records_ = data.size();
  log_info("judge", "proxy: naive Bayes on {} train replies, {} emotions, {} features", data.size(), k,
           p.counts_.size());
  return p;
}

std::map<std::string, double> TextEmotionProxy::posterior(const std::string& text) const {
  const size_t k = emotions_.size();
  const double v = static_cast<double>(counts_.size());
  std::vector<double> logp = log_prior_;
  for (const auto& f : features(text)) {
    auto it = counts_.find(f);
    if (it == counts_.end()) continue;  // unseen features carry no evidence
    for (size_t c = 0; c < k; ++c) {
      logp[c] += std::log((it->second[c] + options_.alpha) / (total_[c] + options_.alpha * v));
    }
  }
  double top = *std::max_element(logp.begin(), logp.end()), sum = 0.0;
  for (auto& x : logp) sum += (x = std::exp(x - top));
  std::map<std::string, double> out;
  for (size_t c = 0; c < k; ++c) out[emotions_[c]] = logp[c] / sum;
  return out;
}

double TextEmotionProxy::score(const std::string& text, const std::string& target) const {
  auto post = posterior(text);
  auto it = post.find(target);
  return 1.0 + 4.0 * (it == post.end() ? 0.0 : it->second);
}

io::Json TextEmotionProxy::validate_on_eval() const {
  size_t n = 0, correct = 0;
  double true_score = 0.0, control_score = 0.0;
  records::for_each_manifest_record(options_.corpus_manifest, [&](const records::ManifestRecord& r, size_t) {
    if (r.partition != "eval" || r.emotion.empty() || r.response_text.empty()) return;
    const std::string &text = r.response_text, &emotion = r.emotion;
    auto post = posterior(text);
    auto best =
        std::max_element(post.begin(), post.end(), [](auto& a, auto& b) { return a.second < b.second; });
    correct += best->first == emotion ? 1 : 0;
    true_score += 1.0 + 4.0 * post[emotion];
    // Control: the next emotion in sorted order stands in for the target.
    auto pos = std::find(emotions_.begin(), emotions_.end(), emotion);
    size_t idx = pos == emotions_.end() ? 0 : static_cast<size_t>(pos - emotions_.begin()) + 1;
    control_score += 1.0 + 4.0 * post[emotions_[idx % emotions_.size()]];
    ++n;
  });
  io::Json j{{"eval_records", n}, {"train_records", train_records_}, {"emotions", emotions_.size()}};
  if (n > 0) {
    j["top1_accuracy"] = static_cast<double>(correct) / static_cast<double>(n);
    j["mean_score_true_target"] = true_score / static_cast<double>(n);
    j["mean_score_wrong_target"] = control_score / static_cast<double>(n);
  }
  return j;
}

std::string TextEmotionProxy::describe() const {
  return "PROXY judge (not the paper's audio LLM judge): naive Bayes text emotion classifier trained on the "
         "train "
         "partition of " +
         options_.corpus_manifest + "; score = 1 + 4 p(target | reply text); delivery not judged";
}

io::Json run_proxy_judge(const std::vector<Response>& responses, const TextEmotionProxy& proxy,
                         const std::string& out_dir) {
  ensure_dir(out_dir);
  const std::string label = proxy.describe();
  std::vector<JudgedItem> items(responses.size());
  std::vector<io::Json> lines;
  for (size_t i = 0; i < responses.size(); ++i) {
    const auto& r = responses[i];
    items[i].response = &r;
    items[i].rubric = "proxy";
    records::ProxyItemRecord line{r.system, r.id, setting_name(r.setting), r.emotion, std::nullopt, "", ""};
    if (r.setting == Setting::CommonEval) {
      items[i].error = "commoneval";
      line.error = "the proxy has no target emotion to score in the CommonEval setting";
    } else if (r.spoken_text().empty()) {
      items[i].error = "no text";
      line.error = "no transcript or response text";
    } else {
      auto post = proxy.posterior(r.spoken_text());
      items[i].score = 1.0 + 4.0 * (post.count(r.emotion) ? post[r.emotion] : 0.0);
      auto best =
          std::max_element(post.begin(), post.end(), [](auto& a, auto& b) { return a.second < b.second; });
      line.score = *items[i].score;
      line.predicted_emotion = best->first;
    }
    lines.push_back(records::to_json(line));
  }
  io::write_jsonl_atomic((fs::path(out_dir) / "proxy_items.jsonl").string(), lines);
  io::Json summaries = io::Json::array();
  for (const auto& s : summarize(items)) {
    auto j = s.to_json();
    j["judge"] = "PROXY";
    summaries.push_back(j);
  }
  io::Json out{{"judge", label}, {"validation", proxy.validate_on_eval()}, {"summaries", summaries}};
  io::write_json_atomic((fs::path(out_dir) / "proxy_summary.json").string(), out);
  return out;
}

}  // namespace symp::judge
