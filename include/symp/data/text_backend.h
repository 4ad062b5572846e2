#pragma once
// Text generation for gen-data: what a backend is asked for and what it returns. The planner asks for
// query candidates in batches and for one response per (query, target emotion); a backend may fail an
// item (an unreachable server), which the planner records instead of aborting the corpus.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace symp::data {

// One everyday topic of data/gen/topics.json.
struct Topic {
  std::string name;                // "houseplants"
  std::vector<std::string> tasks;  // infinitive phrases: "repot the big monstera in my living room"
  std::vector<std::string> tips;   // imperative sentences a helpful answer can use
};

// Loads {"topics": [{"name", "tasks", "tips"}, ...]}; InputError naming the file, topic and field.
std::vector<Topic> load_topics(const std::string& path);

struct QuerySpec {
  std::string emotion;         // the emotion the wording carries; "neutral" for a neutral query
  bool neutral_split = false;  // a neutral-split query: no sentiment words, no exclamation mark
  int topic = 0;               // index into the topic list
  uint64_t seed = 0;           // per-item seed: the same spec gives the same text
};

struct ResponseSpec {
  std::string query_text;
  std::string emotion;         // target emotion of the reply (the user's state it responds to)
  bool neutral_split = false;  // the user's speech was neutral: do not open by naming an emotion
  int topic = 0;
  uint64_t seed = 0;
};

// A generated text, or the reason it could not be made.
struct TextResult {
  std::optional<std::string> text;
  std::string error;  // empty when text is set
};

class TextBackend {
 public:
  virtual ~TextBackend() = default;
  virtual std::vector<TextResult> queries(const std::vector<QuerySpec>& specs) = 0;
  virtual std::vector<TextResult> responses(const std::vector<ResponseSpec>& specs) = 0;
  // For the datasheet: "template (data/gen, 136 topics)" or "openai (model at url)".
  virtual std::string describe() const = 0;
};

}  // namespace symp::data
