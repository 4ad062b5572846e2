#pragma once
// The embedded speech codec: 12.5 Hz tokens (one per 80 ms) that keep pitch, energy and timing, trained
// on the corpus itself in minutes on a CPU, with a source-filter decoder back to a waveform.
//
// A token jointly codes three quantised parameters of its 80 ms frame:
//   id = (envelope * pitch_levels + pitch) * energy_levels + energy
//   envelope: k-means code of the frame's mel-cepstrum (c1..cN; the spectral shape without its gain)
//             jointly with its energy contour (log RMS of 20 ms parts relative to the frame's)
//   pitch:    0 = unvoiced, 1..pitch_levels-1 = Lloyd-Max levels of the frame's mean log-F0
//   energy:   Lloyd-Max levels of the frame's log RMS
// Decoding drives a pulse train (voiced) or noise (unvoiced) through the decoded envelope in 10 ms
// overlap-add frames, with F0 and energy interpolated between frame centres. docs/tokenize.md has the
// reasons and the round-trip figures. No torch here.
//
//   auto model = symp::codec::fit_embedded_codec(wav_paths, {});
//   model.save("model/codec.json");
//   symp::codec::EmbeddedCodec codec(symp::codec::EmbeddedCodecModel::load("model/codec.json"));
//   std::vector<int> ids = codec.encode(symp::io::read_audio("a.wav"));
#include "symp/codec/codec.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace symp::codec {

// Analysis settings; fixed at fit time and stored in the model.
struct EmbeddedCodecConfig {
  int sample_rate = 16000;       // Hz; input is resampled to it, output is at it
  int hop = 160;                 // analysis/synthesis step in samples (10 ms at 16 kHz)
  int hops_per_token = 8;        // 8 x 10 ms = 80 ms = 12.5 Hz tokens
  int fft_size = 512;            // STFT size for the envelope (32 ms at 16 kHz)
  int mel_bands = 32;            // mel bands the envelope is measured in
  double mel_low_hz = 60.0;      // lowest mel band edge
  double mel_high_hz = 7600.0;   // highest mel band edge
  int cepstra = 16;              // mel-cepstral coefficients c1..cN kept (c0, the gain, is coded as energy)
  int shape_points = 4;          // energy contour points per token (20 ms each) coded with the envelope
  double shape_weight = 25.0;    // weight of the contour (log RMS, nats) against the cepstra in k-means
  double pitch_floor_hz = 60.0;  // pitch search range: below every adult voice
  double pitch_ceiling_hz = 500.0;  // above emotional (excited) female speech
  int envelope_codes = 32;          // k-means codebook size for the envelope
  int pitch_levels = 16;            // including level 0 = unvoiced
  int energy_levels = 8;            // log-RMS levels

  int token_hop() const { return hop * hops_per_token; }
  int vocab_size() const { return envelope_codes * pitch_levels * energy_levels; }
  // UsageError naming the field and value.
  void validate() const;
};

// Options of fit_embedded_codec.
struct EmbeddedCodecFitOptions {
  EmbeddedCodecConfig config;  // analysis settings and codebook sizes
  int max_files = 1500;        // at most this many files are analysed (a seeded sample), to bound fit time
  int kmeans_iterations = 25;  // Lloyd iterations for the envelope codebook
  uint64_t seed = 42;          // file sample and k-means++ initialisation
  int threads = 2;             // analysis workers
  void validate() const;
};

// A trained codec: configuration and codebooks. Saved as JSON with a format name and version.
struct EmbeddedCodecModel {
  static constexpr int kVersion = 1;
  static constexpr const char* kFormat = "symp-embedded-codec";

  EmbeddedCodecConfig config;
  std::vector<std::vector<float>> envelope_centroids;  // [envelope_codes][cepstra + shape_points]
  std::vector<double> pitch_values;   // [pitch_levels - 1]: log(F0 / Hz) of voiced levels 1..
  std::vector<double> energy_values;  // [energy_levels]: log RMS (natural log, full scale 1.0)
  int64_t trained_frames = 0;         // token frames the codebooks were fitted on
  int64_t trained_files = 0;

  void save(const std::string& path) const;
  // InputError naming the file for a missing file, another format or version, or inconsistent sizes.
  static EmbeddedCodecModel load(const std::string& path);
};

// Per-token analysis of one utterance (before quantisation).
struct TokenFrames {
  std::vector<std::vector<float>> cepstra;  // [tokens][cepstra + shape_points]: envelope, weighted contour
  std::vector<double> log_f0;               // [tokens]; NaN when the frame is unvoiced
  std::vector<double> log_rms;              // [tokens]
};

// The pitch track of an utterance at the codec's hop: F0 in Hz per hop, 0 where unvoiced. An
// autocorrelation tracker after Boersma (1993): normalised autocorrelation over 3 periods of the floor,
// candidate peaks with an octave cost, a voicing threshold against local and global intensity, and a
// Viterbi path with octave-jump and voicing-change costs. `samples` at config.sample_rate.
std::vector<double> track_pitch(const std::vector<float>& samples, const EmbeddedCodecConfig& config);

// Analyses `samples` (at config.sample_rate) into ceil(n / token_hop) token frames.
TokenFrames analyse_token_frames(const std::vector<float>& samples, const EmbeddedCodecConfig& config);

// Trains the codebooks on the given audio files. InputError naming the file that cannot be read.
EmbeddedCodecModel fit_embedded_codec(const std::vector<std::string>& audio_files,
                                      const EmbeddedCodecFitOptions& options);

// The codec behind the SpeechCodec interface, registered as kind "embedded" (its model folder as
// encoder_dir or decoder_dir). encode() takes audio at sample_rate(); decode() returns exactly
// ids.size() x 80 ms of audio at the same rate.
class EmbeddedCodec : public SpeechCodec {
 public:
  explicit EmbeddedCodec(EmbeddedCodecModel model);
  // Loads `<model_dir>/codec.json` (or the file itself when given a file).
  static std::unique_ptr<EmbeddedCodec> load(const std::string& path);

  std::string name() const override { return "embedded"; }
  std::string describe() const override;
  int sample_rate() const override { return model_.config.sample_rate; }
  double frame_rate() const override { return double(model_.config.sample_rate) / model_.config.token_hop(); }
  int64_t vocab_size() const override { return model_.config.vocab_size(); }
  int output_sample_rate() const override { return model_.config.sample_rate; }
  std::vector<int64_t> encode(const std::vector<float>& wav) override;
  std::vector<float> decode(const std::vector<int64_t>& ids) override;
  // Each 10 ms hop reads the ids around it (interpolation between id centres, a filter of fft_size
  // samples) and the excitation runs forward from the first sample: samples more than 3 ids before the end
  // do not change when ids are appended.
  int prefix_stable_lookahead() const override { return 3; }

  // The token of each analysed frame (quantisation only).
  std::vector<int64_t> quantise(const TokenFrames& frames) const;
  const EmbeddedCodecModel& model() const { return model_; }

 private:
  EmbeddedCodecModel model_;
};

// Round-trip check figures of one utterance, measured the same way on the original and the decoded
// audio (both at the codec's rate). These are the codec's own quick measures, not eval-prosody's
// Praat-exact ones: F0 from track_pitch(), RMS over 2048-sample frames at hop 512 (librosa's default),
// speaking rate from syllable nuclei after de Jong & Wempe (2009): intensity peaks 2 dB above the
// preceding dip, within 25 dB of the 99th percentile, voiced at the peak.
struct ProsodyFigures {
  double f0_mean = 0.0;      // Hz over voiced hops; NaN when nothing is voiced
  double energy_mean = 0.0;  // mean frame RMS (full scale 1.0)
  double rate = 0.0;         // syllable nuclei per second
  double duration = 0.0;     // seconds
};
ProsodyFigures measure_prosody(const std::vector<float>& samples, const EmbeddedCodecConfig& config);

// Spearman rank correlation (average ranks for ties); NaN when fewer than 3 pairs or a constant side.
double spearman(const std::vector<double>& x, const std::vector<double>& y);

// The name of the model file inside a model folder.
constexpr const char* kEmbeddedCodecFile = "codec.json";

}  // namespace symp::codec
