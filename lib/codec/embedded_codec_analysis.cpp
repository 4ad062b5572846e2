// Analysis side of the embedded codec: the autocorrelation pitch tracker and the per-token features
// (mel-cepstral envelope, mean log-F0, log RMS). FFTs through FFTW.
#include "embedded_codec_dsp.h"
#include "symp/codec/embedded_codec.h"
#include "symp/core/error.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace symp::codec {

namespace {

// Praat's "To Pitch (ac)" constants (Boersma 1993), used as published defaults of the method.
constexpr double kVoicingThreshold = 0.45;
constexpr double kSilenceThreshold = 0.03;
constexpr double kOctaveCost = 0.01;
constexpr double kOctaveJumpCost = 0.35;
constexpr double kVoicedUnvoicedCost = 0.14;
constexpr int kMaxCandidates = 4;  // voiced candidates kept per frame (plus the unvoiced one)

struct Candidate {
  double f0 = 0.0;  // Hz; 0 = unvoiced
  double strength = 0.0;
};

}  // namespace

std::vector<double> track_pitch(const std::vector<float>& samples, const EmbeddedCodecConfig& config) {
  const int sr = config.sample_rate;
  const int hop = config.hop;
  const int64_t n = static_cast<int64_t>(samples.size());
  const int64_t hops = (n + hop - 1) / hop;
  std::vector<double> f0(static_cast<size_t>(hops), 0.0);
  if (hops == 0) return f0;

  // Window of three periods of the floor, so the longest lag still sees two full periods.
  const int window = static_cast<int>(std::lround(3.0 * sr / config.pitch_floor_hz));
  const int min_lag = std::max(2, static_cast<int>(std::floor(sr / config.pitch_ceiling_hz)));
  const int max_lag = std::min(window / 2, static_cast<int>(std::ceil(sr / config.pitch_floor_hz)));
  int fft_size = 1;
  while (fft_size < window + max_lag + 2) fft_size *= 2;

  const std::vector<double> hann = dsp::hann_window(window, false);
  dsp::RealFft fft(fft_size);
  // Autocorrelation of the window itself, to undo its taper (Boersma's r_x / r_w).
  std::vector<double> window_ac;
  {
    std::fill(fft.time(), fft.time() + fft_size, 0.0);
    std::copy(hann.begin(), hann.end(), fft.time());
    fft.autocorrelate();
    window_ac.assign(fft.time(), fft.time() + max_lag + 2);
    const double r0 = window_ac[0];
    for (double& v : window_ac) v /= r0;
  }

  double mean = 0.0;
  for (float s : samples) mean += s;
  mean /= std::max<int64_t>(n, 1);
  double global_peak = 0.0;
  for (float s : samples) global_peak = std::max(global_peak, std::abs(s - mean));

  std::vector<std::vector<Candidate>> frames(static_cast<size_t>(hops));
  std::vector<double> segment(static_cast<size_t>(window));
  std::vector<double> r(static_cast<size_t>(max_lag + 2));
  for (int64_t j = 0; j < hops; ++j) {
    const int64_t centre = j * hop + hop / 2;
    const int64_t start = centre - window / 2;
    double local_mean = 0.0;
    for (int i = 0; i < window; ++i) {
      const int64_t k = start + i;
      segment[i] = (k >= 0 && k < n) ? samples[k] : 0.0;
      local_mean += segment[i];
    }
    local_mean /= window;
    double local_peak = 0.0;
    for (int i = 0; i < window; ++i) {
      segment[i] -= local_mean;
      local_peak = std::max(local_peak, std::abs(segment[i]));
    }
    auto& cands = frames[j];
    const double ratio = global_peak > 0 ? local_peak / global_peak : 0.0;
    const double unvoiced_strength =
        kVoicingThreshold + std::max(0.0, 2.0 - ratio / (kSilenceThreshold / (1.0 + kVoicingThreshold)));
    cands.push_back({0.0, unvoiced_strength});
    if (local_peak <= 0.0) continue;

    std::fill(fft.time(), fft.time() + fft_size, 0.0);
    for (int i = 0; i < window; ++i) fft.time()[i] = segment[i] * hann[i];
    fft.autocorrelate();
    const double r0 = fft.time()[0];
    if (r0 <= 0.0) continue;
    for (int lag = 0; lag <= max_lag + 1; ++lag) r[lag] = fft.time()[lag] / r0 / window_ac[lag];

    std::vector<Candidate> voiced;
    for (int lag = min_lag; lag <= max_lag; ++lag) {
      if (!(r[lag] > r[lag - 1] && r[lag] >= r[lag + 1])) continue;
      if (r[lag] < 0.5 * kVoicingThreshold) continue;
      // Parabolic interpolation of the peak's lag and height.
      const double a = r[lag - 1], b = r[lag], c = r[lag + 1];
      const double denom = a - 2 * b + c;
      double shift = denom != 0.0 ? 0.5 * (a - c) / denom : 0.0;
      shift = std::clamp(shift, -0.5, 0.5);
      const double height = std::min(1.0, b - 0.25 * (a - c) * shift);
      const double lag_exact = lag + shift;
      const double f = sr / lag_exact;
      const double strength = height - kOctaveCost * std::log2(config.pitch_floor_hz / f);
      voiced.push_back({f, strength});
    }
    std::sort(voiced.begin(), voiced.end(),
              [](const Candidate& x, const Candidate& y) { return x.strength > y.strength; });
    if (voiced.size() > kMaxCandidates) voiced.resize(kMaxCandidates);
    cands.insert(cands.end(), voiced.begin(), voiced.end());
  }

  // Viterbi over candidates: maximise strengths minus transition costs.
  std::vector<std::vector<double>> score(static_cast<size_t>(hops));
  std::vector<std::vector<int>> back(static_cast<size_t>(hops));
  auto transition = [](const Candidate& a, const Candidate& b) {
    const bool va = a.f0 > 0, vb = b.f0 > 0;
    if (!va && !vb) return 0.0;
    if (va != vb) return kVoicedUnvoicedCost;
    return kOctaveJumpCost * std::abs(std::log2(a.f0 / b.f0));
  };
  score[0].resize(frames[0].size());
  back[0].assign(frames[0].size(), -1);
  for (size_t c = 0; c < frames[0].size(); ++c) score[0][c] = frames[0][c].strength;
  for (int64_t j = 1; j < hops; ++j) {
    const auto& prev = frames[j - 1];
    const auto& cur = frames[j];
    score[j].assign(cur.size(), -std::numeric_limits<double>::infinity());
    back[j].assign(cur.size(), 0);
    for (size_t c = 0; c < cur.size(); ++c) {
      for (size_t p = 0; p < prev.size(); ++p) {
        const double s = score[j - 1][p] - transition(prev[p], cur[c]) + cur[c].strength;
        if (s > score[j][c]) {
          score[j][c] = s;
          back[j][c] = static_cast<int>(p);
        }
      }
    }
  }
  int best = static_cast<int>(std::max_element(score[hops - 1].begin(), score[hops - 1].end()) -
                              score[hops - 1].begin());
  for (int64_t j = hops - 1; j >= 0; --j) {
    f0[j] = frames[j][best].f0;
    best = back[j][best];
  }
  // Voiced runs shorter than kMinVoicedHops are frication or bursts mistaken for periodicity (their
  // "F0" sits near the ceiling); no vowel is that short.
  constexpr int64_t kMinVoicedHops = 4;
  for (int64_t j = 0; j < hops;) {
    if (f0[j] <= 0) {
      ++j;
      continue;
    }
    int64_t end = j;
    while (end < hops && f0[end] > 0) ++end;
    if (end - j < kMinVoicedHops) std::fill(f0.begin() + j, f0.begin() + end, 0.0);
    j = end;
  }
  return f0;
}

TokenFrames analyse_token_frames(const std::vector<float>& samples, const EmbeddedCodecConfig& config) {
  const int hop = config.hop;
  const int per_token = config.hops_per_token;
  const int token_hop = config.token_hop();
  const int64_t n = static_cast<int64_t>(samples.size());
  const int64_t tokens = (n + token_hop - 1) / token_hop;
  TokenFrames out;
  out.cepstra.assign(static_cast<size_t>(tokens),
                     std::vector<float>(config.cepstra + config.shape_points, 0.0f));
  out.log_f0.assign(static_cast<size_t>(tokens), std::numeric_limits<double>::quiet_NaN());
  out.log_rms.assign(static_cast<size_t>(tokens), 0.0);
  if (tokens == 0) return out;

  const std::vector<double> f0 = track_pitch(samples, config);
  const dsp::MelBank mel(config);
  const int nfft = config.fft_size;
  const int bins = nfft / 2 + 1;
  const std::vector<double> hann = dsp::hann_window(nfft, false);
  dsp::RealFft fft(nfft);
  std::vector<double> power(static_cast<size_t>(bins));
  std::vector<double> log_mel(static_cast<size_t>(config.mel_bands));

  for (int64_t t = 0; t < tokens; ++t) {
    std::fill(power.begin(), power.end(), 0.0);
    double sum_log_f0 = 0.0;
    int voiced = 0;
    for (int h = 0; h < per_token; ++h) {
      const int64_t j = t * per_token + h;
      const int64_t centre = j * hop + hop / 2;
      const int64_t start = centre - nfft / 2;
      for (int i = 0; i < nfft; ++i) {
        const int64_t k = start + i;
        fft.time()[i] = (k >= 0 && k < n) ? samples[k] * hann[i] : 0.0;
      }
      fft.forward();
      for (int b = 0; b < bins; ++b) power[b] += std::norm(fft.freq()[b]);
      if (j < static_cast<int64_t>(f0.size()) && f0[j] > 0) {
        sum_log_f0 += std::log(f0[j]);
        ++voiced;
      }
    }
    mel.log_energies(power, log_mel);
    std::vector<float> features = dsp::mel_to_cepstra(log_mel, config.cepstra);
    if (2 * voiced >= per_token) out.log_f0[t] = sum_log_f0 / voiced;

    // Energy of the whole frame and of its shape_points equal parts; the partial last frame counts as
    // padded with silence, as decoding pads it.
    const int64_t begin = t * token_hop;
    const int part = token_hop / config.shape_points;
    std::vector<double> part_energy(static_cast<size_t>(config.shape_points), 0.0);
    double energy = 0.0;
    for (int i = 0; i < config.shape_points; ++i) {
      for (int64_t k = begin + i * part; k < std::min(n, begin + (i + 1) * part); ++k)
        part_energy[i] += double(samples[k]) * samples[k];
      energy += part_energy[i];
    }
    out.log_rms[t] = 0.5 * std::log(energy / token_hop + dsp::kEnergyFloor);
    for (int i = 0; i < config.shape_points; ++i) {
      const double rel = 0.5 * std::log(part_energy[i] / part + dsp::kEnergyFloor) - out.log_rms[t];
      features.push_back(
          static_cast<float>(config.shape_weight * std::clamp(rel, dsp::kShapeMin, dsp::kShapeMax)));
    }
    out.cepstra[t] = std::move(features);
  }
  return out;
}

}  // namespace symp::codec
