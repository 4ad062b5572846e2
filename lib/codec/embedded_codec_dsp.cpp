// DSP helpers of the embedded codec: FFTW wrapper, windows, mel filter bank and mel-cepstra.
#include "embedded_codec_dsp.h"

#include "symp/core/error.h"

#include <fftw3.h>

#include <algorithm>
#include <cmath>
#include <mutex>

#include "symp/core/fftw_lock.h"

namespace symp::codec::dsp {

namespace {
double hz_to_mel(double hz) {
  return 2595.0 * std::log10(1.0 + hz / 700.0);
}
double mel_to_hz(double mel) {
  return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
}
constexpr double kPi = 3.14159265358979323846;
}  // namespace

RealFft::RealFft(int size) : size_(size) {
  time_ = static_cast<double*>(fftw_malloc(sizeof(double) * size));
  freq_ = reinterpret_cast<std::complex<double>*>(fftw_malloc(sizeof(fftw_complex) * (size / 2 + 1)));
  if (!time_ || !freq_) throw RuntimeError("FFT: cannot allocate buffers of size " + std::to_string(size));
  std::lock_guard<std::mutex> lock(fftw_planner_mutex());
  forward_plan_ = fftw_plan_dft_r2c_1d(size, time_, reinterpret_cast<fftw_complex*>(freq_), FFTW_ESTIMATE);
  inverse_plan_ = fftw_plan_dft_c2r_1d(size, reinterpret_cast<fftw_complex*>(freq_), time_, FFTW_ESTIMATE);
}

RealFft::~RealFft() {
  {
    std::lock_guard<std::mutex> lock(fftw_planner_mutex());
    fftw_destroy_plan(static_cast<fftw_plan>(forward_plan_));
    fftw_destroy_plan(static_cast<fftw_plan>(inverse_plan_));
  }
  fftw_free(time_);
  fftw_free(freq_);
}

void RealFft::forward() {
  fftw_execute(static_cast<fftw_plan>(forward_plan_));
}

void RealFft::inverse() {
  fftw_execute(static_cast<fftw_plan>(inverse_plan_));  // c2r overwrites freq_: callers refill it
  const double scale = 1.0 / size_;
  for (int i = 0; i < size_; ++i) time_[i] *= scale;
}

void RealFft::autocorrelate() {
  forward();
  for (int b = 0; b <= size_ / 2; ++b) freq_[b] = std::norm(freq_[b]);
  inverse();
}

std::vector<double> hann_window(int length, bool periodic) {
  // The non-periodic variant is shifted by half a sample, so neither end is wasted on a zero.
  const double offset = periodic ? 0.0 : 0.5;
  std::vector<double> w(static_cast<size_t>(length));
  for (int i = 0; i < length; ++i) w[i] = 0.5 - 0.5 * std::cos(2.0 * kPi * (i + offset) / length);
  return w;
}

MelBank::MelBank(const EmbeddedCodecConfig& config)
    : bands_(config.mel_bands), bins_(config.fft_size / 2 + 1) {
  const double lo = hz_to_mel(config.mel_low_hz), hi = hz_to_mel(config.mel_high_hz);
  std::vector<double> edges(static_cast<size_t>(bands_ + 2));  // in bins (fractional)
  const double bin_hz = double(config.sample_rate) / config.fft_size;
  for (int i = 0; i < bands_ + 2; ++i) edges[i] = mel_to_hz(lo + (hi - lo) * i / (bands_ + 1)) / bin_hz;
  filters_.resize(static_cast<size_t>(bands_));
  for (int m = 0; m < bands_; ++m) {
    const double l = edges[m], c = edges[m + 1], r = edges[m + 2];
    for (int b = static_cast<int>(std::floor(l)); b <= static_cast<int>(std::ceil(r)); ++b) {
      if (b < 0 || b >= bins_) continue;
      double w = 0.0;
      if (b > l && b <= c)
        w = (b - l) / (c - l);
      else if (b > c && b < r)
        w = (r - b) / (r - c);
      if (w > 0) filters_[m].push_back({b, w});
    }
    if (filters_[m].empty()) {  // a band narrower than a bin: take the nearest bin
      filters_[m].push_back({std::clamp(static_cast<int>(std::lround(c)), 0, bins_ - 1), 1.0});
    }
  }
  bin_band_.assign(static_cast<size_t>(bins_), -1);
  bin_frac_.assign(static_cast<size_t>(bins_), 0.0);
  for (int b = 0; b < bins_; ++b) {
    int m = -1;
    while (m + 1 < bands_ && edges[m + 2] <= b) ++m;
    bin_band_[b] = m;
    if (m >= 0 && m + 1 < bands_) bin_frac_[b] = (b - edges[m + 1]) / (edges[m + 2] - edges[m + 1]);
  }
}

void MelBank::log_energies(const std::vector<double>& power, std::vector<double>& out) const {
  out.resize(static_cast<size_t>(bands_));
  for (int m = 0; m < bands_; ++m) {
    double e = 0.0;
    for (const auto& [b, w] : filters_[m]) e += w * power[b];
    out[m] = std::log(e + kEnergyFloor);
  }
}

void MelBank::bins_from_bands(const std::vector<double>& log_bands, std::vector<double>& log_bins) const {
  log_bins.resize(static_cast<size_t>(bins_));
  for (int b = 0; b < bins_; ++b) {
    const int m = bin_band_[b];
    if (m < 0)
      log_bins[b] = log_bands[0];
    else if (m + 1 >= bands_)
      log_bins[b] = log_bands[bands_ - 1];
    else
      log_bins[b] = log_bands[m] + bin_frac_[b] * (log_bands[m + 1] - log_bands[m]);
  }
}

std::vector<float> mel_to_cepstra(const std::vector<double>& log_bands, int count) {
  const int n = static_cast<int>(log_bands.size());
  std::vector<float> c(static_cast<size_t>(count));
  for (int k = 1; k <= count; ++k) {
    double s = 0.0;
    for (int i = 0; i < n; ++i) s += log_bands[i] * std::cos(kPi * k * (i + 0.5) / n);
    c[k - 1] = static_cast<float>(s * std::sqrt(2.0 / n));
  }
  return c;
}

std::vector<double> cepstra_to_mel(const std::vector<float>& cepstra, int bands) {
  std::vector<double> out(static_cast<size_t>(bands), 0.0);
  for (int i = 0; i < bands; ++i) {
    double s = 0.0;
    for (size_t k = 1; k <= cepstra.size(); ++k) s += cepstra[k - 1] * std::cos(kPi * k * (i + 0.5) / bands);
    out[i] = s * std::sqrt(2.0 / bands);
  }
  return out;
}

}  // namespace symp::codec::dsp
