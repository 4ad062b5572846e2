// Planning the corpus: query generation with near-duplicate removal, the split, speakers, responses.
#include "symp/data/plan.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "symp/core/error.h"
#include "symp/core/log.h"
#include "symp/core/progress.h"
#include "symp/core/rng.h"
#include "symp/data/dedup.h"

namespace symp::data {
namespace {

using Json = nlohmann::json;

uint64_t item_seed(uint64_t seed, const std::string& key) {
  const std::string s = fmt::format("{}/{}", seed, key);
  return stable_hash(s.data(), s.size());
}

// A group of queries generated and counted together: one emotion of the emotional split, or the
// neutral split.
struct Group {
  std::string name;     // "happy", ..., or "neutral-split"
  std::string emotion;  // emotion the wording carries
  bool neutral_split = false;
  int target = 0;
  double oversample = 1.0;
  int64_t next_candidate = 0;
  std::vector<std::string> kept;  // unique query texts, in generation order
  std::vector<int> kept_topics;
  int64_t candidates = 0, duplicates = 0, surplus = 0, failed = 0;
};

}  // namespace

Json CorpusPlan::to_json() const {
  Json q = Json::array(), r = Json::array();
  for (const auto& x : queries)
    q.push_back({{"id", x.id},
                 {"split", x.split},
                 {"emotion", x.emotion},
                 {"partition", x.partition},
                 {"topic", x.topic},
                 {"text", x.text},
                 {"speaker", x.speaker}});
  for (const auto& x : records)
    r.push_back(
        {{"id", x.id}, {"query", x.query}, {"emotion", x.emotion}, {"text", x.text}, {"speaker", x.speaker}});
  Json d = {{"candidates", dedup.candidates}, {"duplicates", dedup.duplicates}, {"surplus", dedup.surplus},
            {"failed", dedup.failed},         {"rounds", dedup.rounds},         {"embedder", dedup.embedder},
            {"threshold", dedup.threshold},   {"per_group", dedup.per_group}};
  return {{"queries", q}, {"records", r}, {"dedup", d}, {"failed_items", failed_items}};
}

CorpusPlan CorpusPlan::from_json(const Json& j) {
  CorpusPlan p;
  for (const auto& x : j.at("queries"))
    p.queries.push_back({x.at("id"), x.at("split"), x.at("emotion"), x.at("partition"), x.at("topic"),
                         x.at("text"), x.at("speaker")});
  for (const auto& x : j.at("records"))
    p.records.push_back({x.at("id"), x.at("query"), x.at("emotion"), x.at("text"), x.at("speaker")});
  const Json& d = j.at("dedup");
  p.dedup.candidates = d.at("candidates");
  p.dedup.duplicates = d.at("duplicates");
  p.dedup.surplus = d.at("surplus");
  p.dedup.failed = d.at("failed");
  p.dedup.rounds = d.at("rounds");
  p.dedup.embedder = d.at("embedder");
  p.dedup.threshold = d.at("threshold");
  p.dedup.per_group = d.at("per_group");
  p.failed_items = j.at("failed_items").get<std::vector<std::string>>();
  return p;
}

CorpusPlan make_plan(const PlanOptions& options, const std::vector<Topic>& topics, TextBackend& text,
                     symp::text::Embedder& embedder) {
  if (topics.empty()) throw InputError("gen-data: no topics");
  if (options.query_voices.empty() || options.response_voices.empty())
    throw UsageError("gen-data: no voices to draw speakers from");
  std::vector<Group> groups;
  auto add_group = [&](const std::string& name, const std::string& emotion, bool neutral, int target,
                       double over) {
    Group g;
    g.name = name;
    g.emotion = emotion;
    g.neutral_split = neutral;
    g.target = target;
    g.oversample = over;
    groups.push_back(std::move(g));
  };
  if (options.per_emotion > 0)
    for (const auto& e : options.emotions) add_group(e, e, false, options.per_emotion, options.oversample);
  if (options.neutral_queries > 0)
    add_group("neutral-split", "neutral", true, options.neutral_queries, options.neutral_oversample);

  // Generate in rounds until every group has its unique queries. Every candidate is compared with all
  // queries kept so far, in every group, in a fixed order: the result depends only on the seed.
  NearDuplicateFilter filter(embedder.dim(), options.dedup_threshold);
  int64_t total_target = 0;
  for (const auto& g : groups) total_target += g.target;
  Progress bar("gen-data queries", total_target, "query");
  int round = 0;
  for (;; ++round) {
    bool all_full = true;
    for (const auto& g : groups) all_full = all_full && static_cast<int>(g.kept.size()) >= g.target;
    if (all_full) break;
    if (round >= options.max_rounds) {
      std::string short_groups;
      for (const auto& g : groups)
        if (static_cast<int>(g.kept.size()) < g.target)
          short_groups += fmt::format(" {} ({}/{})", g.name, g.kept.size(), g.target);
      throw RuntimeError(fmt::format(
          "gen-data: after {} rounds some groups still lack unique queries:{}; the text backend's variety is "
          "exhausted at dedup threshold {} (add topics or wording, or raise the threshold)",
          round, short_groups, options.dedup_threshold));
    }
    for (size_t gi = 0; gi < groups.size(); ++gi) {
      Group& g = groups[gi];
      const int missing = g.target - static_cast<int>(g.kept.size());
      if (missing <= 0) continue;
      const auto n = static_cast<int64_t>(std::ceil(missing * g.oversample));
      std::vector<QuerySpec> specs;
      for (int64_t i = 0; i < n; ++i) {
        const int64_t c = g.next_candidate++;
        // Topics cycle through the pool; each group starts at its own offset.
        const int topic =
            static_cast<int>((c + static_cast<int64_t>(gi) * 37) % static_cast<int64_t>(topics.size()));
        specs.push_back(
            {g.emotion, g.neutral_split, topic, item_seed(options.seed, fmt::format("q/{}/{}", g.name, c))});
      }
      const auto results = text.queries(specs);
      std::vector<std::string> texts;
      std::vector<size_t> which;
      for (size_t i = 0; i < results.size(); ++i) {
        ++g.candidates;
        if (results[i].text) {
          texts.push_back(*results[i].text);
          which.push_back(i);
        } else {
          ++g.failed;
          log_warn("gen-data", "query candidate {} of {} failed: {}", i, g.name, results[i].error);
        }
      }
      const auto vectors = embedder.embed(texts);
      for (size_t k = 0; k < texts.size(); ++k) {
        if (static_cast<int>(g.kept.size()) >= g.target) {
          g.surplus += static_cast<int64_t>(texts.size() - k);
          break;
        }
        if (filter.offer(vectors[k]) >= 0) {
          ++g.duplicates;
          continue;
        }
        g.kept.push_back(texts[k]);
        g.kept_topics.push_back(specs[which[k]].topic);
        bar.advance();
      }
    }
  }
  bar.finish();

  CorpusPlan plan;
  plan.dedup.rounds = round;
  plan.dedup.embedder = embedder.describe();
  plan.dedup.threshold = options.dedup_threshold;
  plan.dedup.per_group = Json::object();
  for (const auto& g : groups) {
    plan.dedup.candidates += g.candidates;
    plan.dedup.duplicates += g.duplicates;
    plan.dedup.surplus += g.surplus;
    plan.dedup.failed += g.failed;
    plan.dedup.per_group[g.name] = {{"candidates", g.candidates},
                                    {"duplicates", g.duplicates},
                                    {"surplus", g.surplus},
                                    {"failed", g.failed},
                                    {"kept", g.kept.size()}};
  }

  // Queries, the seeded 70/30 split per group, and speakers.
  for (const auto& g : groups) {
    std::vector<size_t> order(g.kept.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    Rng split_rng(item_seed(options.seed, "split/" + g.name));
    std::shuffle(order.begin(), order.end(), split_rng.engine());
    const auto n_train =
        static_cast<size_t>(std::lround(options.train_fraction * static_cast<double>(order.size())));
    std::vector<std::string> partition(order.size());
    for (size_t rank = 0; rank < order.size(); ++rank)
      partition[order[rank]] = rank < n_train ? "train" : "eval";
    for (size_t i = 0; i < g.kept.size(); ++i) {
      PlannedQuery q;
      q.id = g.neutral_split ? fmt::format("neu-{:04d}", i + 1) : fmt::format("emo-{}-{:04d}", g.name, i + 1);
      q.split = g.neutral_split ? "neutral" : "emotional";
      q.emotion = g.emotion;
      q.partition = partition[i];
      q.topic = g.kept_topics[i];
      q.text = g.kept[i];
      Rng voice_rng(item_seed(options.seed, "voice/" + q.id));
      q.speaker = options.query_voices[voice_rng.below(options.query_voices.size())];
      plan.queries.push_back(std::move(q));
    }
  }

  // Responses: one per emotional query (to its own emotion), one per emotion for each neutral query.
  std::vector<ResponseSpec> specs;
  std::vector<PlannedRecord> pending;
  for (size_t qi = 0; qi < plan.queries.size(); ++qi) {
    const PlannedQuery& q = plan.queries[qi];
    const bool neutral = q.split == "neutral";
    const std::vector<std::string> targets = neutral ? options.emotions : std::vector<std::string>{q.emotion};
    for (const auto& e : targets) {
      PlannedRecord r;
      r.id = neutral ? fmt::format("{}-{}", q.id, e) : q.id;
      r.query = qi;
      r.emotion = e;
      Rng voice_rng(item_seed(options.seed, "voice/" + r.id + "/response"));
      r.speaker = options.response_voices[voice_rng.below(options.response_voices.size())];
      specs.push_back({q.text, e, neutral, q.topic, item_seed(options.seed, "r/" + r.id)});
      pending.push_back(std::move(r));
    }
  }
  log_info("gen-data",
           "{} unique queries from {} candidates ({} near-duplicates dropped); writing {} responses",
           plan.queries.size(), plan.dedup.candidates, plan.dedup.duplicates, specs.size());
  const auto results = text.responses(specs);
  for (size_t i = 0; i < results.size(); ++i) {
    if (results[i].text) {
      pending[i].text = *results[i].text;
      plan.records.push_back(std::move(pending[i]));
    } else {
      plan.failed_items.push_back(fmt::format("response {}: {}", pending[i].id, results[i].error));
    }
  }
  return plan;
}

}  // namespace symp::data
