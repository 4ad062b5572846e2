#pragma once
// F0 by the autocorrelation method of Boersma (1993), "Accurate short-term analysis of the fundamental
// frequency and the harmonics-to-noise ratio of a sampled sound", with the defaults of Praat's
// `To Pitch (ac)` and its Viterbi path over the per-frame candidates. Written from the paper and Praat's
// manual; tests/prosody/test_pitch.cpp checks it against the praat binary itself.
//
//   symp::prosody::PitchOptions opt;                       // 75-600 Hz, 10 ms
//   auto track = symp::prosody::track_pitch(samples, 16000, opt);
//   auto s = symp::prosody::f0_stats(track);               // mean, std, 10-90 % range over voiced frames
#include <cstddef>
#include <vector>

namespace symp::prosody {

struct PitchOptions {
  double time_step = 0.0;              // s between frames; 0 = 0.75 / floor (Praat's default, 10 ms at 75 Hz)
  double floor = 75.0;                 // Hz, lowest F0 searched; sets the window to 3 periods of it
  double ceiling = 600.0;              // Hz, highest F0 (capped at the Nyquist frequency)
  int max_candidates = 15;             // candidates kept per frame, the unvoiced one included
  double silence_threshold = 0.03;     // local peak / global peak under which a frame tends to silence
  double voicing_threshold = 0.45;     // normalised autocorrelation a voiced candidate must beat
  double octave_cost = 0.01;           // per octave, favours higher candidates
  double octave_jump_cost = 0.35;      // per octave of F0 change between frames (at a 10 ms step)
  double voiced_unvoiced_cost = 0.14;  // per voicing change between frames (at a 10 ms step)
  void validate() const;               // UsageError naming the bad field
};

// One value per frame; frame i sits at time t1 + i * dt seconds from the start of the sound.
struct PitchTrack {
  double t1 = 0.0;
  double dt = 0.0;
  std::vector<double> f0;  // Hz; 0 for an unvoiced frame
  size_t voiced() const;
};

// Runs the analysis on mono samples. A sound shorter than one window (3 / floor seconds) gives an
// InputError, as Praat refuses it; a silent sound gives all frames unvoiced.
PitchTrack track_pitch(const std::vector<float>& samples, int sample_rate, const PitchOptions& options = {});

// Praat's quantile of sorted values: linear interpolation at place q * n + 0.5 between order statistics
// (1-based), clamped to the first and last pair. NaN for an empty vector.
double praat_quantile(const std::vector<double>& sorted, double q);

struct F0Stats {
  double mean = 0.0;   // Hz
  double std = 0.0;    // Hz, sample standard deviation (n - 1)
  double range = 0.0;  // Hz, 90th minus 10th percentile (praat_quantile)
  size_t voiced = 0;   // voiced frames the figures rest on
};

// Statistics over the voiced frames; all NaN with voiced == 0 when none is voiced (std also when one is).
F0Stats f0_stats(const PitchTrack& track);

}  // namespace symp::prosody
