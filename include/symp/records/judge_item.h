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

JudgeItemRecord parse_judge_item(const io::Json& j, const std::string& where);
io::Json to_json(const JudgeItemRecord& r);
std::vector<JudgeItemRecord> read_judge_items(const std::string& path);

}  // namespace symp::records
