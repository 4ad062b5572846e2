#include "symp/speech/hift_config.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <numeric>

#include "symp/core/error.h"
#include "symp/io/json_lists.h"
#include "symp/io/jsonl.h"

namespace symp::speech {

HiftConfig HiftConfig::from_json(const nlohmann::json& j, const std::string& source) {
  if (!j.is_object()) throw InputError(source + ": the hift arguments are not a mapping");
  HiftConfig c;
  const std::string where = source + ": hift";
  io::read_optional(j, "in_channels", c.in_channels, where);
  io::read_optional(j, "base_channels", c.base_channels, where);
  io::read_optional(j, "nb_harmonics", c.nb_harmonics, where);
  io::read_optional(j, "sampling_rate", c.sampling_rate, where);
  io::read_optional(j, "nsf_alpha", c.nsf_alpha, where);
  io::read_optional(j, "nsf_sigma", c.nsf_sigma, where);
  io::read_optional(j, "nsf_voiced_threshold", c.nsf_voiced_threshold, where);
  io::read_optional_list(j, "upsample_rates", c.upsample_rates, where);
  io::read_optional_list(j, "upsample_kernel_sizes", c.upsample_kernel_sizes, where);
  if (auto it = j.find("istft_params"); it != j.end() && it->is_object()) {
    io::read_optional(*it, "n_fft", c.istft_n_fft, where);
    io::read_optional(*it, "hop_len", c.istft_hop, where);
  }
  io::read_optional_list(j, "resblock_kernel_sizes", c.resblock_kernel_sizes, where);
  io::read_optional_list(j, "resblock_dilation_sizes", c.resblock_dilation_sizes, where);
  io::read_optional_list(j, "source_resblock_kernel_sizes", c.source_resblock_kernel_sizes, where);
  io::read_optional_list(j, "source_resblock_dilation_sizes", c.source_resblock_dilation_sizes, where);
  io::read_optional(j, "lrelu_slope", c.lrelu_slope, where);
  io::read_optional(j, "audio_limit", c.audio_limit, where);
  if (auto it = j.find("f0_predictor"); it != j.end() && it->is_object()) {
    io::read_optional(*it, "num_class", c.f0_num_class, where);
    io::read_optional(*it, "in_channels", c.f0_in_channels, where);
    io::read_optional(*it, "cond_channels", c.f0_cond_channels, where);
  }
  try {
    c.validate();
  } catch (const Error& e) {
    throw InputError(source + ": " + e.what());
  }
  return c;
}

void HiftConfig::validate() const {
  auto bad = [](const std::string& what) { throw InputError("hift: " + what); };
  if (upsample_rates.empty() || upsample_rates.size() != upsample_kernel_sizes.size())
    bad("upsample_rates and upsample_kernel_sizes must be non-empty and of equal length");
  if (source_resblock_kernel_sizes.size() != upsample_rates.size() ||
      source_resblock_dilation_sizes.size() != upsample_rates.size())
    bad("source_resblock_kernel_sizes/dilation_sizes need one entry per upsampling stage");
  if (resblock_kernel_sizes.empty() || resblock_kernel_sizes.size() != resblock_dilation_sizes.size())
    bad("resblock_kernel_sizes and resblock_dilation_sizes must be non-empty and of equal length");
  // Sizes a vocoder could have; bounded so that shifts, products and convolution sizes stay defined.
  if (upsample_rates.size() > 16) bad("at most 16 upsampling stages");
  auto in_range = [&](const std::string& field, int value, int lo, int hi) {
    if (value < lo || value > hi)
      bad(field + " = " + std::to_string(value) + " outside " + std::to_string(lo) + ".." +
          std::to_string(hi));
  };
  in_range("in_channels", in_channels, 1, 1 << 16);
  in_range("base_channels", base_channels, 1, 1 << 16);
  in_range("nb_harmonics", nb_harmonics, 0, 1024);
  in_range("sampling_rate", sampling_rate, 1, 1 << 20);
  in_range("istft_params n_fft", istft_n_fft, 2, 1 << 16);
  in_range("istft_params hop_len", istft_hop, 1, 1 << 16);
  in_range("f0_predictor num_class", f0_num_class, 1, 1 << 16);
  in_range("f0_predictor cond_channels", f0_cond_channels, 1, 1 << 16);
  for (const auto* sizes :
       {&upsample_rates, &upsample_kernel_sizes, &resblock_kernel_sizes, &source_resblock_kernel_sizes})
    for (int v : *sizes) in_range("a rate or kernel size", v, 1, 1024);
  for (const auto* lists : {&resblock_dilation_sizes, &source_resblock_dilation_sizes})
    for (const auto& list : *lists) {
      if (list.empty() || list.size() > 16) bad("each dilation list needs 1 to 16 entries");
      for (int v : list) in_range("a dilation", v, 1, 1024);
    }
  int64_t samples = istft_hop;
  for (int r : upsample_rates) samples = std::min<int64_t>(samples * r, int64_t(1) << 40);
  if (samples > (1 << 20)) bad("prod(upsample_rates) x hop_len is over 2^20 samples per frame");
  for (double v : {nsf_alpha, nsf_sigma, nsf_voiced_threshold, lrelu_slope, audio_limit})
    if (!std::isfinite(v)) bad("nsf_*, lrelu_slope and audio_limit must be finite numbers");
  if (base_channels >> upsample_rates.size() <= 0) bad("base_channels too small for the upsampling stages");
  if (istft_n_fft < 2 || istft_hop <= 0) bad("istft_params n_fft/hop_len must be positive");
  if (sampling_rate <= 0) bad("sampling_rate must be > 0");
  if (f0_in_channels != in_channels) bad("f0_predictor.in_channels differs from in_channels");
}

int HiftConfig::samples_per_frame() const {
  return std::accumulate(upsample_rates.begin(), upsample_rates.end(), 1, std::multiplies<int>()) * istft_hop;
}

}  // namespace symp::speech
