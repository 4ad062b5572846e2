#pragma once
// The seven per-response prosody features of PAPER.md section 7, from one mono sound:
//   F0 mean, std and 10-90 % range (Praat's autocorrelation pitch, pitch.h), RMS energy mean and std,
//   speaking rate (syllables per second) and spectral centroid.
//
//   symp::prosody::FeatureOptions opt;
//   auto f = symp::prosody::compute_features(audio, opt, transcript);   // transcript may be empty
#include "symp/io/audio.h"
#include "symp/prosody/pitch.h"

#include <cstddef>
#include <string>
#include <vector>

namespace symp::prosody {

// Syllable nuclei after de Jong & Wempe (2009): peaks of the intensity contour above a threshold
// relative to its 99th percentile, separated by a dip, and voiced.
struct NucleiOptions {
  double min_pitch = 50.0;  // Hz; sets the intensity window (6.4 / min_pitch s) and step (0.8 / min_pitch s)
  double silence_db = -25.0;  // dB re the contour's 99th percentile: quieter peaks are pauses
  double min_dip_db = 2.0;    // dB a peak must stand above the lowest point before the next peak
  void validate() const;
};

// How the speaking rate is measured.
enum class RateMode {
  Auto,    // transcript syllables when a transcript is given, else syllable nuclei
  Nuclei,  // syllable nuclei from the audio, always
  Words,   // transcript words per second (the reference code's measure); needs a transcript
};
RateMode parse_rate_mode(const std::string& name);  // "auto", "nuclei", "words"; UsageError otherwise
const char* rate_mode_name(RateMode mode);

struct FeatureOptions {
  PitchOptions pitch;  // F0 analysis (Praat's To Pitch (ac) defaults)
  int frame = 2048;    // samples per RMS/STFT frame at the file's own rate (librosa's default)
  int hop = 512;       // samples between frames (librosa's default); frames are centred, zero padded
  double centroid_floor_db =
      60;                // frames with RMS this many dB under the loudest frame leave the centroid mean
  NucleiOptions nuclei;  // syllable-nuclei detector
  RateMode rate = RateMode::Auto;  // speaking-rate measure
  double min_duration = 0.25;      // s; shorter sounds are rejected as too short to measure
  double clip_fraction = 0.001;    // a warning when more than this fraction of samples sits at full scale
  void validate() const;
};

struct Features {
  double f0_mean = 0, f0_std = 0, f0_range = 0;  // Hz, voiced frames only
  double energy_mean = 0, energy_std = 0;        // RMS (full scale = 1); std over frames without n - 1
  double rate = 0;                               // syllables (or words, RateMode::Words) per second
  double centroid = 0;                           // Hz, mean over non-silent frames
  size_t voiced_frames = 0, frames = 0;          // pitch frames voiced / in all
  double duration = 0;                           // s
  double syllables = 0;                          // counted units behind `rate`
  std::string rate_source;                       // "transcript", "nuclei" or "words"
  std::string warning;                           // e.g. clipping; empty when none
};

// Measures one sound. InputError for a silent sound, one shorter than min_duration, or one without a
// voiced frame (the F0 features would be undefined).
Features compute_features(const io::Audio& audio, const FeatureOptions& options,
                          const std::string& transcript = "");

// Frame-wise RMS of centred, zero-padded frames (librosa.feature.rms with center=True).
std::vector<double> rms_frames(const std::vector<float>& samples, int frame, int hop);
// Frame-wise spectral centroid in Hz of the magnitude STFT (periodic Hann, centred, zero padded);
// NaN for a frame whose spectrum is all zero.
std::vector<double> centroid_frames(const std::vector<float>& samples, int sample_rate, int frame, int hop);
// Intensity contour in dB (re 2e-5, mean subtracted per window, Kaiser window): times and values.
void intensity_contour(const std::vector<float>& samples, int sample_rate, double min_pitch,
                       std::vector<double>* times, std::vector<double>* db);
// Times (s) of the syllable nuclei; a nucleus must fall on a voiced frame of `pitch` (the frame nearest
// to it).
std::vector<double> syllable_nuclei(const std::vector<float>& samples, int sample_rate,
                                    const NucleiOptions& options, const PitchTrack& pitch);
// Syllables in English text by vowel groups (a silent final e dropped, at least one per word; each
// digit counts one). A heuristic, good to about 10 % on running text.
size_t count_syllables(const std::string& text);
size_t count_words(const std::string& text);

}  // namespace symp::prosody
