// Datasheet of a generated corpus (Gebru et al.-style summary, kept to what the pipeline knows).
#include "symp/data/datasheet.h"

#include <fmt/format.h>

#include <map>
#include <set>

#include "symp/core/fs.h"
#include "symp/io/jsonl.h"
#include "symp/io/plot.h"

namespace symp::data {

using Json = nlohmann::json;

void write_datasheet(const std::string& out_dir, const std::vector<records::ManifestRecord>& manifest,
                     const CorpusPlan& plan, const Json& settings, const Json& backends) {
  std::map<std::string, std::map<std::string, int64_t>> by_emotion;  // emotion -> "split/partition" -> n
  std::map<std::string, int64_t> by_split, by_partition, by_split_partition;
  std::set<std::string> queries_seen;
  std::map<std::string, std::set<std::string>> query_partitions;
  double query_seconds = 0.0, response_seconds = 0.0;
  std::vector<double> durations;
  for (const auto& r : manifest) {
    const std::string &split = r.split, &partition = r.partition, &emotion = r.emotion;
    const std::string& query_id = r.query_key();
    ++by_emotion[emotion][split + "/" + partition];
    ++by_split[split];
    ++by_partition[partition];
    ++by_split_partition[split + "/" + partition];
    query_partitions[query_id].insert(partition);
    const double rd = r.response_duration.value_or(0.0);
    response_seconds += rd;
    durations.push_back(rd);
    if (queries_seen.insert(query_id).second) {
      const double qd = r.query_duration.value_or(0.0);
      query_seconds += qd;
      durations.push_back(qd);
    }
  }
  int64_t queries_on_both_sides = 0;
  for (const auto& [id, parts] : query_partitions) queries_on_both_sides += parts.size() > 1 ? 1 : 0;
  const double hours = (query_seconds + response_seconds) / 3600.0;

  Json j;
  j["records"] = manifest.size();
  j["unique_queries"] = queries_seen.size();
  j["queries_on_both_sides"] = queries_on_both_sides;
  j["counts"] = {{"by_emotion", by_emotion},
                 {"by_split", by_split},
                 {"by_partition", by_partition},
                 {"by_split_partition", by_split_partition}};
  j["audio"] = {{"hours", hours},
                {"query_hours", query_seconds / 3600.0},
                {"response_hours", response_seconds / 3600.0},
                {"files", queries_seen.size() + manifest.size()},
                {"histogram", "durations.png"}};
  j["dedup"] = plan.to_json().at("dedup");
  j["failed_items"] = plan.failed_items;
  j["backends"] = backends;
  j["settings"] = settings;
  io::write_json_atomic(out_dir + "/datasheet.json", j);

  if (!durations.empty())
    io::histogram_png(out_dir + "/durations.png", durations, 40,
                      "Utterance durations (queries and responses)", "seconds");

  std::string md = "# Datasheet: generated Sympatheia-style corpus\n\n";
  md +=
      "Made by `symp gen-data` (docs/gen-data.md). Synthetic speech and text; every record's valence and "
      "arousal\n"
      "are the anchor of its target emotion (PAPER.md sections 1 and 3).\n\n";
  md += "## Composition\n\n";
  md += fmt::format("- Records (query-response pairs): {}\n- Unique queries: {}\n", manifest.size(),
                    queries_seen.size());
  for (const auto& [k, v] : by_split_partition) md += fmt::format("- {}: {}\n", k, v);
  md +=
      fmt::format("- Queries on both sides of the train/eval split: {} (must be 0)\n", queries_on_both_sides);
  md += fmt::format("- Audio: {:.2f} h ({:.2f} h queries, {:.2f} h responses); histogram: durations.png\n\n",
                    hours, query_seconds / 3600.0, response_seconds / 3600.0);
  md +=
      "| emotion | emotional/train | emotional/eval | neutral/train | neutral/eval "
      "|\n|---|---|---|---|---|\n";
  for (const auto& [emotion, counts] : by_emotion) {
    auto get = [&](const char* key) {
      const auto it = counts.find(key);
      return it == counts.end() ? int64_t{0} : it->second;
    };
    md += fmt::format("| {} | {} | {} | {} | {} |\n", emotion, get("emotional/train"), get("emotional/eval"),
                      get("neutral/train"), get("neutral/eval"));
  }
  md += "\n## Near-duplicate removal\n\n";
  md += fmt::format("- Embedder: {}\n- Threshold: cosine >= {}\n", plan.dedup.embedder, plan.dedup.threshold);
  md += fmt::format(
      "- Candidates generated: {}; near-duplicates dropped: {}; unique but surplus: {}; failed: {}; "
      "rounds: {}\n",
      plan.dedup.candidates, plan.dedup.duplicates, plan.dedup.surplus, plan.dedup.failed, plan.dedup.rounds);
  md += fmt::format("- Per group: `{}`\n\n", plan.dedup.per_group.dump());
  md += "## Backends and settings\n\n";
  md += fmt::format("- Backends: `{}`\n- Settings: `{}`\n", backends.dump(), settings.dump());
  if (!plan.failed_items.empty()) {
    md += fmt::format("\n## Failed items ({})\n\n", plan.failed_items.size());
    for (const auto& f : plan.failed_items) md += "- " + f + "\n";
  }
  write_file_atomic(out_dir + "/datasheet.md", md);
}

}  // namespace symp::data
