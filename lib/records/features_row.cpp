// The features.csv row: its column names, its reader and its writer.
#include "symp/records/features_row.h"

#include "symp/core/error.h"
#include "symp/io/csv.h"

#include <cmath>
#include <map>

namespace symp::records {

namespace {

std::string cell(const std::optional<double>& v) {
  return v ? io::format_number(*v) : "";
}
std::string cell(const std::optional<int64_t>& v) {
  return v ? std::to_string(*v) : "";
}

}  // namespace

const std::vector<std::string>& prosody_feature_names() {
  static const std::vector<std::string> names = {"f0_mean",    "f0_std", "f0_range", "energy_mean",
                                                 "energy_std", "rate",   "centroid"};
  return names;
}

const std::vector<std::string>& features_header() {
  static const std::vector<std::string> h = [] {
    std::vector<std::string> columns = {"id"};
    const auto& features = prosody_feature_names();
    columns.insert(columns.end(), features.begin(), features.end());
    for (const char* c : {"rate_source", "voiced_frames", "frames", "duration", "syllables", "system",
                          "emotion", "valence", "arousal", "audio", "warning", "error"})
      columns.push_back(c);
    return columns;
  }();
  return h;
}

std::vector<std::string> to_cells(const FeaturesRow& r) {
  return {r.id,
          cell(r.f0_mean),
          cell(r.f0_std),
          cell(r.f0_range),
          cell(r.energy_mean),
          cell(r.energy_std),
          cell(r.rate),
          cell(r.centroid),
          r.rate_source,
          cell(r.voiced_frames),
          cell(r.frames),
          cell(r.duration),
          cell(r.syllables),
          r.system,
          r.emotion,
          cell(r.valence),
          cell(r.arousal),
          r.audio,
          r.warning,
          r.error};
}

void write_features_csv(const std::string& path, const std::vector<FeaturesRow>& rows) {
  io::CsvWriter csv(features_header());
  for (const auto& r : rows) csv.add_row(to_cells(r));
  csv.write(path);
}

std::vector<FeaturesRow> read_features_csv(const std::string& path) {
  const auto table = io::read_csv(path);
  if (table.empty()) throw InputError(path + ": empty (no header row)");
  std::map<std::string, size_t> column;
  for (size_t i = 0; i < table[0].size(); ++i) column[table[0][i]] = i;
  for (const auto& name : features_header())
    if (!column.count(name)) throw InputError(path + ": column '" + name + "' missing");
  std::vector<FeaturesRow> rows;
  for (size_t k = 1; k < table.size(); ++k) {
    const auto& cells = table[k];
    const std::string where = path + ": row " + std::to_string(k + 1);
    auto text = [&](const char* name) -> std::string {
      const size_t i = column.at(name);
      return i < cells.size() ? cells[i] : "";
    };
    auto number = [&](const char* name) -> std::optional<double> {
      const std::string s = text(name);
      if (s.empty()) return std::nullopt;
      if (s == "nan") return std::nan("");
      size_t used = 0;
      double v = 0;
      try {
        v = std::stod(s, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != s.size()) throw InputError(where + ": column '" + name + "': '" + s + "' is not a number");
      return v;
    };
    auto integer = [&](const char* name) -> std::optional<int64_t> {
      const auto v = number(name);
      // Counts of frames: whole numbers a double holds exactly (|v| <= 2^53), so the cast is defined.
      if (v && (!std::isfinite(*v) || std::floor(*v) != *v || std::fabs(*v) > 9007199254740992.0))
        throw InputError(where + ": column '" + name + "': not an integer");
      return v ? std::optional<int64_t>(static_cast<int64_t>(*v)) : std::nullopt;
    };
    FeaturesRow r;
    r.id = text("id");
    r.f0_mean = number("f0_mean");
    r.f0_std = number("f0_std");
    r.f0_range = number("f0_range");
    r.energy_mean = number("energy_mean");
    r.energy_std = number("energy_std");
    r.rate = number("rate");
    r.centroid = number("centroid");
    r.rate_source = text("rate_source");
    r.voiced_frames = integer("voiced_frames");
    r.frames = integer("frames");
    r.duration = number("duration");
    r.syllables = number("syllables");
    r.system = text("system");
    r.emotion = text("emotion");
    r.valence = number("valence");
    r.arousal = number("arousal");
    r.audio = text("audio");
    r.warning = text("warning");
    r.error = text("error");
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace symp::records
