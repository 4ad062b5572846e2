#pragma once
// The judge's per-item record: one line of judge_items.jsonl (one reply, its rubric, the judge's replies
// and ratings). symp judge writes it; the paper report reads it.
#include "symp/io/jsonl.h"

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace symp::records {

struct JudgeItemRecord {
  std::string system, id;
  std::string setting;  // neutral, emotional, commoneval
  std::string emotion;  // the target judged against ("" for none)
  double valence = 0, arousal = 0;
  std::string rubric;                // emotional, neutral or helpfulness
  std::vector<int> ratings;          // one per sample that gave a rating
  std::vector<std::string> replies;  // every judge reply received
  int unparsed_replies = 0;          // replies without a rating
  int failed_samples = 0;            // samples with no rating after all retries
  std::optional<double> score;       // mean of the ratings; null when none succeeded
  std::string error;                 // why the item could not be judged ("": written only when set)
  io::Json extra = io::Json::object();
};

// The offline proxy judge's per-item record: one line of proxy_items.jsonl.
struct ProxyItemRecord {
  std::string system, id, setting, emotion;
  std::optional<double> score;    // 1 + 4 p(target | text); null when the reply could not be scored
  std::string predicted_emotion;  // the proxy's most likely emotion ("": not written)
  std::string error;              // why there is no score ("": not written)
};
io::Json to_json(const ProxyItemRecord& r);

JudgeItemRecord parse_judge_item(const io::Json& j, const std::string& where);
io::Json to_json(const JudgeItemRecord& r);
std::vector<JudgeItemRecord> read_judge_items(const std::string& path);

}  // namespace symp::records
