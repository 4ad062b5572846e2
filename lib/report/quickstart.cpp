#include "symp/report/quickstart.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include <fmt/format.h>

#include "csv_table.h"
#include "quickstart_metrics.h"
#include "symp/affect/affect.h"
#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/io/jsonl.h"
#include "symp/io/plot.h"
#include "symp/records/features_row.h"
#include "symp/records/response.h"

namespace symp::report {
namespace {

using io::Json;

std::string fmt2(double v) {
  return std::isfinite(v) ? fmt::format("{:.2f}", v) : "-";
}
std::string fmt3(double v) {
  return std::isfinite(v) ? fmt::format("{:.3f}", v) : "-";
}

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Section: training curves of every run folder with metrics.jsonl.
std::string training_section(const fs::path& run, const fs::path& out) {
  io::Figure fig;
  fig.title = "Training loss";
  fig.xlabel = "optimiser step";
  fig.ylabel = "next-token loss";
  std::string text;
  for (const auto* name : {"base", "lora"}) {
    const auto path = run / name / "metrics.jsonl";
    if (!fs::exists(path)) continue;
    io::Series train{std::string(name) + " train", {}, {}, false, -1},
        eval{std::string(name) + " eval", {}, {}, true, -1};
    for (const auto& m : io::read_jsonl(path.string(), true)) {
      if (m.contains("loss"))
        train.x.push_back(m["step"].get<double>()), train.y.push_back(m["loss"].get<double>());
      if (m.contains("eval_loss"))
        eval.x.push_back(m["step"].get<double>()), eval.y.push_back(m["eval_loss"].get<double>());
    }
    if (!train.y.empty()) {
      text += fmt::format("- {}: {} steps, loss {:.3f} -> {:.3f}{}\n", name, train.x.back(), train.y.front(),
                          train.y.back(),
                          eval.y.empty() ? "" : fmt::format(", last eval loss {:.3f}", eval.y.back()));
    }
    fig.series.push_back(train);
    if (!eval.y.empty()) fig.series.push_back(eval);
  }
  if (fig.series.empty()) return "## Training\n\nNo training metrics found.\n\n";
  io::plot_png((out / "fig_training.png").string(), fig);
  return "## Training\n\n" + text + "\n![training curves](fig_training.png)\n\n";
}

// Section: Spearman of each prosody feature with target valence and arousal, one column pair per system.
std::string prosody_section(const fs::path& run) {
  const auto path = run / "prosody" / "correlations.csv";
  if (!fs::exists(path)) return "## Prosody vs target affect\n\nNo prosody correlations found.\n\n";
  auto t = read_csv_table(path);
  std::vector<std::string> systems;
  std::map<std::string, std::string> cell;  // system|feature|target -> "rho (n)"
  std::map<std::string, std::string> n_of;
  for (const auto& r : t.rows) {
    const auto sys = r.count("system") ? r.at("system") : "";
    if (std::find(systems.begin(), systems.end(), sys) == systems.end()) systems.push_back(sys);
    const double rho = parse_number(r.at("rho")), p = parse_number(r.at("p"));
    cell[sys + "|" + r.at("feature") + "|" + r.at("target")] =
        fmt2(rho) + (std::isfinite(p) && p < 0.05 ? "*" : "");
    n_of[sys] = r.at("n");
  }
  std::string md = "## Prosody vs target affect (Spearman rho, * p < 0.05)\n\n| feature |";
  std::string rule = "|---|";
  for (const auto& s : systems) {
    md += fmt::format(" {} valence | {} arousal |", s, s);
    rule += "---|---|";
  }
  md += "\n" + rule + "\n";
  for (const auto& f : records::prosody_feature_names()) {
    md += "| " + f + " |";
    for (const auto& s : systems) {
      for (const auto* target : {"valence", "arousal"}) {
        auto it = cell.find(s + "|" + f + "|" + target);
        md += " " + (it == cell.end() ? std::string("-") : it->second) + " |";
      }
    }
    md += "\n";
  }
  md += "\n";
  for (const auto& s : systems)
    md += fmt::format("- {}: n = {} replies with all seven features\n", s, n_of[s]);
  md +=
      "\nPaper, for orientation (Sympatheia, valence/arousal): F0 mean 0.28/0.40, F0 std 0.23/0.46, energy "
      "mean "
      "0.34/0.19.\n\n";
  return md;
}

// Section: report.json's criteria (issue 17) with the corpus ceiling beside the systems.
std::string criteria_section(const Json& m) {
  std::string md =
      "## Does the condition work? (report.json)\n\n| figure | base | lora | corpus ceiling "
      "|\n|---|---|---|---|\n";
  auto row = [&](const std::string& name, std::initializer_list<const char*> path, bool ceiling) {
    auto get = [&](const char* system) {
      const auto it = m.find(system);
      return fmt3(it == m.end() ? NAN : json_number_at(*it, path));
    };
    md += fmt::format("| {} | {} | {} | {} |\n", name, get("base"), get("lora"),
                      ceiling ? get("corpus_ceiling") : std::string(""));
  };
  row("condition probe accuracy (chance 0.083)", {"condition_probe", "accuracy"}, false);
  row("condition probe margin (nats/token)", {"condition_probe", "margin_nats"}, false);
  row("cross-emotion ROUGE-L (lower = more change)", {"cross_emotion", "rouge_l", "mean"}, true);
  for (const char* f : {"f0_mean", "energy_mean"}) {
    for (const char* t : {"valence", "arousal"}) {
      const std::string name = fmt::format("Spearman {} vs {}", f, t);
      row(name, {"prosody", f, t, "rho"}, true);
    }
  }
  row("distinct-2", {"fluency", "distinct_2"}, false);
  row("share of bigrams found in the corpus", {"fluency", "corpus_bigram_share"}, false);
  auto number = [](const Json& x) { return x.is_number() ? x.get<double>() : NAN; };
  const auto& d = m["lora_vs_base"]["rouge_l_difference"];
  md += fmt::format(
      "\nROUGE-L, lora minus base, paired by query: {} (95 % bootstrap interval {} to {}, {} queries).\n\n",
      fmt3(number(d["mean"])), fmt3(number(d["ci95"][0])), fmt3(number(d["ci95"][1])), d.value("queries", 0));
  md += "| criterion (issue 17) | value | target | holds |\n|---|---|---|---|\n";
  for (const auto& c : m["criteria"])
    md += fmt::format("| {} | {} | {} | {} |\n", c.value("criterion", ""), fmt3(number(c["value"])),
                      c.value("target", ""), c.value("holds", false) ? "yes" : "**no**");
  return md + "\n";
}

// Section: the teacher-forced condition probe (symp probe), one line per system.
std::string probe_section(const fs::path& run) {
  const auto path = run / "probe" / "probe_summary.json";
  if (!fs::exists(path)) return "## Condition probe\n\nNo probe results found.\n\n";
  const auto j = io::read_json(path.string());
  std::string md =
      "## Condition probe\n\nEach eval neutral-split reference reply scored (teacher-forced, no sampling) "
      "under the 12 anchors' prompts: is it most likely under its own? Accuracy against chance " +
      fmt::format("{:.3f}", j.value("chance", 1.0 / 12)) +
      "; margin = loss under the best other anchor minus loss under the true one (nats per token, 95 % "
      "bootstrap interval). A model that ignores the condition sits at chance with margins near 0.\n\n"
      "| system | records | accuracy | mean rank of the true anchor (chance 6.5) | margin (nats) |\n"
      "|---|---|---|---|---|\n";
  for (const auto& s : j.at("systems")) {
    md += fmt::format("| {} | {} | {:.3f} | {:.2f} | {:+.4f} [{:+.4f}, {:+.4f}] |\n",
                      s.at("system").get<std::string>(), s.at("n").get<size_t>(),
                      s.at("accuracy").get<double>(), s.at("mean_rank").get<double>(),
                      s.at("margin_nats").get<double>(), s.at("margin_nats_ci95")[0].get<double>(),
                      s.at("margin_nats_ci95")[1].get<double>());
  }
  return md + "\n";
}

std::string diversity_section(const fs::path& run) {
  const auto path = run / "judge" / "similarity.json";
  if (!fs::exists(path)) return "## Diversity across target emotions\n\nNo similarity results found.\n\n";
  auto j = io::read_json(path.string());
  std::string md =
      "## Diversity across target emotions\n\nMean pairwise similarity between the replies to one query "
      "under "
      "different target emotions (lower = the reply really changes). Lexical: ROUGE-L F1 with stemming.\n\n"
      "| system | queries | lexical sim. (mean +- std) | pairs |\n|---|---|---|---|\n";
  for (const auto& d : j) {
    md += fmt::format("| {} | {} | {:.3f} +- {:.3f} | {} |\n", d.value("system", ""), d.value("queries", 0),
                      d["lexical"].value("mean", NAN), d["lexical"].value("std", NAN),
                      d["lexical"].value("pairs", 0));
  }
  md += "\nPaper: Sympatheia 0.223, GLM-4-Voice base 0.459 (lexical).\n\n";
  const auto table = run / "judge" / "table.md";
  if (fs::exists(table)) md += "### Judge table (from symp judge)\n\n" + read_text_file(table) + "\n";
  return md;
}

// Section: the happy -> sad sweep, F0 mean and energy mean against t per system.
std::string sweep_section(const fs::path& run, const fs::path& out) {
  const auto responses = run / "sweep" / "responses.jsonl";
  const auto features = run / "sweep_prosody" / "features.csv";
  if (!fs::exists(responses) || !fs::exists(features)) return "## Happy-to-sad sweep\n\nNot run.\n\n";
  std::map<std::string, std::pair<std::string, double>> t_of;  // id -> (system, t)
  records::for_each_response_record(
      responses.string(),
      [&](const records::ResponseRecord& r, size_t) {
        const auto pos = r.condition.rfind("_t");
        if (pos == std::string::npos) return;
        t_of[r.id] = {r.system, parse_number(r.condition.substr(pos + 2))};
      },
      /*tolerate_torn_tail=*/true);
  std::map<std::string, std::map<double, std::vector<std::pair<double, double>>>>
      by_system;  // sys -> t -> (f0, energy)
  for (const auto& row : records::read_features_csv(features.string())) {
    auto it = t_of.find(row.id);
    if (it == t_of.end()) continue;
    by_system[it->second.first][it->second.second].push_back(
        {row.f0_mean.value_or(std::nan("")), row.energy_mean.value_or(std::nan(""))});
  }
  io::Figure f0{"Happy -> sad: mean F0 per t", "t (0 = happy, 1 = sad)", "F0 mean (Hz)", {}, 900, 600, true};
  io::Figure en{
      "Happy -> sad: mean RMS energy per t", "t (0 = happy, 1 = sad)", "energy mean", {}, 900, 600, true};
  std::string md =
      "## Happy-to-sad sweep\n\n| system | t | replies | F0 mean (Hz) | energy mean "
      "|\n|---|---|---|---|---|\n";
  for (const auto& [sys, ts] : by_system) {
    io::Series sf{sys, {}, {}, false, -1}, se{sys, {}, {}, false, -1};
    for (const auto& [t, vals] : ts) {
      double f = 0, e = 0;
      int nf = 0, ne = 0;
      for (auto [a, b] : vals) {
        if (std::isfinite(a)) f += a, ++nf;
        if (std::isfinite(b)) e += b, ++ne;
      }
      const double fm = nf ? f / nf : NAN, em = ne ? e / ne : NAN;
      md += fmt::format("| {} | {:.2f} | {} | {} | {} |\n", sys, t, vals.size(), fmt2(fm), fmt3(em));
      if (std::isfinite(fm)) sf.x.push_back(t), sf.y.push_back(fm);
      if (std::isfinite(em)) se.x.push_back(t), se.y.push_back(em);
    }
    f0.series.push_back(sf);
    en.series.push_back(se);
  }
  io::plot_png((out / "fig_sweep_f0.png").string(), f0);
  io::plot_png((out / "fig_sweep_energy.png").string(), en);
  return md +
         "\n![F0 along the sweep](fig_sweep_f0.png)\n![energy along the sweep](fig_sweep_energy.png)\n\n";
}

// The VA plane: the anchors, and the targets the replies were asked for (after noise, if any).
std::string va_plane_section(const fs::path& out) {
  io::Figure fig{
      "The VA plane: the 12 anchors", "valence", "arousal", {}, 800, 700, true, -1.05, 1.25, -1.05, 1.05};
  int color = 0;
  for (const auto& a : affect::AnchorSet::builtin().all()) {
    fig.series.push_back({a.name, {a.va.valence}, {a.va.arousal}, true, color++});
  }
  io::Series sweep{"happy->sad", {}, {}, false, 7};
  const auto h = affect::AnchorSet::builtin().find("happy").va,
             s = affect::AnchorSet::builtin().find("sad").va;
  for (double t : {0.0, 0.25, 0.5, 0.75, 1.0}) {
    auto p = affect::interpolate(h, s, t);
    sweep.x.push_back(p.valence);
    sweep.y.push_back(p.arousal);
  }
  fig.series.push_back(sweep);
  io::plot_png((out / "fig_va_plane.png").string(), fig);
  return "## The VA plane\n\n![anchors and the interpolation path](fig_va_plane.png)\n\n";
}

// report.html: per query, a row per target emotion with each system's reply (audio player and text).
void write_html(const fs::path& run, const fs::path& out, const std::string& markdown) {
  const auto responses = run / "replies" / "responses.jsonl";
  std::string html =
      "<!doctype html><meta charset=utf-8><title>symp quickstart</title><style>body{font-family:sans-serif;"
      "max-width:1200px;margin:auto}td,th{border:1px solid "
      "#ccc;padding:4px;vertical-align:top}table{border-collapse:"
      "collapse}audio{width:220px}</style><h1>symp quickstart: replies per target emotion</h1>"
      "<p>Embedded substitutes throughout: a tiny GLM-shaped model trained here (not GLM-4-Voice), the "
      "embedded codec "
      "and espeak-ng speech. See report.md for the figures and tables.</p>";
  if (fs::exists(responses)) {
    std::map<std::string, std::map<std::string, std::map<std::string, records::ResponseRecord>>>
        grid;  // query -> emotion -> system
    std::vector<std::string> systems;
    records::for_each_response_record(
        responses.string(),
        [&](const records::ResponseRecord& r, size_t) {
          if (std::find(systems.begin(), systems.end(), r.system) == systems.end())
            systems.push_back(r.system);
          grid[r.query_id][r.condition][r.system] = r;
        },
        /*tolerate_torn_tail=*/true);
    const auto rel = fs::relative(run / "replies", out).string();
    for (const auto& [query, emotions] : grid) {
      std::string qtext;
      for (const auto& [e, bys] : emotions) {
        for (const auto& [s, r] : bys) qtext = r.query_text;
      }
      html += "<h2>" + html_escape(query) + "</h2><p><i>" + html_escape(qtext) +
              "</i></p><table><tr><th>target</th>";
      for (const auto& s : systems) html += "<th>" + html_escape(s) + "</th>";
      html += "</tr>";
      for (const auto& [emotion, bys] : emotions) {
        html += "<tr><td>" + html_escape(emotion) + "</td>";
        for (const auto& s : systems) {
          html += "<td>";
          auto it = bys.find(s);
          if (it != bys.end()) {
            const auto& r = it->second;
            if (!r.response_audio.empty()) {
              html += "<audio controls preload=none src=\"" + html_escape(rel + "/" + r.response_audio) +
                      "\"></audio><br>";
            }
            html += html_escape(r.response_text);
          }
          html += "</td>";
        }
        html += "</tr>";
      }
      html += "</table>";
    }
  }
  html += "<h2>Report</h2><pre>" + html_escape(markdown) + "</pre>";
  write_file_atomic(out / "report.html", html);
}

// recipes/quickstart/run.sh appends "stage<TAB>seconds" per stage run to stage_times.tsv (a resumed stage
// adds a line for the part it ran; the seconds of one stage are summed).
std::string stage_times_section(const fs::path& run) {
  const auto path = run / "stage_times.tsv";
  if (!fs::exists(path)) return "";
  std::vector<std::pair<std::string, double>> stages;
  std::istringstream in(read_text_file(path));
  for (std::string line; std::getline(in, line);) {
    const auto tab = line.rfind('\t');
    if (tab == std::string::npos) continue;
    double seconds = 0;
    try {
      seconds = std::stod(line.substr(tab + 1));
    } catch (const std::exception&) {
      continue;
    }
    const std::string name = line.substr(0, tab);
    auto it = std::find_if(stages.begin(), stages.end(), [&](const auto& s) { return s.first == name; });
    if (it == stages.end())
      stages.emplace_back(name, seconds);
    else
      it->second += seconds;
  }
  if (stages.empty()) return "";
  double total = 0;
  std::string md = "## Stage times (wall clock, this machine)\n\n| stage | seconds |\n|---|---|\n";
  for (const auto& [name, seconds] : stages) {
    md += fmt::format("| {} | {:.0f} |\n", name, seconds);
    total += seconds;
  }
  return md + fmt::format("| **all stages** | **{:.0f}** ({:.1f} min) |\n\n", total, total / 60);
}

}  // namespace

void QuickstartReportOptions::validate() const {
  if (run_dir.empty()) throw UsageError("--run: required");
  if (!fs::is_directory(run_dir)) throw UsageError("--run: '" + run_dir + "' is not a folder");
}

std::string write_quickstart_report(const QuickstartReportOptions& options) {
  options.validate();
  const fs::path run(options.run_dir);
  const fs::path out(options.out_dir.empty() ? options.run_dir : options.out_dir);
  ensure_dir(out);
  std::string md =
      "# symp quickstart report\n\nThe Sympatheia claim in miniature, measured on this machine. **Embedded "
      "substitutes throughout**: the corpus is template text voiced by espeak-ng, the speech codec is symp's "
      "embedded 12.5 Hz codec, and the \"base model\" is a tiny GLM-shaped model trained here from scratch "
      "without "
      "the VA condition (a stand-in for GLM-4-Voice); \"lora\" is a LoRA adapter on it trained with the "
      "condition "
      "(a stand-in for Sympatheia). The figures are what they are; docs/quickstart.md says what limits "
      "them.\n\n";
  const Json metrics = quickstart_metrics(run);
  io::write_json_atomic((out / "report.json").string(), metrics);
  md += criteria_section(metrics);
  md += training_section(run, out);
  md += probe_section(run);
  md += prosody_section(run);
  md += diversity_section(run);
  md += sweep_section(run, out);
  md += va_plane_section(out);
  md += stage_times_section(run);
  const auto path = out / "report.md";
  write_file_atomic(path, md);
  write_html(run, out, md);
  log_info("report", "wrote {} and {}", path.string(), (out / "report.html").string());
  return path.string();
}

}  // namespace symp::report
