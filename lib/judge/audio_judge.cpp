#include "symp/judge/audio_judge.h"

#include <atomic>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/core/progress.h"
#include "symp/core/rng.h"
#include "symp/core/worker_pool.h"
#include "symp/io/http.h"
#include "symp/io/openai_reply.h"
#include "symp/records/judge_item.h"

namespace symp::judge {
namespace {

// Judge replies by cache key, loaded from and appended to one JSONL file.
class ReplyCache {
 public:
  explicit ReplyCache(const std::string& path) {
    if (fs::exists(path)) {
      io::for_each_jsonl(
          path,
          [&](const io::Json& r, size_t) {
            if (r.contains("key") && r.contains("reply")) entries_[r["key"].get<std::string>()] = r["reply"];
          },
          /*tolerate_torn_tail=*/true);
    }
    if (!entries_.empty()) log_info("judge", "{} cached judge replies in {}", entries_.size(), path);
    appender_ = std::make_unique<io::JsonlAppender>(path, /*sync_each=*/false);
  }
  std::optional<std::string> get(const std::string& key) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    return it->second;
  }
  void put(const std::string& key, const std::string& reply) {
    std::lock_guard<std::mutex> lock(mutex_);
    entries_[key] = reply;
    appender_->append(io::Json{{"key", key}, {"reply", reply}});
  }

 private:
  std::mutex mutex_;
  std::unordered_map<std::string, std::string> entries_;
  std::unique_ptr<io::JsonlAppender> appender_;
};

std::string hex64(uint64_t x) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(x));
  return buf;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(path + ": cannot read the reply audio");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

// 128 bits from two FNV-1a passes with different seeds: collisions are not a practical concern here.
std::string hash128(const std::string& bytes) {
  return hex64(stable_hash(bytes.data(), bytes.size())) +
         hex64(stable_hash(bytes.data(), bytes.size(), 0x9E3779B97F4A7C15ULL));
}

void AudioJudgeOptions::validate() const {
  if (base_url.empty()) throw UsageError("judge: base_url is empty");
  if (model.empty()) throw UsageError("judge: model is empty");
  if (samples < 1) throw UsageError("judge: samples must be >= 1, got " + std::to_string(samples));
  if (parse_retries < 0)
    throw UsageError("judge: parse_retries must be >= 0, got " + std::to_string(parse_retries));
  if (!(temperature >= 0.0))
    throw UsageError("judge: temperature must be >= 0, got " + std::to_string(temperature));
  if (!(top_p > 0.0 && top_p <= 1.0))
    throw UsageError("judge: top_p must be in (0, 1], got " + std::to_string(top_p));
  if (max_tokens < 1) throw UsageError("judge: max_tokens must be >= 1, got " + std::to_string(max_tokens));
  if (concurrency < 1)
    throw UsageError("judge: concurrency must be >= 1, got " + std::to_string(concurrency));
  if (!(timeout_s > 0.0)) throw UsageError("judge: timeout_s must be > 0, got " + std::to_string(timeout_s));
  if (max_attempts < 1)
    throw UsageError("judge: max_attempts must be >= 1, got " + std::to_string(max_attempts));
  if (!(backoff_s >= 0.0))
    throw UsageError("judge: backoff_s must be >= 0, got " + std::to_string(backoff_s));
}

io::Json JudgedItem::to_json() const {
  records::JudgeItemRecord r;
  r.system = response->system;
  r.id = response->id;
  r.setting = setting_name(response->setting);
  r.emotion = response->emotion;
  r.valence = response->valence;
  r.arousal = response->arousal;
  r.rubric = rubric;
  r.ratings = ratings;
  r.replies = replies;
  r.unparsed_replies = unparsed;
  r.failed_samples = failed_samples;
  r.score = score;
  r.error = error;
  return records::to_json(r);
}

std::vector<JudgedItem> judge_audio(const std::vector<Response>& responses, const AudioJudgeOptions& o,
                                    const std::string& out_dir) {
  o.validate();
  const Rubrics rubrics = Rubrics::load(o.rubric_dir);
  ensure_dir(out_dir);
  ReplyCache cache(o.cache_path.empty() ? (fs::path(out_dir) / "judge_cache.jsonl").string() : o.cache_path);
  const std::string key = io::api_key_from(o.api_key, o.api_key_env);
  std::string url = o.base_url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  url += "/chat/completions";
  io::RetryPolicy policy;
  policy.max_attempts = o.max_attempts;
  policy.base_delay_s = o.backoff_s;
  policy.max_delay_s = std::max(o.backoff_s, 30.0);

  std::vector<JudgedItem> items(responses.size());
  for (size_t i = 0; i < responses.size(); ++i) {
    items[i].response = &responses[i];
    items[i].rubric = Rubrics::rubric_name(responses[i].setting, responses[i].emotion);
  }

  auto judge_one = [&](JudgedItem& item) {
    const Response& r = *item.response;
    if (r.audio.empty()) throw InputError(r.where + ": no response_audio to judge");
    if (fs::path(r.audio).extension() != ".wav")
      throw InputError(r.where + ": " + r.audio + " is not a .wav file");
    const std::string audio = read_bytes(r.audio);
    const std::string system = rubrics.system_prompt(r.setting, r.emotion, r.valence, r.arousal);
    io::Json body{
        {"model", o.model},
        {"temperature", o.temperature},
        {"top_p", o.top_p},
        {"max_tokens", o.max_tokens},
        {"messages",
         {{{"role", "system"}, {"content", system}},
          {{"role", "user"},
           {"content",
            {{{"type", "input_audio"}, {"input_audio", {{"data", base64_encode(audio)}, {"format", "wav"}}}},
             {{"type", "text"}, {"text", rubrics.user}}}}}}}};
    const std::string body_text = body.dump();
    // Everything that decides the reply, except the sample and attempt numbers added below.
    const std::string base_key =
        hash128(audio) +
        hash128(system + '\x1f' + rubrics.user + '\x1f' + o.model + '\x1f' + std::to_string(o.temperature) +
                '\x1f' + std::to_string(o.top_p) + '\x1f' + std::to_string(o.max_tokens));
    for (int s = 0; s < o.samples; ++s) {
      bool rated = false;
      for (int attempt = 0; attempt <= o.parse_retries && !rated; ++attempt) {
        const std::string cache_key = base_key + "-" + std::to_string(s) + "-" + std::to_string(attempt);
        std::optional<std::string> reply = cache.get(cache_key);
        if (!reply) {
          const auto request = io::json_post(url, body_text, key, o.timeout_s);
          auto response = io::http_send_with_retry(request, policy);
          reply = io::chat_completion_text(response.body);
          if (!reply) {  // a 2xx body that is not a chat completion: counts as a reply without a rating
            item.replies.push_back("<malformed response: " + response.body.substr(0, 200) + ">");
            ++item.unparsed;
            continue;
          }
          cache.put(cache_key, *reply);
        }
        item.replies.push_back(*reply);
        if (auto rating = parse_rating(*reply)) {
          item.ratings.push_back(*rating);
          rated = true;
        } else {
          ++item.unparsed;
        }
      }
      if (!rated) ++item.failed_samples;
    }
    if (!item.ratings.empty()) {
      double sum = 0.0;
      for (int x : item.ratings) sum += x;
      item.score = sum / static_cast<double>(item.ratings.size());
    }
  };

  Progress bar("judge", static_cast<int64_t>(items.size()), "reply");
  parallel_for(items.size(), o.concurrency, [&](size_t i) {
    try {
      judge_one(items[i]);
    } catch (const std::exception& e) {
      items[i].error = e.what();
      items[i].score.reset();
      log_warn("judge", "{}: {}", items[i].response->where, e.what());
    }
    bar.advance();
  });
  bar.finish();

  size_t errors = 0;
  for (const auto& it : items) errors += it.error.empty() ? 0 : 1;
  if (!items.empty() && errors == items.size()) {
    throw RuntimeError("judge: every one of the " + std::to_string(items.size()) +
                       " replies failed; the first error: " + items.front().error);
  }
  return items;
}

io::Json ScoreSummary::to_json() const {
  io::Json j{
      {"system", system},
      {"setting", setting_name(setting)},
      {"n", n},
      {"failed", failed},
      {"mean", mean},
      {"std", std},
      {"mean_without_neutral", mean_without_neutral ? io::Json(*mean_without_neutral) : io::Json(nullptr)}};
  io::Json per = io::Json::object();
  for (const auto& [emotion, m] : per_emotion_mean)
    per[emotion] = {{"mean", m}, {"n", per_emotion_n.at(emotion)}};
  j["per_emotion"] = per;
  return j;
}

std::vector<ScoreSummary> summarize(const std::vector<JudgedItem>& items) {
  std::vector<ScoreSummary> out;
  auto find = [&](const std::string& system, Setting setting) -> ScoreSummary& {
    for (auto& s : out) {
      if (s.system == system && s.setting == setting) return s;
    }
    out.push_back({});
    out.back().system = system;
    out.back().setting = setting;
    return out.back();
  };
  std::vector<std::vector<double>> scores, non_neutral;
  for (const auto& it : items) {
    auto& s = find(it.response->system, it.response->setting);
    size_t k = static_cast<size_t>(&s - out.data());
    scores.resize(out.size());
    non_neutral.resize(out.size());
    if (!it.score) {
      ++s.failed;
      continue;
    }
    scores[k].push_back(*it.score);
    if (it.response->emotion.empty()) continue;  // CommonEval: no emotions
    if (it.response->emotion != "neutral") non_neutral[k].push_back(*it.score);
    s.per_emotion_mean[it.response->emotion] += *it.score;
    s.per_emotion_n[it.response->emotion] += 1;
  }
  for (size_t k = 0; k < out.size(); ++k) {
    auto& s = out[k];
    const auto& v = scores[k];
    s.n = v.size();
    if (!v.empty()) {
      double sum = 0.0;
      for (double x : v) sum += x;
      s.mean = sum / static_cast<double>(v.size());
      double ss = 0.0;
      for (double x : v) ss += (x - s.mean) * (x - s.mean);
      s.std = v.size() > 1 ? std::sqrt(ss / static_cast<double>(v.size() - 1)) : 0.0;
    }
    if (!non_neutral[k].empty()) {
      double sum = 0.0;
      for (double x : non_neutral[k]) sum += x;
      s.mean_without_neutral = sum / static_cast<double>(non_neutral[k].size());
    }
    for (auto& [emotion, total] : s.per_emotion_mean) total /= static_cast<double>(s.per_emotion_n[emotion]);
  }
  return out;
}

}  // namespace symp::judge
