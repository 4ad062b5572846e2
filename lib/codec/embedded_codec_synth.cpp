// Decoder of the embedded codec: a source-filter synthesiser. Per 10 ms hop, a pulse train at the
// decoded F0 (voiced) or white noise (unvoiced) is windowed, shaped by the decoded spectral envelope in
// the frequency domain, scaled to the decoded energy and overlap-added. F0, energy and envelope are
// interpolated between token centres, so the contour is smooth while each token keeps its level.
#include "embedded_codec_dsp.h"
#include "symp/codec/embedded_codec.h"
#include "symp/core/error.h"
#include "symp/core/rng.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace symp::codec {

std::vector<float> EmbeddedCodec::decode(const std::vector<int64_t>& ids) {
  const auto& c = model_.config;
  const int64_t tokens = static_cast<int64_t>(ids.size());
  const int hop = c.hop;
  const int token_hop = c.token_hop();
  const int64_t n = tokens * token_hop;
  std::vector<float> out(static_cast<size_t>(n), 0.0f);
  if (tokens == 0) return out;

  // Per-token parameters.
  std::vector<std::vector<double>> log_mel(static_cast<size_t>(tokens));
  std::vector<double> log_f0(static_cast<size_t>(tokens), 0.0), log_rms(static_cast<size_t>(tokens));
  std::vector<bool> voiced(static_cast<size_t>(tokens), false);
  std::vector<double> point_log_rms;  // energy contour: shape_points per token, at the parts' centres
  for (int64_t t = 0; t < tokens; ++t) {
    const int64_t id = ids[t];
    if (id < 0 || id >= c.vocab_size())
      throw InputError(
          fmt::format("embedded codec: token {} has id {} outside [0, {})", t, id, c.vocab_size()));
    const int energy = static_cast<int>(id % c.energy_levels);
    const int pitch = static_cast<int>((id / c.energy_levels) % c.pitch_levels);
    const int env = static_cast<int>(id / (int64_t(c.energy_levels) * c.pitch_levels));
    const auto& centroid = model_.envelope_centroids[env];
    log_mel[t] =
        dsp::cepstra_to_mel(std::vector<float>(centroid.begin(), centroid.begin() + c.cepstra), c.mel_bands);
    log_rms[t] = model_.energy_values[energy];
    for (int i = 0; i < c.shape_points; ++i) {
      const double rel = c.shape_weight > 0 ? centroid[c.cepstra + i] / c.shape_weight : 0.0;
      point_log_rms.push_back(log_rms[t] + rel);
    }
    voiced[t] = pitch > 0;
    if (pitch > 0) log_f0[t] = model_.pitch_values[pitch - 1];
  }

  // Position of a hop between token centres: (left token, weight of the right one).
  auto between = [&](int64_t centre) {
    const double pos = (centre + 0.5) / token_hop - 0.5;  // in token units, 0 = centre of token 0
    const int64_t left = std::clamp<int64_t>(static_cast<int64_t>(std::floor(pos)), 0, tokens - 1);
    const int64_t right = std::min(left + 1, tokens - 1);
    const double w = right == left ? 0.0 : std::clamp(pos - left, 0.0, 1.0);
    return std::make_tuple(left, right, w);
  };

  const int64_t hops = n / hop;
  std::vector<double> hop_f0(static_cast<size_t>(hops), 0.0), hop_rms(static_cast<size_t>(hops));
  for (int64_t j = 0; j < hops; ++j) {
    const int64_t centre = j * hop + hop / 2;
    const auto [l, r, w] = between(centre);
    // Energy follows the contour points (part centres), linearly in log RMS.
    const int part = token_hop / c.shape_points;
    const int64_t points = static_cast<int64_t>(point_log_rms.size());
    const double ppos = (centre + 0.5) / part - 0.5;
    const int64_t pl = std::clamp<int64_t>(static_cast<int64_t>(std::floor(ppos)), 0, points - 1);
    const int64_t pr = std::min(pl + 1, points - 1);
    const double pw = pr == pl ? 0.0 : std::clamp(ppos - pl, 0.0, 1.0);
    hop_rms[j] = std::exp((1 - pw) * point_log_rms[pl] + pw * point_log_rms[pr]);
    const int64_t own = centre / token_hop;
    if (!voiced[own]) continue;
    // F0 glides towards a voiced neighbour and stays flat next to an unvoiced one.
    const double lf = voiced[l] ? log_f0[l] : log_f0[own];
    const double rf = voiced[r] ? log_f0[r] : log_f0[own];
    hop_f0[j] = std::exp((1 - w) * lf + w * rf);
  }

  // Excitation: unit-power pulse train where voiced, unit-variance noise where not. Each pulse sits at its
  // exact fractional time, as a Hann-windowed sinc (band-limited to Nyquist): a pulse snapped to the nearest
  // sample makes a train whose period is not a whole number of samples repeat exactly only every two
  // periods (244 Hz at 16 kHz: 65 and 66 samples in turn), which Praat's pitch analysis reads as the
  // octave below.
  constexpr int kPulseHalfWidth = 8;  // samples each side of the pulse's centre
  auto add_pulse = [&](std::vector<double>& x, double at, double amplitude) {
    const int64_t first = static_cast<int64_t>(std::floor(at)) - kPulseHalfWidth + 1;
    for (int64_t k = std::max<int64_t>(first, 0); k < std::min<int64_t>(first + 2 * kPulseHalfWidth, n);
         ++k) {
      const double d = static_cast<double>(k) - at;  // |d| < kPulseHalfWidth
      const double sinc = std::abs(d) < 1e-9 ? 1.0 : std::sin(M_PI * d) / (M_PI * d);
      const double window = 0.5 + 0.5 * std::cos(M_PI * d / kPulseHalfWidth);
      x[static_cast<size_t>(k)] += amplitude * sinc * window;
    }
  };
  Rng rng(0x5eed);  // fixed: decoding the same ids gives the same waveform
  std::vector<double> excitation(static_cast<size_t>(n), 0.0);
  double phase = 1.0;  // a pulse at the first voiced sample
  for (int64_t k = 0; k < n; ++k) {
    const double f0 = hop_f0[std::min(k / hop, hops - 1)];
    if (f0 > 0) {
      const double step = f0 / c.sample_rate;
      phase = phase >= 1.0 ? 1.0 : phase + step;  // phase is 1 only at a voicing onset: a pulse right at k
      if (phase >= 1.0) {
        phase -= std::floor(phase);
        // The phase crossed 1 a fraction phase / step of a sample before k.
        add_pulse(excitation, static_cast<double>(k) - phase / step, std::sqrt(1.0 / step));
      }
    } else {
      phase = 1.0;
      excitation[static_cast<size_t>(k)] += rng.normal();
    }
  }

  // Overlap-add: periodic Hann of two hops at hop spacing sums to one.
  const int window = 2 * hop;
  const int nfft = c.fft_size;
  const int bins = nfft / 2 + 1;
  const int offset = (nfft - window) / 2;  // room on both sides for the filter's spread
  const std::vector<double> hann = dsp::hann_window(window, true);
  const dsp::MelBank mel(c);
  dsp::RealFft fft(nfft);
  std::vector<double> band(static_cast<size_t>(c.mel_bands)), log_bins;
  std::vector<double> magnitude(static_cast<size_t>(bins));
  for (int64_t j = 0; j < hops; ++j) {
    const int64_t centre = j * hop + hop / 2;
    const auto [l, r, w] = between(centre);
    for (int m = 0; m < c.mel_bands; ++m) band[m] = (1 - w) * log_mel[l][m] + w * log_mel[r][m];
    mel.bins_from_bands(band, log_bins);
    double mean_power = 0.0;
    for (int b = 0; b < bins; ++b) {
      magnitude[b] = std::exp(0.5 * log_bins[b]);
      mean_power += magnitude[b] * magnitude[b];
    }
    mean_power /= bins;

    const int64_t start = centre - window / 2;
    std::fill(fft.time(), fft.time() + nfft, 0.0);
    for (int i = 0; i < window; ++i) {
      const int64_t k = start + i;
      if (k >= 0 && k < n) fft.time()[offset + i] = excitation[k] * hann[i];
    }
    fft.forward();
    for (int b = 0; b < bins; ++b) fft.freq()[b] *= magnitude[b];
    fft.inverse();
    // Unit-power excitation through the envelope has power mean|H|^2: scale that to the target RMS.
    const double gain = hop_rms[j] / std::sqrt(mean_power);
    for (int i = 0; i < nfft; ++i) {
      const int64_t k = start - offset + i;
      if (k >= 0 && k < n) out[k] += static_cast<float>(gain * fft.time()[i]);
    }
  }
  for (float& s : out) s = std::clamp(s, -1.0f, 1.0f);
  return out;
}

}  // namespace symp::codec
