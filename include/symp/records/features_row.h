#pragma once
// A row of eval-prosody's features.csv: one reply's prosody. eval-prosody writes it; the reports read it.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace symp::records {

struct FeaturesRow {
  std::string id;
  // The seven features (NaN where a feature cannot be measured: an unvoiced reply has no F0); all absent
  // (empty cells) when the row failed.
  std::optional<double> f0_mean, f0_std, f0_range, energy_mean, energy_std, rate, centroid;
  std::string rate_source;  // transcript or nuclei
  std::optional<int64_t> voiced_frames, frames;
  std::optional<double> duration, syllables;
  std::string system, emotion;
  std::optional<double> valence, arousal;  // the target; absent without one
  std::string audio, warning, error;
};

// The seven prosody features, in the contract's column order (also the rows of correlations.csv).
const std::vector<std::string>& prosody_feature_names();
// The header, in the contract's column order.
const std::vector<std::string>& features_header();
std::vector<std::string> to_cells(const FeaturesRow& row);
// All rows of a features.csv; InputError naming the file, row and column for a missing column or a
// cell that is not a number where one belongs.
std::vector<FeaturesRow> read_features_csv(const std::string& path);
void write_features_csv(const std::string& path, const std::vector<FeaturesRow>& rows);

}  // namespace symp::records
