#pragma once
// The sizes of the HiFT vocoder (symp/speech/hift.h), read from GLM-4-Voice's decoder config.yaml (as JSON)
// or a flat config.json. No torch here, so the reader can be used and fuzzed without it.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace symp::speech {

// The constructor arguments of HiFTGenerator (names as in config.yaml's `hift:` block).
struct HiftConfig {
  int in_channels = 80;
  int base_channels = 512;
  int nb_harmonics = 8;
  int sampling_rate = 22050;
  double nsf_alpha = 0.1;            // sine amplitude
  double nsf_sigma = 0.003;          // noise std in voiced frames
  double nsf_voiced_threshold = 10;  // Hz: F0 above it counts as voiced
  std::vector<int> upsample_rates = {8, 8};
  std::vector<int> upsample_kernel_sizes = {16, 16};
  int istft_n_fft = 16;
  int istft_hop = 4;
  std::vector<int> resblock_kernel_sizes = {3, 7, 11};
  std::vector<std::vector<int>> resblock_dilation_sizes = {{1, 3, 5}, {1, 3, 5}, {1, 3, 5}};
  std::vector<int> source_resblock_kernel_sizes = {7, 11};
  std::vector<std::vector<int>> source_resblock_dilation_sizes = {{1, 3, 5}, {1, 3, 5}};
  double lrelu_slope = 0.1;
  double audio_limit = 0.99;
  int f0_num_class = 1;        // f0_predictor.num_class
  int f0_in_channels = 80;     // f0_predictor.in_channels
  int f0_cond_channels = 512;  // f0_predictor.cond_channels

  // From the argument mapping (hift/config.json, or config.yaml's hift block as JSON); missing keys keep
  // the defaults above; InputError naming `source` and the field on a wrong type.
  static HiftConfig from_json(const nlohmann::json& j, const std::string& source);
  void validate() const;  // InputError naming the field
  // Output samples per mel frame: prod(upsample_rates) x istft hop (256).
  int samples_per_frame() const;
};

}  // namespace symp::speech
