#include "symp/report/paper.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "csv_table.h"
#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/io/csv.h"
#include "symp/io/jsonl.h"
#include "symp/io/plot.h"
#include "symp/records/features_row.h"
#include "symp/records/judge_item.h"
#include "symp/records/response.h"

namespace symp::report {
namespace {

using io::Json;

// One table of the report. Rows map column names to numbers, strings or null (not measured). A column
// "X_paper" holds the paper's figure for column X and "X_n" its sample count: Markdown shows both in X's
// cell; JSON and CSV keep them as columns of their own.
struct Table {
  std::string name, title, source, status = "ok";
  std::vector<std::string> columns;
  std::vector<Json> rows;
  std::vector<std::string> notes;
  std::map<std::string, int> digits;  // decimals per column (default 3)

  // Marks the table "missing" when the run has no `source` (its stage did not run); true then.
  bool missing_in(const fs::path& run) {
    if (fs::exists(run / source)) return false;
    status = "missing";
    return true;
  }
  bool has(const std::string& column) const {
    return std::find(columns.begin(), columns.end(), column) != columns.end();
  }
  std::string cell(const Json& v, const std::string& column) const {
    if (v.is_null()) return "-";
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer() || v.is_number_unsigned()) return std::to_string(v.get<long long>());
    const auto d = digits.find(column);
    return fmt::format("{:.{}f}", v.get<double>(), d == digits.end() ? 3 : d->second);
  }
  static bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() > tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
  }
  std::string markdown() const {
    std::string md = "## " + title + "\n\n";
    if (status != "ok") {
      md += "Not run: " + source + " is missing (run the stage that writes it).\n\n";
      return md;
    }
    std::vector<std::string> shown;
    for (const auto& c : columns) {
      if (ends_with(c, "_paper") || (ends_with(c, "_n") && has(c.substr(0, c.size() - 2)))) continue;
      shown.push_back(c);
    }
    md += "|";
    for (const auto& c : shown) md += " " + c + " |";
    md += "\n|";
    for (size_t i = 0; i < shown.size(); ++i) md += "---|";
    md += "\n";
    for (const auto& row : rows) {
      md += "|";
      for (const auto& c : shown) {
        std::string text = cell(row.value(c, Json()), c);
        if (has(c + "_n") && !row.value(c + "_n", Json()).is_null())
          text += " (n " + cell(row[c + "_n"], c + "_n") + ")";
        if (has(c + "_paper") && !row.value(c + "_paper", Json()).is_null())
          text += " [" + cell(row[c + "_paper"], c) + "]";
        md += " " + text + " |";
      }
      md += "\n";
    }
    md += "\n[brackets]: the paper's figure. Source: `" + source + "`.\n";
    for (const auto& n : notes) md += "- " + n + "\n";
    return md + "\n";
  }
  Json to_json() const {
    return {{"title", title},     {"source", source}, {"status", status},
            {"columns", columns}, {"rows", rows},     {"notes", notes}};
  }
  void write_csv(const fs::path& path) const {
    io::CsvWriter csv(columns);
    for (const auto& row : rows) {
      std::vector<std::string> cells;
      for (const auto& c : columns) {
        const Json v = row.value(c, Json());
        cells.push_back(v.is_null()     ? ""
                        : v.is_string() ? v.get<std::string>()
                        : v.is_number_integer() || v.is_number_unsigned()
                            ? std::to_string(v.get<long long>())
                            : io::format_number(v.get<double>()));
      }
      csv.add_row(cells);
    }
    csv.write(path.string());
  }
};

Table make_table(std::string name, std::string title, std::string source, std::vector<std::string> columns,
                 std::map<std::string, int> digits) {
  Table t;
  t.name = std::move(name);
  t.title = std::move(title);
  t.source = std::move(source);
  t.columns = std::move(columns);
  t.digits = std::move(digits);
  return t;
}

Json paper_value(const Json& figures, std::initializer_list<std::string> keys) {
  const Json* at = &figures;
  for (const auto& k : keys) {
    if (!at->is_object() || !at->contains(k)) return Json();
    at = &(*at)[k];
  }
  return *at;
}

// The paper's row a system is compared with: the method's, the base's, or none.
std::string paper_row(const std::string& system, const PaperReportOptions& o) {
  return system == o.method ? "sympatheia" : system == o.base ? "base" : "";
}

Table headline_table(const fs::path& run, const Json& figures, const PaperReportOptions& o) {
  Table t = make_table(
      "headline", "Judge scores and diversity across target emotions (the paper's main table)",
      "judge/main/judge.json",
      {"system", "neutral", "neutral_n", "neutral_paper", "emotional", "emotional_n", "emotional_paper",
       "commoneval", "commoneval_n", "commoneval_paper", "emotion_mos", "emotion_mos_paper", "sem_sim",
       "sem_sim_paper", "lex_sim", "lex_sim_paper", "similarity_on"},
      {{"neutral", 2}, {"emotional", 2}, {"commoneval", 2}, {"emotion_mos", 2}});
  if (t.missing_in(run)) return t;
  const Json j = io::read_json((run / t.source).string());
  std::string semantic_measure;
  for (const auto& s : j.at("systems")) {
    const std::string system = s.get<std::string>(), paper = paper_row(system, o);
    Json row{{"system", system}, {"emotion_mos", nullptr}};
    for (const auto* setting : {"neutral", "emotional", "commoneval"}) {
      row[setting] = nullptr;
      row[std::string(setting) + "_n"] = 0;
      if (!j.contains("audio_judge")) continue;
      for (const auto& sum : j["audio_judge"]["summaries"]) {
        if (sum["system"] != system || sum["setting"] != setting || sum["n"].get<size_t>() == 0) continue;
        row[setting] = sum["mean"];
        row[std::string(setting) + "_n"] = sum["n"];
      }
    }
    row["sem_sim"] = nullptr;
    row["lex_sim"] = nullptr;
    row["similarity_on"] = nullptr;
    for (const auto& d : j.value("diversity", Json::array())) {
      if (d["system"] != system || d["lexical"]["pairs"].get<size_t>() == 0) continue;
      row["lex_sim"] = d["lexical"]["mean"];
      row["similarity_on"] = d.value("text_source", std::string("model text"));
      if (!d["semantic"].is_null()) {
        row["sem_sim"] = d["semantic"]["mean"];
        semantic_measure = d.value("semantic_measure", std::string());
      }
    }
    for (const auto* c : {"neutral", "emotional", "commoneval", "emotion_mos", "sem_sim", "lex_sim"})
      row[std::string(c) + "_paper"] = paper.empty() ? Json() : paper_value(figures, {"headline", paper, c});
    t.rows.push_back(row);
  }
  const std::string judge_model = j.contains("audio_judge")
                                      ? j["audio_judge"].value("judge_model", std::string("-"))
                                      : "no audio judge run";
  t.notes.push_back("Neutral / Emotional / CommonEval: mean audio-judge score 1-5 (" + judge_model +
                    "); n = replies with a rating; replies whose ratings all failed are left out.");
  t.notes.push_back("Emotion MOS: a human listening study fills this column; symp does not estimate it.");
  t.notes.push_back(
      "sem. sim.: " +
      (semantic_measure.empty() ? std::string("not computed (no encoder given)") : semantic_measure) +
      "; lex. sim.: ROUGE-L F1 with stemming; mean pairwise over one query's replies under "
      "different target emotions (lower = the reply changes more).");
  return t;
}

Table prosody_table(const fs::path& run, const Json& figures, const PaperReportOptions& o) {
  Table t = make_table("prosody", "Prosody: Spearman rho of each feature with target valence and arousal",
                       "prosody/correlations.csv",
                       {"system", "feature", "n", "valence_rho", "valence_rho_paper", "valence_p",
                        "arousal_rho", "arousal_rho_paper", "arousal_p"},
                       {{"valence_rho", 2}, {"arousal_rho", 2}, {"valence_p", 3}, {"arousal_p", 3}});
  if (t.missing_in(run)) return t;
  const auto csv = read_csv_table(run / t.source);
  for (const char* need : {"system", "feature", "target", "rho", "p", "n"}) {
    if (std::find(csv.header.begin(), csv.header.end(), need) == csv.header.end())
      throw InputError((run / t.source).string() + ": no column '" + need +
                       "' (eval-prosody's correlations)");
  }
  auto num = [](const std::string& s) -> Json {
    const double v = parse_number(s);
    return std::isfinite(v) ? Json(v) : Json();
  };
  std::vector<std::string> systems;
  std::map<std::string, Json> rows;  // system|feature -> row
  for (const auto& r : csv.rows) {
    if (r.size() < csv.header.size()) continue;
    const std::string system = r.at("system"), feature = r.at("feature"), target = r.at("target");
    if (std::find(systems.begin(), systems.end(), system) == systems.end()) systems.push_back(system);
    Json& row = rows[system + "|" + feature];
    if (row.is_null()) {
      const std::string paper = paper_row(system, o);
      row = {{"system", system}, {"feature", feature}, {"n", std::stoll(r.at("n"))}};
      const Json fig = paper.empty() ? Json() : paper_value(figures, {"prosody", paper, feature});
      row["valence_rho_paper"] = fig.is_array() ? fig[0] : Json();
      row["arousal_rho_paper"] = fig.is_array() ? fig[1] : Json();
    }
    row[target + "_rho"] = num(r.at("rho"));
    row[target + "_p"] = num(r.at("p"));
  }
  for (const auto& system : systems) {
    for (const auto& f : records::prosody_feature_names()) {
      auto it = rows.find(system + "|" + f);
      if (it != rows.end()) t.rows.push_back(it->second);
    }
  }
  t.notes.push_back("Pooled over every Neutral-setting reply with all seven features (n); p two-sided.");
  return t;
}

Table noise_table(const fs::path& run, const Json& figures) {
  Table t = make_table(
      "noise", "Robustness: judge score when Gaussian noise of std sigma is added to the VA condition",
      "judge/noise/judge.json", {"sigma", "judge", "judge_n", "judge_paper", "std"},
      {{"sigma", 2}, {"judge", 2}, {"std", 2}});
  if (t.missing_in(run)) return t;
  const Json j = io::read_json((run / t.source).string());
  const Json paper_noise = figures.value("noise", Json::object());
  const Json summaries = j.contains("audio_judge") ? j["audio_judge"]["summaries"] : Json::array();
  for (const auto& sum : summaries) {
    const std::string system = sum["system"].get<std::string>();
    if (system.rfind("sigma_", 0) != 0) continue;
    const std::string sigma_text = system.substr(6);
    const double sigma = std::strtod(sigma_text.c_str(), nullptr);
    Json paper;
    for (const auto& [key, v] : paper_noise.items())
      if (std::fabs(std::strtod(key.c_str(), nullptr) - sigma) < 1e-9) paper = v;
    t.rows.push_back({{"sigma", sigma},
                      {"judge", sum["n"].get<size_t>() ? sum["mean"] : Json()},
                      {"judge_n", sum["n"]},
                      {"judge_paper", paper},
                      {"std", sum["n"].get<size_t>() > 1 ? sum["std"] : Json()}});
  }
  std::sort(t.rows.begin(), t.rows.end(),
            [](const Json& a, const Json& b) { return a["sigma"].get<double>() < b["sigma"].get<double>(); });
  t.notes.push_back("Neutral rubric; every repeat of every query x emotion pooled (n); std = sample std.");
  return t;
}

Table general_table(const fs::path& run, const Json& figures, const PaperReportOptions& o) {
  Table t =
      make_table("general", "General ability kept", "judge/main/judge.json",
                 {"system", "utmos", "utmos_paper", "bertscore_f1", "bertscore_f1_paper", "rouge_l",
                  "rouge_l_paper", "wer_percent", "wer_percent_paper", "with_reference", "with_transcript"},
                 {{"utmos", 2}, {"wer_percent", 2}});
  if (t.missing_in(run)) return t;
  const Json j = io::read_json((run / t.source).string());
  std::string bertscore_model;
  for (const auto& g : j.value("general", Json::array())) {
    const std::string system = g["system"].get<std::string>(), paper = paper_row(system, o);
    Json row{{"system", system},
             {"utmos", nullptr},
             {"bertscore_f1", g["bertscore_f1"]},
             {"rouge_l", g["rouge_l"]},
             {"wer_percent", g["wer"].is_null() ? Json() : Json(100.0 * g["wer"].get<double>())},
             {"with_reference", g["with_reference"]},
             {"with_transcript", g["with_transcript"]}};
    for (const auto* c : {"utmos", "bertscore_f1", "rouge_l", "wer_percent"})
      row[std::string(c) + "_paper"] = paper.empty() ? Json() : paper_value(figures, {"general", paper, c});
    if (g.contains("bertscore_model") && g["bertscore_model"].is_string())
      bertscore_model = g["bertscore_model"].get<std::string>();
    t.rows.push_back(row);
  }
  t.notes.push_back(
      "UTMOS: not computed by symp (no UTMOS22 model is bundled); the paper's figure is shown.");
  t.notes.push_back(
      "BERTScore F1 (" +
      (bertscore_model.empty() ? std::string("not computed: no model given") : bertscore_model) +
      ") and ROUGE-L against the corpus's reference replies (with_reference replies); WER of "
      "the ASR transcript against the model's own text, lower-cased, punctuation removed "
      "(with_transcript replies).");
  return t;
}

Table sensing_table(const fs::path& run, const Json& figures) {
  Table t =
      make_table("sensing", "Sensing: judge score with the sensor's cue as the condition and without it",
                 "judge/sensing/judge_items.jsonl",
                 {"modality", "with_cue", "with_cue_n", "with_cue_paper", "without_cue", "without_cue_n",
                  "without_cue_paper"},
                 {{"with_cue", 2}, {"without_cue", 2}});
  if (t.missing_in(run)) return t;
  std::map<std::string, std::map<std::string, bool>> cue_of;  // modality -> reply id -> answered with a cue
  std::vector<std::string> modalities;
  const auto items = records::read_judge_items((run / t.source).string());
  for (const auto& item : items) {
    const std::string& modality = item.system;
    if (cue_of.count(modality)) continue;
    modalities.push_back(modality);
    const auto responses = run / "replies" / "sensing" / modality / "responses.jsonl";
    auto& ids = cue_of[modality];
    records::for_each_response_record(responses.string(), [&](const records::ResponseRecord& r, size_t) {
      ids[r.id] = !r.cue_modality.empty();
    });
  }
  std::map<std::string, std::array<std::vector<double>, 2>> scores;  // modality -> [without, with]
  for (const auto& item : items) {
    if (!item.score) continue;
    const std::string &modality = item.system, &id = item.id;
    const auto it = cue_of[modality].find(id);
    if (it == cue_of[modality].end())
      throw InputError((run / t.source).string() + ": reply " + id + " is not in replies/sensing/" +
                       modality + "/responses.jsonl");
    scores[modality][it->second ? 1 : 0].push_back(*item.score);
  }
  auto mean = [](const std::vector<double>& v) -> Json {
    if (v.empty()) return Json();
    double s = 0;
    for (double x : v) s += x;
    return s / static_cast<double>(v.size());
  };
  for (const auto& m : modalities) {
    t.rows.push_back({{"modality", m},
                      {"with_cue", mean(scores[m][1])},
                      {"with_cue_n", scores[m][1].size()},
                      {"with_cue_paper", paper_value(figures, {"sensing", m, "with_cue"})},
                      {"without_cue", mean(scores[m][0])},
                      {"without_cue_n", scores[m][0].size()},
                      {"without_cue_paper", paper_value(figures, {"sensing", m, "without_cue"})}});
  }
  t.notes.push_back(
      "Each neutral query answered once with the cue's VA (through the affect core) and once with "
      "N/A; both judged with the neutral rubric against the emotion the user really felt.");
  return t;
}

Table probe_table(const fs::path& run) {
  Table t =
      make_table("probe", "Condition probe: is each eval reference reply most likely under its own anchor?",
                 "probe/probe_summary.json",
                 {"system", "n", "accuracy", "chance", "mean_rank", "margin_nats", "margin_ci95_low",
                  "margin_ci95_high"},
                 {{"accuracy", 3},
                  {"chance", 3},
                  {"margin_nats", 4},
                  {"margin_ci95_low", 4},
                  {"margin_ci95_high", 4},
                  {"mean_rank", 2}});
  if (t.missing_in(run)) return t;
  const Json j = io::read_json((run / t.source).string());
  for (const auto& s : j.at("systems"))
    t.rows.push_back({{"system", s.at("system")},
                      {"n", s.at("n")},
                      {"accuracy", s.at("accuracy")},
                      {"chance", j.at("chance")},
                      {"mean_rank", s.at("mean_rank")},
                      {"margin_nats", s.at("margin_nats")},
                      {"margin_ci95_low", s.at("margin_nats_ci95")[0]},
                      {"margin_ci95_high", s.at("margin_nats_ci95")[1]}});
  t.notes.push_back(
      "symp's own measure (`symp probe`; the paper reports none): teacher-forced, no sampling. "
      "Margin = loss under the best other anchor minus loss under the true one, nats per token, "
      "with a 95 % bootstrap interval over records.");
  return t;
}

void judge_vs_sigma_figure(const Table& noise, const fs::path& path) {
  io::Figure fig;
  fig.title = "Judge score vs VA noise";
  fig.xlabel = "noise std sigma on (valence, arousal)";
  fig.ylabel = "mean judge score (1-5)";
  fig.ymin = 1;
  fig.ymax = 5;
  io::Series ours{"symp", {}, {}, false, -1}, paper{"paper", {}, {}, false, -1};
  for (const auto& row : noise.rows) {
    if (!row["judge"].is_null()) ours.x.push_back(row["sigma"]), ours.y.push_back(row["judge"]);
    if (!row["judge_paper"].is_null()) paper.x.push_back(row["sigma"]), paper.y.push_back(row["judge_paper"]);
  }
  if (ours.x.empty()) return;
  fig.series.push_back(ours);
  if (!paper.x.empty()) fig.series.push_back(paper);
  io::plot_png(path.string(), fig);
}

// The method's Neutral-setting replies at their target (valence, arousal), one series per judge score.
void va_plane_figure(const fs::path& run, const PaperReportOptions& o, const fs::path& path) {
  const auto items_path = run / "judge" / "main" / "judge_items.jsonl";
  if (!fs::exists(items_path)) return;
  std::map<std::string, io::Series> by_score;
  for (const auto& item : records::read_judge_items(items_path.string())) {
    if (item.system != o.method || item.setting != "neutral") continue;
    const std::string label =
        !item.score ? "no rating" : fmt::format("judge {:.0f}", std::round(*item.score));
    auto& s = by_score[label];
    s.label = label;
    s.points = true;
    s.x.push_back(item.valence);
    s.y.push_back(item.arousal);
  }
  if (by_score.empty()) return;
  io::Figure fig;
  fig.title = o.method + ": Neutral-setting replies on the VA plane";
  fig.xlabel = "target valence";
  fig.ylabel = "target arousal";
  fig.xmin = fig.ymin = -1.05;
  fig.xmax = fig.ymax = 1.05;
  for (auto& [label, s] : by_score) fig.series.push_back(s);
  io::plot_png(path.string(), fig);
}

}  // namespace

void PaperReportOptions::validate() const {
  if (run_dir.empty()) throw UsageError("--run: required");
  if (!fs::is_directory(run_dir)) throw UsageError("--run: '" + run_dir + "' is not a folder");
  if (method.empty() || base.empty()) throw UsageError("--method and --base-system: must name systems");
}

std::string write_paper_report(const PaperReportOptions& o) {
  o.validate();
  const fs::path run(o.run_dir);
  const fs::path out(o.out_dir.empty() ? run / "report" : fs::path(o.out_dir));
  ensure_dir(out);
  const fs::path figures_path = o.figures.empty() ? data_path("paper/figures.json") : fs::path(o.figures);
  const Json figures = io::read_json(figures_path.string());

  const std::vector<Table> tables = {headline_table(run, figures, o), prosody_table(run, figures, o),
                                     noise_table(run, figures),       general_table(run, figures, o),
                                     sensing_table(run, figures),     probe_table(run)};
  std::string md =
      "# The paper's tables, reproduced by symp\n\nRun folder: `" + run.string() +
      "`. Each cell is symp's figure; the paper's (PAPER.md section 7) follows in [brackets] where the paper "
      "reports one. Systems: `" +
      o.method + "` is compared with the paper's Sympatheia, `" + o.base + "` with its GLM-4-Voice base.\n\n";
  Json all = Json::object();
  for (const auto& t : tables) {
    md += t.markdown();
    all[t.name] = t.to_json();
    if (t.status == "ok") t.write_csv(out / (t.name + ".csv"));
  }
  for (const auto* png : {"judge_vs_sigma.png", "va_plane.png"}) fs::remove(out / png);  // none stale
  judge_vs_sigma_figure(tables[2], out / "judge_vs_sigma.png");
  va_plane_figure(run, o, out / "va_plane.png");
  if (fs::exists(out / "judge_vs_sigma.png")) md += "![judge score vs sigma](judge_vs_sigma.png)\n\n";
  if (fs::exists(out / "va_plane.png")) md += "![replies on the VA plane](va_plane.png)\n\n";
  io::write_json_atomic((out / "tables.json").string(), all);
  write_file_atomic(out / "tables.md", md);
  log_info("report", "paper tables in {}", (out / "tables.md").string());
  return (out / "tables.md").string();
}

}  // namespace symp::report
