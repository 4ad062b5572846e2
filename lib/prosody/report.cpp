// eval-prosody's outputs: the feature and correlation tables, the paper-shaped markdown table and the
// scatter plots.
#include "symp/affect/affect.h"
#include "symp/core/fs.h"
#include "symp/io/csv.h"
#include "symp/io/plot.h"
#include "symp/prosody/eval.h"
#include "symp/records/features_row.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>

namespace symp::prosody {
namespace {

const std::map<std::string, std::string>& feature_titles() {
  static const std::map<std::string, std::string> t = {
      {"f0_mean", "F0 mean (Hz)"},           {"f0_std", "F0 std (Hz)"},
      {"f0_range", "F0 range 10-90 % (Hz)"}, {"energy_mean", "RMS energy mean"},
      {"energy_std", "RMS energy std"},      {"rate", "speaking rate (syll/s)"},
      {"centroid", "spectral centroid (Hz)"}};
  return t;
}

std::string stars(double p) {
  return std::isnan(p) ? "" : p < 0.01 ? "**" : p < 0.05 ? "*" : "";
}

std::string rho_text(const Correlation& c) {
  return std::isnan(c.rho) ? "n/a" : fmt::format("{:.2f}{}", c.rho, stars(c.p));
}

}  // namespace

void write_features_csv(const std::string& path, const std::vector<EvalRow>& rows) {
  std::vector<records::FeaturesRow> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    records::FeaturesRow row;
    row.id = r.item.id;
    if (r.error.empty()) {
      const Features& f = r.features;
      row.f0_mean = f.f0_mean, row.f0_std = f.f0_std, row.f0_range = f.f0_range;
      row.energy_mean = f.energy_mean, row.energy_std = f.energy_std;
      row.rate = f.rate, row.centroid = f.centroid;
      row.rate_source = f.rate_source;
      row.voiced_frames = static_cast<int64_t>(f.voiced_frames), row.frames = static_cast<int64_t>(f.frames);
      row.duration = f.duration, row.syllables = f.syllables;
    }
    row.system = r.item.system;
    row.emotion = r.item.emotion;
    if (r.item.has_target) row.valence = r.item.target.valence, row.arousal = r.item.target.arousal;
    row.audio = r.item.audio_path;
    row.warning = r.features.warning;
    row.error = r.error;
    out.push_back(std::move(row));
  }
  records::write_features_csv(path, out);
}

void write_correlations_csv(const std::string& path, const std::vector<CorrelationRow>& rows) {
  io::CsvWriter csv({"system", "feature", "target", "rho", "p", "n", "p_perm"});
  for (const auto& r : rows)
    csv.add_row({r.system, r.feature, r.target, io::format_number(r.c.rho), io::format_number(r.c.p),
                 std::to_string(r.c.n), std::isnan(r.c.p_perm) ? "" : io::format_number(r.c.p_perm)});
  csv.write(path);
}

std::string correlations_markdown(const std::vector<CorrelationRow>& rows) {
  // One line per system, one column per feature, each cell "rho with valence / rho with arousal".
  std::vector<std::string> systems;
  std::map<std::string, std::map<std::string, std::pair<Correlation, Correlation>>> cell;
  for (const auto& r : rows) {
    if (!cell.count(r.system)) systems.push_back(r.system);
    auto& pair = cell[r.system][r.feature];
    (r.target == "valence" ? pair.first : pair.second) = r.c;
  }
  std::string md = "# Prosody: Spearman correlation with the target affect\n\n";
  if (rows.empty())
    return md +
           "No response with a target had all seven features; features.csv's `error` column says why for "
           "each.\n";
  md +=
      "Each cell: rho with target valence / rho with target arousal. * p < 0.05, ** p < 0.01 (two-sided, "
      "t approximation); n = responses with all seven features.\n\n";
  md += "| system | n | F0 mean | F0 std | F0 range | energy mean | energy std | rate | centroid |\n";
  md += "|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& s : systems) {
    size_t n = 0;
    std::string line;
    for (const auto& name : feature_names()) {
      const auto& pair = cell[s][name];
      n = std::max(n, pair.first.n);
      line += fmt::format(" {} / {} |", rho_text(pair.first), rho_text(pair.second));
    }
    md += fmt::format("| {} | {} |{}\n", s, n, line);
  }
  return md;
}

void write_scatter_plots(const std::string& dir, const std::vector<EvalRow>& rows) {
  const auto& anchors = affect::AnchorSet::builtin().all();
  std::vector<std::string> systems;
  for (const auto& r : rows)
    if (r.error.empty() && r.item.has_target &&
        std::find(systems.begin(), systems.end(), r.item.system) == systems.end())
      systems.push_back(r.item.system);
  for (const auto& system : systems) {
    const fs::path folder = systems.size() == 1 ? fs::path(dir) : fs::path(dir) / system;
    ensure_dir(folder);
    for (const auto& name : feature_names()) {
      for (const char* target : {"valence", "arousal"}) {
        io::Figure fig;
        fig.title = fmt::format("{}: {} vs target {}", system, feature_titles().at(name), target);
        fig.xlabel = fmt::format("target {}", target);
        fig.ylabel = feature_titles().at(name);
        // One series per emotion, coloured by the anchor's position in the anchor set.
        for (size_t a = 0; a < anchors.size(); ++a) {
          io::Series s;
          s.label = anchors[a].name;
          s.points = true;
          s.color = static_cast<int>(a);
          for (const auto& r : rows) {
            if (r.item.system != system || !r.error.empty() || !r.item.has_target ||
                r.item.emotion != anchors[a].name)
              continue;
            const double y = feature_value(r.features, name);
            if (!std::isfinite(y)) continue;
            s.x.push_back(std::string(target) == "valence" ? r.item.target.valence : r.item.target.arousal);
            s.y.push_back(y);
          }
          if (!s.x.empty()) fig.series.push_back(std::move(s));
        }
        if (fig.series.empty()) continue;
        fig.xmin = -1.05, fig.xmax = 1.05;
        io::plot_png((folder / fmt::format("{}_vs_{}.png", name, target)).string(), fig);
      }
    }
  }
}

}  // namespace symp::prosody
