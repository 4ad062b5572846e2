#include "audio_factors.h"

#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "symp/core/error.h"
#include "symp/core/log.h"
#include "symp/io/jsonl.h"
#include "symp/nn/glm.h"

namespace symp::train {

AudioFactorLayout read_audio_factor_layout(const std::string& dir) {
  const std::filesystem::path folder = dir;
  const std::string tok_file = (folder / "tokenizer.json").string();
  const std::string codec_file = (folder / "codec.json").string();
  const io::Json tok = io::read_json(tok_file);
  const io::Json codec = io::read_json(codec_file);
  auto require_int = [](const io::Json& j, const char* field, const std::string& where) {
    const double v = io::require_number(j, field, where);
    if (!(v >= 0) || v != std::floor(v) || v > 1e9)
      throw InputError(fmt::format("{}: field '{}' must be a whole number, got {}", where, field, v));
    return static_cast<int64_t>(v);
  };
  AudioFactorLayout layout;
  layout.first = require_int(tok, "audio_offset", tok_file);
  const int64_t count = require_int(tok, "audio_codes", tok_file);
  if (!codec.contains("config") || !codec["config"].is_object())
    throw InputError(codec_file + ": field 'config' is missing (not an embedded codec model)");
  for (const char* field : {"envelope_codes", "pitch_levels", "energy_levels"})
    layout.radices.push_back(require_int(codec["config"], field, codec_file + ": config"));
  const auto& r = layout.radices;
  if (r[0] * r[1] * r[2] != count)
    throw InputError(fmt::format("{}: {} x {} x {} codec ids, but {} says {} audio codes", codec_file, r[0],
                                 r[1], r[2], tok_file, count));
  return layout;
}

void init_audio_factor_rows(nn::GlmModelImpl& model, const std::string& dir, uint64_t seed) {
  const auto layout = read_audio_factor_layout(dir);
  model.init_product_rows(layout.first, layout.radices, seed);
  log_info("train",
           "audio ids from {}: rows start as sums of envelope ({}), pitch ({}) and energy ({}) vectors",
           layout.first, layout.radices[0], layout.radices[1], layout.radices[2]);
}

void tie_audio_factor_rows(nn::GlmModelImpl& model, const AudioFactorLayout& layout) {
  model.project_product_rows(layout.first, layout.radices);
}

}  // namespace symp::train
