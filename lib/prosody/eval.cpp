// eval-prosody: inputs to items, items to feature rows (a thread pool), rows to correlations.
#include "symp/prosody/eval.h"

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/core/progress.h"
#include "symp/core/worker_pool.h"
#include "symp/io/audio.h"
#include "symp/io/jsonl.h"
#include "symp/records/features_row.h"
#include "symp/records/manifest.h"
#include "symp/records/response.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

namespace symp::prosody {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// A manifest's name as a system label: its file stem, or its folder's name when the stem is one of the
// generic names the stages write (responses.jsonl, manifest.jsonl).
std::string manifest_system_name(const fs::path& path) {
  const std::string stem = path.stem().string();
  if ((stem == "responses" || stem == "manifest") && path.has_parent_path()) {
    const std::string parent = fs::absolute(path).parent_path().filename().string();
    if (!parent.empty()) return parent;
  }
  return stem;
}

}  // namespace

void EvalOptions::validate() const {
  features.validate();
  if (audio.empty() && manifests.empty())
    throw UsageError("eval-prosody: give --audio or --manifest (or both)");
  if (out_dir.empty()) throw UsageError("eval-prosody option 'out_dir' is empty");
  if (threads < 0) throw UsageError(fmt::format("eval-prosody option 'threads' = {}: must be >= 0", threads));
  if (permutations < 0)
    throw UsageError(fmt::format("eval-prosody option 'permutations' = {}: must be >= 0", permutations));
}

const std::vector<std::string>& feature_names() {
  return records::prosody_feature_names();
}

double feature_value(const Features& f, const std::string& name) {
  if (name == "f0_mean") return f.f0_mean;
  if (name == "f0_std") return f.f0_std;
  if (name == "f0_range") return f.f0_range;
  if (name == "energy_mean") return f.energy_mean;
  if (name == "energy_std") return f.energy_std;
  if (name == "rate") return f.rate;
  if (name == "centroid") return f.centroid;
  throw RuntimeError("unknown prosody feature '" + name + "'");
}

std::vector<EvalItem> load_manifest(const std::string& path, const std::string& system_override,
                                    const affect::AnchorSet& anchors, const std::string& split,
                                    const std::string& partition) {
  const fs::path base = fs::path(path).parent_path();
  const std::string default_system = system_override.empty() ? manifest_system_name(path) : system_override;
  std::vector<EvalItem> items;
  records::for_each_response_record(path, [&](const records::ResponseRecord& r, size_t line) {
    const std::string where = fmt::format("{}:{}", path, line);
    if (!split.empty() && r.split != split) return;
    if (!partition.empty() && r.partition != partition) return;
    EvalItem item;
    item.id = r.id;
    item.system = system_override.empty() ? r.system : system_override;
    if (item.system.empty()) item.system = default_system;
    item.text = r.response_text;
    if (r.response_audio.empty()) {
      item.error = "no audio field (response_audio, audio, wav or audio_path)";
    } else {
      item.audio_path =
          fs::path(records::resolve_audio(path, r.response_audio, where)).lexically_normal().string();
    }
    try {
      const std::string emotion = !r.emotion.empty() ? r.emotion : r.target_emotion;
      // The condition asked for (infer's requested_* before VA noise), else the record's VA; null = absent.
      std::optional<double> v = r.valence, a = r.arousal;
      if (r.requested_valence && r.requested_arousal) v = r.requested_valence, a = r.requested_arousal;
      if (v && a) {
        item.target = affect::make_va(*v, *a, where);
        item.has_target = true;
        item.emotion = anchors.contains(emotion) ? lower(emotion) : anchors.nearest(item.target).name;
      } else if (!emotion.empty()) {
        const affect::Anchor& anchor = anchors.find(emotion);
        item.target = anchor.va;
        item.has_target = true;
        item.emotion = anchor.name;
      } else {
        item.warning = "no target (no valence/arousal, no emotion): measured, left out of the correlations";
      }
    } catch (const Error& e) {
      if (item.error.empty()) item.error = e.what();
    }
    items.push_back(std::move(item));
  });
  return items;
}

std::vector<EvalItem> collect_audio(const std::vector<std::string>& paths, const std::string& system) {
  std::vector<EvalItem> items;
  // A missing or non-audio file becomes a row with its reason.
  for (const std::string& file : io::expand_audio_paths(paths, /*recursive=*/true)) {
    EvalItem item;
    item.id = fs::path(file).filename().string();
    item.system = system.empty() ? "audio" : system;
    item.audio_path = file;
    items.push_back(std::move(item));
  }
  return items;
}

std::vector<EvalRow> measure_all(const std::vector<EvalItem>& items, const FeatureOptions& options,
                                 int threads) {
  options.validate();
  std::vector<EvalRow> rows(items.size());
  Progress bar("eval-prosody", static_cast<int64_t>(items.size()), "file");
  parallel_for(items.size(), threads, [&](size_t i) {
    EvalRow& row = rows[i];
    row.item = items[i];
    if (!row.item.error.empty()) {
      row.error = row.item.error;
    } else {
      try {
        const io::Audio audio = io::read_audio(row.item.audio_path);
        row.features = compute_features(audio, options, row.item.text);
        if (!row.item.warning.empty())
          row.features.warning += (row.features.warning.empty() ? "" : "; ") + row.item.warning;
      } catch (const std::exception& e) {  // every failure stays in its row; the others go on
        row.error = e.what();
      }
    }
    bar.advance();
  });
  bar.finish();
  return rows;
}

std::vector<CorrelationRow> correlate(const std::vector<EvalRow>& rows, int permutations, uint64_t seed) {
  std::vector<std::string> systems;  // in order of appearance
  for (const auto& r : rows)
    if (std::find(systems.begin(), systems.end(), r.item.system) == systems.end())
      systems.push_back(r.item.system);
  std::vector<CorrelationRow> out;
  for (const std::string& system : systems) {
    // Only responses with all seven features enter, as in the reference evaluation.
    std::vector<const EvalRow*> use;
    for (const auto& r : rows) {
      if (r.item.system != system || !r.error.empty() || !r.item.has_target) continue;
      bool complete = true;
      for (const auto& name : feature_names())
        complete = complete && std::isfinite(feature_value(r.features, name));
      if (complete) use.push_back(&r);
    }
    if (use.empty()) continue;
    std::vector<double> valence, arousal;
    for (const auto* r : use)
      valence.push_back(r->item.target.valence), arousal.push_back(r->item.target.arousal);
    for (const auto& name : feature_names()) {
      std::vector<double> x;
      for (const auto* r : use) x.push_back(feature_value(r->features, name));
      out.push_back({system, name, "valence", spearman(x, valence, permutations, seed)});
      out.push_back({system, name, "arousal", spearman(x, arousal, permutations, seed)});
    }
  }
  return out;
}

EvalResult run_eval(const EvalOptions& o) {
  o.validate();
  std::vector<EvalItem> items;
  for (const std::string& m : o.manifests) {
    auto part = load_manifest(m, o.system, affect::AnchorSet::builtin(), o.split, o.partition);
    log_info("eval-prosody", "{}: {} records", m, part.size());
    items.insert(items.end(), part.begin(), part.end());
  }
  auto files = collect_audio(o.audio, o.system);
  items.insert(items.end(), files.begin(), files.end());
  if (items.empty()) throw InputError("eval-prosody: no responses to measure");
  ensure_dir(o.out_dir);

  EvalResult result;
  result.rows = measure_all(items, o.features, o.threads);
  for (const auto& r : result.rows) {
    if (r.error.empty()) continue;
    ++result.failed;
    log_warn("eval-prosody", "{} ({}): {}", r.item.id, r.item.audio_path, r.error);
  }
  const fs::path out(o.out_dir);
  write_features_csv((out / "features.csv").string(), result.rows);
  result.correlations = correlate(result.rows, o.permutations, o.seed);
  // With targets (a manifest) the tables are written even with no row: a header-only correlations.csv says
  // "nothing measurable" to the tools that read it (the quickstart report gives rho null and n 0), and a
  // pipeline stage that waits for it completes. --audio alone has no targets and no tables.
  if (!result.correlations.empty() || !o.manifests.empty()) {
    if (result.correlations.empty())
      log_warn("eval-prosody",
               "no response with a target and all seven features: correlations.csv has no rows (see "
               "features.csv's error column)");
    write_correlations_csv((out / "correlations.csv").string(), result.correlations);
    write_file_atomic(out / "correlations.md", correlations_markdown(result.correlations));
    if (o.plots && !result.correlations.empty()) write_scatter_plots((out / "plots").string(), result.rows);
  }
  log_info("eval-prosody", "{} responses measured, {} failed; results in {}",
           result.rows.size() - result.failed, result.failed, o.out_dir);
  return result;
}

}  // namespace symp::prosody
