#pragma once
// The audio LLM judge: each reply's audio (only) goes to an OpenAI-compatible chat endpoint that accepts
// audio (vLLM serving Qwen3-Omni, for example) with a rubric as the system prompt; the judge answers
// `<rating>|<justification>`. Each reply is rated `samples` times and the ratings averaged; a reply
// without a rating is asked again up to `parse_retries` times and then recorded as failed, never counted
// as a number. Replies are cached by audio hash, prompt, model and sampling settings, so a rerun (or a
// resumed run) sends nothing it has already sent.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "symp/io/base64.h"
#include "symp/io/jsonl.h"
#include "symp/judge/responses.h"

namespace symp::judge {

struct AudioJudgeOptions {
  std::string base_url = "http://127.0.0.1:8000/v1";       // server root; /chat/completions is appended
  std::string model = "Qwen/Qwen3-Omni-30B-A3B-Instruct";  // the paper's judge
  std::string api_key;  // explicit key; else the environment variable below (never logged)
  std::string api_key_env = "OPENAI_API_KEY";
  int samples = 1;           // ratings per reply, averaged (the reference judges each reply once)
  int parse_retries = 2;     // extra requests for a sample whose reply holds no rating
  double temperature = 0.7;  // sampling of the judge (samples differ only when > 0)
  double top_p = 0.95;
  int max_tokens = 256;      // per judge reply
  int concurrency = 4;       // requests in flight
  double timeout_s = 120.0;  // per request
  int max_attempts = 5;      // HTTP attempts per request (timeouts, 429, 5xx are retried)
  double backoff_s = 1.0;    // first retry delay, doubled per retry
  std::string rubric_dir;    // "" = data/judge
  std::string cache_path;    // "" = <out>/judge_cache.jsonl
  void validate() const;
};

// The outcome for one reply.
struct JudgedItem {
  const Response* response = nullptr;
  std::string rubric;                // "emotional", "neutral" or "helpfulness"
  std::vector<int> ratings;          // parsed ratings, one per successful sample
  std::vector<std::string> replies;  // every judge reply received, parsed or not
  int unparsed = 0;                  // replies without a rating
  int failed_samples = 0;            // samples with no rating after all retries
  std::string error;                 // transport or input failure, when the item could not be judged
  std::optional<double> score;       // mean of `ratings`; empty when no sample succeeded
  io::Json to_json() const;
};

// Judges every response with audio. `out_dir` holds the cache unless options name another file.
std::vector<JudgedItem> judge_audio(const std::vector<Response>& responses, const AudioJudgeOptions& options,
                                    const std::string& out_dir);

// Mean, sample standard deviation and counts of the judged scores of one system in one setting.
struct ScoreSummary {
  std::string system;
  Setting setting = Setting::Neutral;
  size_t n = 0;       // replies with a score
  size_t failed = 0;  // replies without one (not counted in the mean)
  double mean = 0.0;
  double std = 0.0;  // sample standard deviation (n - 1)
  std::optional<double> mean_without_neutral;
  std::map<std::string, double> per_emotion_mean;
  std::map<std::string, size_t> per_emotion_n;
  io::Json to_json() const;
};

std::vector<ScoreSummary> summarize(const std::vector<JudgedItem>& items);

using io::base64_encode;  // the request's audio field (symp/io/base64.h)
// 32 hex digits from two FNV-1a passes with different seeds: the key of the reply caches.
std::string hash128(const std::string& bytes);

}  // namespace symp::judge
