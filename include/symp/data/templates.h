#pragma once
// The embedded, offline text backend: queries and responses assembled from the data-driven grammar in
// data/gen/ (topics.json, queries.json, responses.json). Deterministic: a spec's seed fixes its text.
//   query    = [emotion opener | neutral opener + context] + request frame with a topic's task + [closer]
//   response = acknowledgement + [bridge] + first tip + [second tip] + [closing line]  (3-5 sentences);
//   a strategy whose guidance asks for brevity ("tips": 1) gives one tip and always closes
// The response strategy per target emotion follows PAPER.md sections 3 and 8: acknowledge the user's
// state and still do the task; neutral-split responses never open by naming an emotion.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "symp/data/text_backend.h"

namespace symp::data {

struct QueryCues {
  std::vector<std::string> openers, contexts, closers;
};

struct ResponseStrategy {
  std::vector<std::string> acknowledge, acknowledge_neutral, bridge, first, then, close;
  int tips = 2;  // how many of the topic's tips a response gives (1 or 2; responses.json's optional "tips")
};

// The grammar files, loaded and checked (every emotion present, every list non-empty, neutral cues free
// of sentiment words and exclamation marks).
struct TemplateGrammar {
  std::vector<Topic> topics;
  std::vector<std::string> frames;                     // "How do I {task}?"
  QueryCues neutral;                                   // used by neutral queries
  std::map<std::string, QueryCues> emotional;          // emotion -> cues ("neutral" uses `neutral`)
  std::vector<std::string> sentiment_words;            // must not occur in a neutral query
  std::map<std::string, ResponseStrategy> strategies;  // target emotion -> strategy

  // Loads topics.json, queries.json and responses.json from `dir`; `emotions` must all be covered.
  static TemplateGrammar load(const std::string& dir, const std::vector<std::string>& emotions);
};

class TemplateTextBackend : public TextBackend {
 public:
  explicit TemplateTextBackend(TemplateGrammar grammar);
  std::vector<TextResult> queries(const std::vector<QuerySpec>& specs) override;
  std::vector<TextResult> responses(const std::vector<ResponseSpec>& specs) override;
  std::string describe() const override;

  std::string query(const QuerySpec& spec) const;
  std::string response(const ResponseSpec& spec) const;
  const TemplateGrammar& grammar() const { return grammar_; }

 private:
  TemplateGrammar grammar_;
};

// True when `text` contains one of `words` as a whole word (case-insensitive), or any '!'.
bool has_sentiment(const std::string& text, const std::vector<std::string>& words);

}  // namespace symp::data
