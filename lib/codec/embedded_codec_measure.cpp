// Quick prosody measures for the embedded codec's round-trip checks (see ProsodyFigures).
#include "symp/codec/embedded_codec.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace symp::codec {

namespace {

std::vector<double> ranks(const std::vector<double>& v) {
  std::vector<size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double avg = 0.5 * (i + j) + 1.0;
    for (size_t k = i; k <= j; ++k) r[order[k]] = avg;
    i = j + 1;
  }
  return r;
}

}  // namespace

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  const size_t n = std::min(x.size(), y.size());
  if (n < 3) return std::numeric_limits<double>::quiet_NaN();
  const std::vector<double> rx = ranks(std::vector<double>(x.begin(), x.begin() + n));
  const std::vector<double> ry = ranks(std::vector<double>(y.begin(), y.begin() + n));
  const double mx = std::accumulate(rx.begin(), rx.end(), 0.0) / n;
  const double my = std::accumulate(ry.begin(), ry.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (size_t i = 0; i < n; ++i) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) * (rx[i] - mx);
    syy += (ry[i] - my) * (ry[i] - my);
  }
  if (sxx == 0 || syy == 0) return std::numeric_limits<double>::quiet_NaN();
  return sxy / std::sqrt(sxx * syy);
}

ProsodyFigures measure_prosody(const std::vector<float>& samples, const EmbeddedCodecConfig& config) {
  ProsodyFigures out;
  const int64_t n = static_cast<int64_t>(samples.size());
  out.duration = double(n) / config.sample_rate;
  if (n == 0) {
    out.f0_mean = std::numeric_limits<double>::quiet_NaN();
    return out;
  }
  const std::vector<double> f0 = track_pitch(samples, config);
  double f0_sum = 0.0;
  int voiced = 0;
  for (double f : f0)
    if (f > 0) {
      f0_sum += f;
      ++voiced;
    }
  out.f0_mean = voiced > 0 ? f0_sum / voiced : std::numeric_limits<double>::quiet_NaN();

  // RMS over 2048-sample frames at hop 512, centred with zero padding (librosa's rms defaults).
  constexpr int kFrame = 2048, kHop = 512;
  double rms_sum = 0.0;
  int64_t frames = 0;
  for (int64_t centre = 0; centre <= n; centre += kHop, ++frames) {
    double e = 0.0;
    for (int64_t k = std::max<int64_t>(0, centre - kFrame / 2); k < std::min(n, centre + kFrame / 2); ++k)
      e += double(samples[k]) * samples[k];
    rms_sum += std::sqrt(e / kFrame);
  }
  out.energy_mean = rms_sum / std::max<int64_t>(frames, 1);

  // Intensity in dB over 64 ms Hann windows at the codec's hop (Praat's intensity for a 50 Hz floor).
  const int hop = config.hop;
  const int window = static_cast<int>(0.064 * config.sample_rate);
  const int64_t hops = static_cast<int64_t>(f0.size());
  std::vector<double> intensity(static_cast<size_t>(hops));
  for (int64_t j = 0; j < hops; ++j) {
    const int64_t centre = j * hop + hop / 2;
    double e = 0.0, wsum = 0.0;
    for (int i = 0; i < window; ++i) {
      const int64_t k = centre - window / 2 + i;
      const double w = 0.5 - 0.5 * std::cos(2.0 * M_PI * (i + 0.5) / window);
      if (k >= 0 && k < n) e += w * double(samples[k]) * samples[k];
      wsum += w;
    }
    intensity[j] = 10.0 * std::log10(e / wsum + 1e-10);
  }
  std::vector<double> sorted = intensity;
  std::sort(sorted.begin(), sorted.end());
  const double threshold = sorted[static_cast<size_t>(0.99 * (sorted.size() - 1))] - 25.0;
  int nuclei = 0;
  double dip = std::numeric_limits<double>::infinity();  // lowest intensity since the last counted peak
  for (int64_t j = 0; j < hops; ++j) {
    dip = std::min(dip, intensity[j]);
    const bool peak =
        j > 0 && j + 1 < hops && intensity[j] > intensity[j - 1] && intensity[j] >= intensity[j + 1];
    if (!peak || intensity[j] < threshold || f0[j] <= 0) continue;
    if (intensity[j] - dip >= 2.0) {
      ++nuclei;
      dip = intensity[j];
    }
  }
  out.rate = out.duration > 0 ? nuclei / out.duration : 0.0;
  return out;
}

}  // namespace symp::codec
