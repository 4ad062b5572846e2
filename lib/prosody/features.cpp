#include "symp/prosody/features.h"

#include "fft.h"
#include "symp/core/error.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <complex>
#include <limits>

namespace symp::prosody {
namespace {
constexpr double kPi = 3.14159265358979323846;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Number of centred frames librosa makes: the signal padded by frame/2 on each side.
// Modified Bessel function I0 by its power series sum ((x/2)^k / k!)^2 (x <= 20 here: under 60 terms).
double bessel_i0(double x) {
  const double q = 0.25 * x * x;
  double term = 1.0, sum = 1.0;
  for (int k = 1; k < 500 && term > 1e-17 * sum; ++k) {
    term *= q / (double(k) * k);
    sum += term;
  }
  return sum;
}

size_t centred_frames(size_t n, int frame, int hop) {
  const size_t padded = n + 2 * static_cast<size_t>(frame / 2);
  return padded < static_cast<size_t>(frame) ? 0 : 1 + (padded - frame) / hop;
}
}  // namespace

void NucleiOptions::validate() const {
  if (!(min_pitch > 0.0))
    throw UsageError(fmt::format("nuclei option 'min_pitch' = {}: must be > 0 Hz", min_pitch));
  if (!(silence_db < 0.0))
    throw UsageError(fmt::format("nuclei option 'silence_db' = {}: must be < 0 dB", silence_db));
  if (!(min_dip_db >= 0.0))
    throw UsageError(fmt::format("nuclei option 'min_dip_db' = {}: must be >= 0 dB", min_dip_db));
}

RateMode parse_rate_mode(const std::string& name) {
  if (name == "auto") return RateMode::Auto;
  if (name == "nuclei") return RateMode::Nuclei;
  if (name == "words") return RateMode::Words;
  throw UsageError(fmt::format("rate mode '{}': expected auto, nuclei or words", name));
}

const char* rate_mode_name(RateMode mode) {
  switch (mode) {
    case RateMode::Auto:
      return "auto";
    case RateMode::Nuclei:
      return "nuclei";
    case RateMode::Words:
      return "words";
  }
  return "?";
}

void FeatureOptions::validate() const {
  pitch.validate();
  nuclei.validate();
  if (frame < 16) throw UsageError(fmt::format("option 'frame' = {}: must be >= 16 samples", frame));
  if (hop < 1 || hop > frame) throw UsageError(fmt::format("option 'hop' = {}: must be in [1, frame]", hop));
  if (!(centroid_floor_db > 0.0))
    throw UsageError(fmt::format("option 'centroid_floor_db' = {}: must be > 0 dB", centroid_floor_db));
  if (!(min_duration >= 0.0))
    throw UsageError(fmt::format("option 'min_duration' = {}: must be >= 0 s", min_duration));
  if (!(clip_fraction >= 0.0 && clip_fraction <= 1.0))
    throw UsageError(fmt::format("option 'clip_fraction' = {}: must be in [0, 1]", clip_fraction));
}

std::vector<double> rms_frames(const std::vector<float>& samples, int frame, int hop) {
  const long n = static_cast<long>(samples.size());
  const size_t count = centred_frames(samples.size(), frame, hop);
  std::vector<double> out(count);
  for (size_t t = 0; t < count; ++t) {
    const long start = static_cast<long>(t) * hop - frame / 2;
    double ss = 0.0;
    for (long k = std::max(0L, start); k < std::min(n, start + frame); ++k)
      ss += double(samples[k]) * samples[k];
    out[t] = std::sqrt(ss / frame);
  }
  return out;
}

std::vector<double> centroid_frames(const std::vector<float>& samples, int sample_rate, int frame, int hop) {
  const long n = static_cast<long>(samples.size());
  const size_t count = centred_frames(samples.size(), frame, hop);
  std::vector<double> window(static_cast<size_t>(frame));
  for (int j = 0; j < frame; ++j) window[j] = 0.5 - 0.5 * std::cos(2.0 * kPi * j / frame);  // periodic Hann
  detail::RealFft& fft = detail::thread_fft(frame);
  std::vector<double> out(count);
  const double bin_hz = static_cast<double>(sample_rate) / frame;
  for (size_t t = 0; t < count; ++t) {
    const long start = static_cast<long>(t) * hop - frame / 2;
    double* in = fft.real();
    for (int j = 0; j < frame; ++j) {
      const long k = start + j;
      in[j] = (k >= 0 && k < n) ? samples[k] * window[j] : 0.0;
    }
    fft.forward();
    double weighted = 0.0, total = 0.0;
    for (int k = 0; k <= frame / 2; ++k) {
      const std::complex<double> z = fft.spectrum()[k];
      const double mag = std::sqrt(z.real() * z.real() + z.imag() * z.imag());  // std::abs calls slow hypot
      weighted += k * bin_hz * mag;
      total += mag;
    }
    out[t] = total > 0.0 ? weighted / total : kNaN;
  }
  return out;
}

void intensity_contour(const std::vector<float>& samples, int sample_rate, double min_pitch,
                       std::vector<double>* times, std::vector<double>* db) {
  times->clear();
  db->clear();
  const double dx = 1.0 / sample_rate;
  const double window_s = 6.4 / min_pitch, step = 0.8 / min_pitch;     // Praat's To Intensity proportions
  const long nwin = static_cast<long>(std::floor(window_s / dx)) | 1;  // odd, so it has a centre sample
  const long n = static_cast<long>(samples.size());
  const double duration = n * dx;
  if (duration < window_s) return;
  const long nframes = static_cast<long>(std::floor((duration - window_s) / step)) + 1;
  const double t1 = 0.5 * duration - 0.5 * (nframes - 1) * step;
  // Kaiser window, beta 20 (side lobes far below speech dynamics), over the whole physical window.
  const double beta = 20.0, norm = bessel_i0(beta);
  std::vector<double> w(static_cast<size_t>(nwin));
  double wsum = 0.0;
  for (long j = 0; j < nwin; ++j) {
    const double u = 2.0 * j / (nwin - 1) - 1.0;
    w[j] = bessel_i0(beta * std::sqrt(std::max(0.0, 1.0 - u * u))) / norm;
    wsum += w[j];
  }
  const double ref = 4e-10;  // (2e-5)^2: 0 dB at the threshold of hearing, as Praat
  for (long i = 0; i < nframes; ++i) {
    const double t = t1 + i * step;
    const long start = static_cast<long>(std::floor(t / dx)) - nwin / 2;
    // Weighted mean and mean square in one pass; the window's mean is subtracted (variance).
    double m1 = 0.0, m2 = 0.0;
    if (start >= 0 && start + nwin <= n) {
      const float* x = samples.data() + start;
      for (long j = 0; j < nwin; ++j) m1 += w[j] * x[j], m2 += w[j] * double(x[j]) * x[j];
    } else {
      for (long j = 0; j < nwin; ++j) {
        const double v = samples[std::clamp(start + j, 0L, n - 1)];
        m1 += w[j] * v, m2 += w[j] * v * v;
      }
    }
    m1 /= wsum;
    const double power = std::max(0.0, m2 / wsum - m1 * m1);
    times->push_back(t);
    db->push_back(10.0 * std::log10(std::max(power, 1e-30) / ref));
  }
}

std::vector<double> syllable_nuclei(const std::vector<float>& samples, int sample_rate,
                                    const NucleiOptions& o, const PitchTrack& pitch) {
  std::vector<double> times, db;
  intensity_contour(samples, sample_rate, o.min_pitch, &times, &db);
  std::vector<double> nuclei;
  const size_t n = db.size();
  if (n < 3) return nuclei;
  std::vector<double> sorted = db;
  std::sort(sorted.begin(), sorted.end());
  // Threshold relative to the 99th percentile, so a single loud click does not set it.
  const double threshold = std::max(praat_quantile(sorted, 0.99) + o.silence_db, sorted.front());
  std::vector<size_t> peaks;
  for (size_t j = 1; j + 1 < n; ++j)
    if (db[j] > db[j - 1] && db[j] >= db[j + 1] && db[j] > threshold) peaks.push_back(j);
  auto voiced_at = [&](double t) {
    if (pitch.f0.empty() || pitch.dt <= 0.0) return false;
    const long i = std::lround((t - pitch.t1) / pitch.dt);
    return i >= 0 && i < static_cast<long>(pitch.f0.size()) && pitch.f0[i] > 0.0;
  };
  for (size_t p = 0; p < peaks.size(); ++p) {
    // The dip before the next peak (or, for the last peak, before the end of the sound).
    const size_t stop = p + 1 < peaks.size() ? peaks[p + 1] : n;
    double dip = db[peaks[p]];
    for (size_t j = peaks[p] + 1; j < stop; ++j) dip = std::min(dip, db[j]);
    if (db[peaks[p]] - dip > o.min_dip_db && voiced_at(times[peaks[p]])) nuclei.push_back(times[peaks[p]]);
  }
  return nuclei;
}

namespace {
template <class Fn>
void for_each_word(const std::string& text, Fn fn) {
  std::string word;
  auto flush = [&]() {
    if (!word.empty()) fn(word);
    word.clear();
  };
  for (char ch : text) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if (std::isalpha(c) || c == '\'' || std::isdigit(c) || c >= 0x80) {
      word += static_cast<char>(std::tolower(c));
    } else {
      flush();
    }
  }
  flush();
}
}  // namespace

size_t count_words(const std::string& text) {
  size_t n = 0;
  for_each_word(text, [&](const std::string&) { ++n; });
  return n;
}

size_t count_syllables(const std::string& text) {
  size_t total = 0;
  for_each_word(text, [&](const std::string& word) {
    size_t digits = 0, groups = 0;
    bool in_vowel = false;
    for (char c : word) {
      if (std::isdigit(static_cast<unsigned char>(c))) ++digits;
      const bool vowel = std::string("aeiouy").find(c) != std::string::npos;
      if (vowel && !in_vowel) ++groups;
      in_vowel = vowel;
    }
    const size_t len = word.size();
    if (groups > 1 && len > 2 && word[len - 1] == 'e' && word[len - 2] != 'l') --groups;  // silent final e
    total += digits + std::max<size_t>(groups, digits ? 0 : 1);
  });
  return total;
}

Features compute_features(const io::Audio& audio, const FeatureOptions& o, const std::string& transcript) {
  o.validate();
  const auto& x = audio.samples;
  if (x.empty() || audio.sample_rate <= 0) throw InputError("empty audio");
  Features f;
  f.duration = audio.duration();
  if (f.duration < o.min_duration)
    throw InputError(fmt::format("too short: {:.3f} s (min_duration {} s)", f.duration, o.min_duration));
  double peak = 0.0;
  size_t clipped = 0;
  for (float s : x) {
    peak = std::max(peak, double(std::fabs(s)));
    if (std::fabs(s) >= 0.999f) ++clipped;
  }
  if (peak == 0.0) throw InputError("silent: every sample is zero");
  if (double(clipped) > o.clip_fraction * x.size())
    f.warning = fmt::format("clipped: {:.2f} % of samples at full scale", 100.0 * clipped / x.size());

  const PitchTrack track = track_pitch(x, audio.sample_rate, o.pitch);
  const F0Stats s = f0_stats(track);
  if (s.voiced == 0) throw InputError("no voiced frame: F0 undefined (silence, noise or whisper)");
  f.f0_mean = s.mean, f.f0_std = s.std, f.f0_range = s.range;
  f.voiced_frames = s.voiced, f.frames = track.f0.size();

  const std::vector<double> rms = rms_frames(x, o.frame, o.hop);
  double sum = 0.0, loudest = 0.0;
  for (double r : rms) sum += r, loudest = std::max(loudest, r);
  f.energy_mean = sum / rms.size();
  double ss = 0.0;
  for (double r : rms) ss += (r - f.energy_mean) * (r - f.energy_mean);
  f.energy_std = std::sqrt(ss / rms.size());  // population std, as numpy's default used with librosa

  const std::vector<double> cent = centroid_frames(x, audio.sample_rate, o.frame, o.hop);
  const double floor_rms = loudest * std::pow(10.0, -o.centroid_floor_db / 20.0);
  double csum = 0.0;
  size_t cn = 0;
  for (size_t t = 0; t < cent.size(); ++t)
    if (rms[t] >= floor_rms && !std::isnan(cent[t])) csum += cent[t], ++cn;
  f.centroid = cn ? csum / cn : kNaN;

  if (o.rate == RateMode::Words) {
    if (transcript.empty()) throw InputError("rate mode 'words' needs a transcript (response_text)");
    f.syllables = static_cast<double>(count_words(transcript));
    f.rate_source = "words";
  } else if (o.rate == RateMode::Auto && !transcript.empty()) {
    f.syllables = static_cast<double>(count_syllables(transcript));
    f.rate_source = "transcript";
  } else {
    f.syllables = static_cast<double>(syllable_nuclei(x, audio.sample_rate, o.nuclei, track).size());
    f.rate_source = "nuclei";
  }
  f.rate = f.syllables / f.duration;
  return f;
}

}  // namespace symp::prosody
