#pragma once
// The corpus plan of gen-data: every query and response text, the dedup outcome, the train/eval split
// and the speakers, fixed up-front so that synthesis can stop and resume anywhere. Stored as
// DIR/plan.json; the same options and seed give the same plan with the template backend.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "symp/data/text_backend.h"
#include "symp/text/embedder.h"

namespace symp::data {

struct PlanOptions {
  std::vector<std::string> emotions;  // target emotions, anchor names (default: all 12 anchors)
  int per_emotion = 1000;             // emotional split: unique queries per emotion
  int neutral_queries = 500;          // neutral split: unique neutral queries, each answered per emotion
  double dedup_threshold = 0.85;      // cosine at or above which two queries are near-duplicates
  double oversample = 1.5;            // emotional candidates asked for per missing query and round
  double neutral_oversample = 2.5;    // the same for neutral queries (they have less wording to vary)
  int max_rounds = 30;                // generation rounds per group before giving up on variety
  double train_fraction = 0.7;        // share of unique queries (per group) in the train partition
  uint64_t seed = 42;
  std::vector<std::string> query_voices, response_voices;  // speakers drawn per query / per response
};

struct PlannedQuery {
  std::string id;         // "emo-happy-0001" or "neu-0001"
  std::string split;      // "emotional" | "neutral"
  std::string emotion;    // emotion the wording carries ("neutral" for the neutral split)
  std::string partition;  // "train" | "eval"
  int topic = 0;
  std::string text;
  std::string speaker;  // query voice
};

struct PlannedRecord {
  std::string id;       // "emo-happy-0001" (emotional) or "neu-0001-sad" (neutral)
  size_t query = 0;     // index into CorpusPlan::queries
  std::string emotion;  // target emotion of the response; its anchor is the record's VA
  std::string text;     // response text
  std::string speaker;  // response voice
};

struct DedupStats {
  int64_t candidates = 0;  // query texts generated
  int64_t duplicates = 0;  // dropped as near-duplicates of a kept query
  int64_t surplus = 0;     // unique but not needed (the group was already full)
  int64_t failed = 0;      // the backend could not make them
  int rounds = 0;
  std::string embedder;  // Embedder::describe()
  double threshold = 0.85;
  nlohmann::json per_group;  // group -> {candidates, duplicates, kept}
};

struct CorpusPlan {
  std::vector<PlannedQuery> queries;
  std::vector<PlannedRecord> records;
  DedupStats dedup;
  std::vector<std::string> failed_items;  // "response neu-0003-sad: HTTP 500 ..." (records left out)
  nlohmann::json to_json() const;
  static CorpusPlan from_json(const nlohmann::json& j);
};

// Generates candidates until every group (each emotion of the emotional split, and the neutral split)
// has its unique queries, drops near-duplicates across all groups, splits each group's unique queries
// 70/30 (seeded shuffle), draws speakers and generates every response. RuntimeError when a group cannot
// reach its count within max_rounds.
CorpusPlan make_plan(const PlanOptions& options, const std::vector<Topic>& topics, TextBackend& text,
                     symp::text::Embedder& embedder);

}  // namespace symp::data
