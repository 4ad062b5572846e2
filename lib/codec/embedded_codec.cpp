// The embedded codec: configuration, model file, codebook training and quantisation. Analysis is in
// embedded_codec_analysis.cpp, synthesis in embedded_codec_synth.cpp.
#include "symp/codec/embedded_codec.h"

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/core/progress.h"
#include "symp/core/rng.h"
#include "symp/core/worker_pool.h"
#include "symp/io/audio.h"
#include "symp/io/jsonl.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace symp::codec {

namespace {

template <class T>
void require_positive(const char* field, T value, T min = 1) {
  if (value < min)
    throw UsageError(fmt::format("embedded codec: {} must be >= {}, got {}", field, min, value));
}

// Lloyd-Max quantiser levels for 1-D data: starts at quantiles, alternates nearest-level assignment and
// means. Levels come out sorted.
std::vector<double> lloyd_levels(std::vector<double> values, int levels) {
  std::sort(values.begin(), values.end());
  std::vector<double> c(static_cast<size_t>(levels));
  if (values.empty()) {
    for (int i = 0; i < levels; ++i) c[i] = i;
    return c;
  }
  for (int i = 0; i < levels; ++i) c[i] = values[(values.size() - 1) * (2 * i + 1) / (2 * levels)];
  for (int iter = 0; iter < 60; ++iter) {
    std::vector<double> sum(static_cast<size_t>(levels), 0.0);
    std::vector<int64_t> count(static_cast<size_t>(levels), 0);
    size_t k = 0;
    for (double v : values) {
      while (k + 1 < c.size() && v > 0.5 * (c[k] + c[k + 1])) ++k;
      sum[k] += v;
      ++count[k];
    }
    for (int i = 0; i < levels; ++i)
      if (count[i] > 0) c[i] = sum[i] / count[i];
    std::sort(c.begin(), c.end());
    // Duplicate levels (few distinct values) are spread apart so every level stays distinct.
    for (int i = 1; i < levels; ++i) c[i] = std::max(c[i], c[i - 1] + 1e-6);
  }
  return c;
}

int nearest_level(const std::vector<double>& levels, double v) {
  const auto it = std::lower_bound(levels.begin(), levels.end(), v);
  if (it == levels.begin()) return 0;
  if (it == levels.end()) return static_cast<int>(levels.size()) - 1;
  const int hi = static_cast<int>(it - levels.begin());
  return (v - levels[hi - 1] <= levels[hi] - v) ? hi - 1 : hi;
}

double sq_distance(const std::vector<float>& a, const std::vector<float>& b) {
  double d = 0.0;
  for (size_t i = 0; i < a.size(); ++i) d += double(a[i] - b[i]) * (a[i] - b[i]);
  return d;
}

int nearest_centroid(const std::vector<std::vector<float>>& centroids, const std::vector<float>& x) {
  int best = 0;
  double best_d = std::numeric_limits<double>::infinity();
  for (size_t k = 0; k < centroids.size(); ++k) {
    const double d = sq_distance(centroids[k], x);
    if (d < best_d) {
      best_d = d;
      best = static_cast<int>(k);
    }
  }
  return best;
}

// k-means with k-means++ seeding.
std::vector<std::vector<float>> kmeans(const std::vector<std::vector<float>>& data, int k, int iterations,
                                       Rng& rng) {
  if (data.empty()) throw InputError("embedded codec: no speech frames to train the envelope codebook on");
  const size_t dim = data[0].size();
  std::vector<std::vector<float>> centroids;
  centroids.push_back(data[rng.below(data.size())]);
  std::vector<double> d2(data.size(), std::numeric_limits<double>::infinity());
  while (static_cast<int>(centroids.size()) < k) {
    double total = 0.0;
    for (size_t i = 0; i < data.size(); ++i) {
      d2[i] = std::min(d2[i], sq_distance(data[i], centroids.back()));
      total += d2[i];
    }
    size_t pick = rng.below(data.size());
    if (total > 0) {
      double r = rng.uniform() * total;
      for (size_t i = 0; i < data.size(); ++i) {
        r -= d2[i];
        if (r <= 0) {
          pick = i;
          break;
        }
      }
    }
    centroids.push_back(data[pick]);
  }
  std::vector<int> assign(data.size(), -1);
  for (int iter = 0; iter < iterations; ++iter) {
    bool changed = false;
    for (size_t i = 0; i < data.size(); ++i) {
      const int a = nearest_centroid(centroids, data[i]);
      changed |= a != assign[i];
      assign[i] = a;
    }
    std::vector<std::vector<double>> sum(static_cast<size_t>(k), std::vector<double>(dim, 0.0));
    std::vector<int64_t> count(static_cast<size_t>(k), 0);
    for (size_t i = 0; i < data.size(); ++i) {
      for (size_t d = 0; d < dim; ++d) sum[assign[i]][d] += data[i][d];
      ++count[assign[i]];
    }
    for (int c = 0; c < k; ++c) {
      if (count[c] == 0) {  // an empty cluster restarts at a random frame
        centroids[c] = data[rng.below(data.size())];
        continue;
      }
      for (size_t d = 0; d < dim; ++d) centroids[c][d] = static_cast<float>(sum[c][d] / count[c]);
    }
    if (!changed) break;
  }
  return centroids;
}

}  // namespace

void EmbeddedCodecConfig::validate() const {
  require_positive("sample_rate", sample_rate, 8000);
  require_positive("hop", hop);
  require_positive("hops_per_token", hops_per_token);
  require_positive("mel_bands", mel_bands, 4);
  require_positive("cepstra", cepstra);
  require_positive("shape_points", shape_points);
  if (token_hop() % shape_points != 0)
    throw UsageError(fmt::format("embedded codec: shape_points must divide hop x hops_per_token ({}), got {}",
                                 token_hop(), shape_points));
  if (!(shape_weight >= 0))
    throw UsageError(fmt::format("embedded codec: shape_weight must be >= 0, got {}", shape_weight));
  require_positive("envelope_codes", envelope_codes);
  require_positive("pitch_levels", pitch_levels, 2);
  require_positive("energy_levels", energy_levels);
  if (fft_size < 2 * hop || (fft_size & (fft_size - 1)) != 0)
    throw UsageError(
        fmt::format("embedded codec: fft_size must be a power of two >= 2 x hop, got {}", fft_size));
  if (cepstra >= mel_bands)
    throw UsageError(
        fmt::format("embedded codec: cepstra must be < mel_bands ({}), got {}", mel_bands, cepstra));
  if (!(mel_low_hz >= 0 && mel_low_hz < mel_high_hz && mel_high_hz <= sample_rate / 2.0))
    throw UsageError(fmt::format("embedded codec: mel range {}..{} Hz invalid at {} Hz", mel_low_hz,
                                 mel_high_hz, sample_rate));
  if (!(pitch_floor_hz > 20 && pitch_floor_hz < pitch_ceiling_hz && pitch_ceiling_hz < sample_rate / 4.0))
    throw UsageError(
        fmt::format("embedded codec: pitch range {}..{} Hz invalid", pitch_floor_hz, pitch_ceiling_hz));
}

void EmbeddedCodecFitOptions::validate() const {
  config.validate();
  require_positive("max_files", max_files);
  require_positive("kmeans_iterations", kmeans_iterations);
  require_positive("threads", threads);
}

void EmbeddedCodecModel::save(const std::string& path) const {
  io::Json j;
  j["format"] = kFormat;
  j["version"] = kVersion;
  const auto& c = config;
  j["config"] = {{"sample_rate", c.sample_rate},       {"hop", c.hop},
                 {"hops_per_token", c.hops_per_token}, {"fft_size", c.fft_size},
                 {"mel_bands", c.mel_bands},           {"mel_low_hz", c.mel_low_hz},
                 {"mel_high_hz", c.mel_high_hz},       {"cepstra", c.cepstra},
                 {"shape_points", c.shape_points},     {"shape_weight", c.shape_weight},
                 {"pitch_floor_hz", c.pitch_floor_hz}, {"pitch_ceiling_hz", c.pitch_ceiling_hz},
                 {"envelope_codes", c.envelope_codes}, {"pitch_levels", c.pitch_levels},
                 {"energy_levels", c.energy_levels}};
  j["envelope_centroids"] = envelope_centroids;
  j["pitch_log_hz"] = pitch_values;
  j["energy_log_rms"] = energy_values;
  j["trained_frames"] = trained_frames;
  j["trained_files"] = trained_files;
  io::write_json_atomic(path, j);
}

EmbeddedCodecModel EmbeddedCodecModel::load(const std::string& path) {
  return with_context("codec model " + path, [&] {
    const io::Json j = io::read_json(path);
    if (!j.is_object() || j.value("format", std::string()) != kFormat)
      throw InputError(fmt::format("not an embedded codec model (field 'format' is not \"{}\")", kFormat));
    const int version = j.value("version", -1);
    if (version != kVersion)
      throw InputError(
          fmt::format("codec model version {} but this symp reads version {}; refit it with "
                      "`symp tokenize fit`",
                      version, kVersion));
    EmbeddedCodecModel m;
    const io::Json& c = io::require_field(j, "config", path);
    auto& k = m.config;
    k.sample_rate = c.at("sample_rate").get<int>();
    k.hop = c.at("hop").get<int>();
    k.hops_per_token = c.at("hops_per_token").get<int>();
    k.fft_size = c.at("fft_size").get<int>();
    k.mel_bands = c.at("mel_bands").get<int>();
    k.mel_low_hz = c.at("mel_low_hz").get<double>();
    k.mel_high_hz = c.at("mel_high_hz").get<double>();
    k.cepstra = c.at("cepstra").get<int>();
    k.shape_points = c.at("shape_points").get<int>();
    k.shape_weight = c.at("shape_weight").get<double>();
    k.pitch_floor_hz = c.at("pitch_floor_hz").get<double>();
    k.pitch_ceiling_hz = c.at("pitch_ceiling_hz").get<double>();
    k.envelope_codes = c.at("envelope_codes").get<int>();
    k.pitch_levels = c.at("pitch_levels").get<int>();
    k.energy_levels = c.at("energy_levels").get<int>();
    k.validate();
    m.envelope_centroids = j.at("envelope_centroids").get<std::vector<std::vector<float>>>();
    m.pitch_values = j.at("pitch_log_hz").get<std::vector<double>>();
    m.energy_values = j.at("energy_log_rms").get<std::vector<double>>();
    m.trained_frames = j.value("trained_frames", int64_t{0});
    m.trained_files = j.value("trained_files", int64_t{0});
    if (static_cast<int>(m.envelope_centroids.size()) != k.envelope_codes)
      throw InputError("field 'envelope_centroids' does not have envelope_codes rows");
    for (const auto& row : m.envelope_centroids)
      if (static_cast<int>(row.size()) != k.cepstra + k.shape_points)
        throw InputError("field 'envelope_centroids' has a row without cepstra + shape_points values");
    if (static_cast<int>(m.pitch_values.size()) != k.pitch_levels - 1)
      throw InputError("field 'pitch_log_hz' does not have pitch_levels - 1 values");
    if (static_cast<int>(m.energy_values.size()) != k.energy_levels)
      throw InputError("field 'energy_log_rms' does not have energy_levels values");
    return m;
  });
}

EmbeddedCodecModel fit_embedded_codec(const std::vector<std::string>& audio_files,
                                      const EmbeddedCodecFitOptions& options) {
  options.validate();
  if (audio_files.empty()) throw InputError("embedded codec: no audio files to fit on");
  const auto& config = options.config;
  Rng rng(options.seed);
  std::vector<std::string> files = audio_files;
  if (static_cast<int>(files.size()) > options.max_files) {
    for (size_t i = 0; i < static_cast<size_t>(options.max_files); ++i)  // partial Fisher-Yates
      std::swap(files[i], files[i + rng.below(files.size() - i)]);
    files.resize(static_cast<size_t>(options.max_files));
  }

  std::vector<TokenFrames> analysed(files.size());
  Progress bar("codec fit", static_cast<int64_t>(files.size()), "file");
  with_context("embedded codec fit", [&] {
    parallel_for(files.size(), options.threads, [&](size_t i) {
      const io::Audio audio = io::read_audio(files[i], config.sample_rate);
      analysed[i] = analyse_token_frames(audio.samples, config);
      bar.advance();
    });
  });
  bar.finish();

  std::vector<std::vector<float>> speech_cepstra;
  std::vector<double> log_f0, log_rms;
  int64_t frames = 0;
  for (const auto& a : analysed) {
    if (a.log_rms.empty()) continue;
    // Envelope codes are trained on frames within 40 dB of the file's loudest: silence has no shape.
    const double loudest = *std::max_element(a.log_rms.begin(), a.log_rms.end());
    for (size_t t = 0; t < a.log_rms.size(); ++t) {
      ++frames;
      log_rms.push_back(a.log_rms[t]);
      if (!std::isnan(a.log_f0[t])) log_f0.push_back(a.log_f0[t]);
      if (a.log_rms[t] > loudest - std::log(100.0)) speech_cepstra.push_back(a.cepstra[t]);
    }
  }
  if (log_f0.empty()) throw InputError("embedded codec fit: no voiced frames found in the audio");

  EmbeddedCodecModel model;
  model.config = config;
  model.envelope_centroids = kmeans(speech_cepstra, config.envelope_codes, options.kmeans_iterations, rng);
  model.pitch_values = lloyd_levels(log_f0, config.pitch_levels - 1);
  model.energy_values = lloyd_levels(log_rms, config.energy_levels);
  model.trained_frames = frames;
  model.trained_files = static_cast<int64_t>(files.size());
  log_info("tokenize", "codec fitted on {} files, {} token frames ({} voiced); F0 levels {:.0f}..{:.0f} Hz",
           files.size(), frames, log_f0.size(), std::exp(model.pitch_values.front()),
           std::exp(model.pitch_values.back()));
  return model;
}

EmbeddedCodec::EmbeddedCodec(EmbeddedCodecModel model) : model_(std::move(model)) {
  model_.config.validate();
}

std::unique_ptr<EmbeddedCodec> EmbeddedCodec::load(const std::string& path) {
  fs::path file = path;
  if (fs::is_directory(file)) file /= kEmbeddedCodecFile;
  return std::make_unique<EmbeddedCodec>(EmbeddedCodecModel::load(file.string()));
}

std::string EmbeddedCodec::describe() const {
  const auto& c = model_.config;
  return fmt::format("embedded source-filter codec ({} codes = {} envelopes x {} pitch x {} energy, {} Hz)",
                     c.vocab_size(), c.envelope_codes, c.pitch_levels, c.energy_levels, c.sample_rate);
}

std::vector<int64_t> EmbeddedCodec::quantise(const TokenFrames& frames) const {
  const auto& c = model_.config;
  std::vector<int64_t> ids(frames.log_rms.size());
  for (size_t t = 0; t < ids.size(); ++t) {
    const int env = nearest_centroid(model_.envelope_centroids, frames.cepstra[t]);
    const int pitch =
        std::isnan(frames.log_f0[t]) ? 0 : 1 + nearest_level(model_.pitch_values, frames.log_f0[t]);
    const int energy = nearest_level(model_.energy_values, frames.log_rms[t]);
    ids[t] = (int64_t(env) * c.pitch_levels + pitch) * c.energy_levels + energy;
  }
  return ids;
}

std::vector<int64_t> EmbeddedCodec::encode(const std::vector<float>& wav) {
  for (size_t i = 0; i < wav.size(); ++i)
    if (!std::isfinite(wav[i])) throw InputError(fmt::format("embedded codec: sample {} is not finite", i));
  return quantise(analyse_token_frames(wav, model_.config));
}

namespace {
std::unique_ptr<SpeechCodec> open_embedded(const CodecLocation& location) {
  const std::string& dir = location.encoder_dir.empty() ? location.decoder_dir : location.encoder_dir;
  return EmbeddedCodec::load(dir);
}
[[maybe_unused]] const bool embedded_registered = register_codec("embedded", open_embedded);
}  // namespace

}  // namespace symp::codec
