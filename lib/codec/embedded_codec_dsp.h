#pragma once
// Private DSP helpers of the embedded codec (not a public header): an FFTW real transform, windows and
// the mel filter bank with its cepstral transform.
#include "symp/codec/embedded_codec.h"

#include <complex>
#include <vector>

namespace symp::codec::dsp {

// Added to mean squared amplitude before taking logs: -100 dB full scale, below 16-bit quantisation.
constexpr double kEnergyFloor = 1e-10;
// Range of a part's log RMS relative to its token's (nats): -3.5 = 30 dB below, +1.4 = all energy in a
// quarter of the token (log 4 / 2 = 0.69, with room).
constexpr double kShapeMin = -3.5;
constexpr double kShapeMax = 1.4;

// A real FFT of fixed size with its own buffers; plans are created under a global lock (FFTW's planner
// is not thread-safe), execution is. One object per thread.
class RealFft {
 public:
  explicit RealFft(int size);
  ~RealFft();
  RealFft(const RealFft&) = delete;
  RealFft& operator=(const RealFft&) = delete;
  int size() const { return size_; }
  double* time() { return time_; }                // [size]
  std::complex<double>* freq() { return freq_; }  // [size / 2 + 1]
  void forward();                                 // time -> freq
  void inverse();                                 // freq -> time, scaled by 1/size
  // time -> its circular autocorrelation (unnormalised), in time().
  void autocorrelate();

 private:
  int size_;
  double* time_;
  std::complex<double>* freq_;
  void* forward_plan_;
  void* inverse_plan_;
};

// Hann window; periodic = true gives the variant whose shifted copies at half its length sum to 1.
std::vector<double> hann_window(int length, bool periodic);

// Triangular mel filters over the bins of config.fft_size, and the map back from bands to bins.
class MelBank {
 public:
  explicit MelBank(const EmbeddedCodecConfig& config);
  // log(band energy + floor) of a power spectrum [fft_size/2+1].
  void log_energies(const std::vector<double>& power, std::vector<double>& out) const;
  // Per-bin log power interpolated from band log energies (flat beyond the outer band centres).
  void bins_from_bands(const std::vector<double>& log_bands, std::vector<double>& log_bins) const;

 private:
  int bands_, bins_;
  std::vector<std::vector<std::pair<int, double>>> filters_;  // per band: (bin, weight)
  std::vector<int> bin_band_;     // per bin: index of the band centre below it (-1 before the first)
  std::vector<double> bin_frac_;  // per bin: position between that centre and the next
};

// Orthonormal DCT-II of log band energies; returns c1..c_count (c0 dropped: it is the gain).
std::vector<float> mel_to_cepstra(const std::vector<double>& log_bands, int count);
// Inverse of mel_to_cepstra with c0 = 0: log band energies of the spectral shape.
std::vector<double> cepstra_to_mel(const std::vector<float>& cepstra, int bands);

}  // namespace symp::codec::dsp
