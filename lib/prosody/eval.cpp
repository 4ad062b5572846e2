// eval-prosody: inputs to items, items to feature rows (a thread pool), rows to correlations.
#include "symp/prosody/eval.h"

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/core/progress.h"
#include "symp/io/jsonl.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <set>
#include <thread>

namespace symp::prosody {
namespace {

const std::set<std::string>& audio_extensions() {
  static const std::set<std::string> ext = {".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3",
                                            ".aif", ".aiff", ".au",  ".w64", ".caf"};
  return ext;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// The first of `keys` that holds a non-empty string, or "".
std::string first_string(const io::Json& r, std::initializer_list<const char*> keys) {
  for (const char* k : keys) {
    auto it = r.find(k);
    if (it != r.end() && it->is_string() && !it->get<std::string>().empty()) return it->get<std::string>();
  }
  return "";
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
  static const std::vector<std::string> names = {"f0_mean",    "f0_std", "f0_range", "energy_mean",
                                                 "energy_std", "rate",   "centroid"};
  return names;
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
  io::for_each_jsonl(path, [&](const io::Json& r, size_t line) {
    const std::string where = fmt::format("{}:{}", path, line);
    if (!split.empty() && first_string(r, {"split"}) != split) return;
    if (!partition.empty() && first_string(r, {"partition"}) != partition) return;
    EvalItem item;
    auto id = r.find("id");
    if (id == r.end() || !(id->is_string() || id->is_number_integer()))
      throw InputError(where + ": field 'id': missing, or not a string or integer");
    item.id = id->is_string() ? id->get<std::string>() : std::to_string(id->get<long long>());
    item.system =
        system_override.empty() ? first_string(r, {"system", "checkpoint", "adapter"}) : system_override;
    if (item.system.empty()) item.system = default_system;
    item.text = first_string(r, {"response_text", "text"});
    const std::string audio = first_string(r, {"response_audio", "audio", "wav", "audio_path"});
    if (audio.empty()) {
      item.error = "no audio field (response_audio, audio, wav or audio_path)";
    } else {
      const fs::path p(audio);
      item.audio_path = (p.is_absolute() ? p : base / p).lexically_normal().string();
    }
    try {
      const std::string emotion = first_string(r, {"emotion", "target_emotion"});
      // The condition asked for (infer's requested_* before VA noise), else the record's VA; null = absent.
      auto number_pair = [&](const char* v, const char* a) {
        return r.contains(v) && r.contains(a) && !r[v].is_null() && !r[a].is_null();
      };
      const char* keys[2] = {nullptr, nullptr};
      if (number_pair("requested_valence", "requested_arousal")) {
        keys[0] = "requested_valence", keys[1] = "requested_arousal";
      } else if (number_pair("valence", "arousal")) {
        keys[0] = "valence", keys[1] = "arousal";
      }
      if (keys[0]) {
        item.target = affect::make_va(io::require_number(r, keys[0], where),
                                      io::require_number(r, keys[1], where), where);
        item.has_target = true;
        item.emotion = anchors.contains(emotion) ? lower(emotion) : anchors.nearest(item.target).name;
      } else if (!emotion.empty()) {
        const affect::Anchor& a = anchors.find(emotion);
        item.target = a.va;
        item.has_target = true;
        item.emotion = a.name;
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
  auto add = [&](const fs::path& p) {
    EvalItem item;
    item.id = p.filename().string();
    item.system = system.empty() ? "audio" : system;
    item.audio_path = p.string();
    items.push_back(std::move(item));
  };
  for (const std::string& path : paths) {
    if (fs::is_directory(path)) {
      std::vector<fs::path> found;
      for (const auto& e : fs::recursive_directory_iterator(path))
        if (e.is_regular_file() && audio_extensions().count(lower(e.path().extension().string())))
          found.push_back(e.path());
      std::sort(found.begin(), found.end());
      if (found.empty()) log_warn("eval-prosody", "{}: no audio files in this folder", path);
      for (const auto& p : found) add(p);
    } else {
      add(path);  // a missing or non-audio file becomes a row with its reason
    }
  }
  return items;
}

std::vector<EvalRow> measure_all(const std::vector<EvalItem>& items, const FeatureOptions& options,
                                 int threads) {
  options.validate();
  std::vector<EvalRow> rows(items.size());
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const size_t workers = std::min<size_t>(threads > 0 ? static_cast<size_t>(threads) : cores, items.size());
  Progress bar("eval-prosody", static_cast<int64_t>(items.size()), "file");
  std::atomic<size_t> next{0};
  auto work = [&]() {
    for (size_t i = next++; i < items.size(); i = next++) {
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
    }
  };
  std::vector<std::thread> pool;
  for (size_t w = 1; w < workers; ++w) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
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
  if (!result.correlations.empty()) {
    write_correlations_csv((out / "correlations.csv").string(), result.correlations);
    write_file_atomic(out / "correlations.md", correlations_markdown(result.correlations));
    if (o.plots) write_scatter_plots((out / "plots").string(), result.rows);
  } else if (!o.manifests.empty()) {
    log_warn("eval-prosody", "no response with a target and all seven features: no correlations written");
  }
  log_info("eval-prosody", "{} responses measured, {} failed; results in {}",
           result.rows.size() - result.failed, result.failed, o.out_dir);
  return result;
}

}  // namespace symp::prosody
