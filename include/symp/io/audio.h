#pragma once
// Audio in and out through libsndfile (WAV, FLAC and whatever else it reads), mono downmix, and
// resampling through soxr. Samples are float in [-1, 1].
#include <cstdint>
#include <string>
#include <vector>

namespace symp::io {

struct Audio {
  std::vector<float> samples;  // mono
  int sample_rate = 0;         // Hz
  double duration() const { return sample_rate > 0 ? double(samples.size()) / sample_rate : 0.0; }
};

struct AudioInfo {
  int sample_rate = 0;
  int channels = 0;
  int64_t frames = 0;
  std::string format;  // e.g. "WAV PCM_16"
  double duration() const { return sample_rate > 0 ? double(frames) / sample_rate : 0.0; }
};

// Reads the header only. InputError naming the file for a missing, unreadable, empty or truncated file.
AudioInfo probe_audio(const std::string& path);

// Reads a file, downmixes to mono (mean of the channels) and, when target_rate > 0 and differs from the
// file's rate, resamples to it. Same errors as probe_audio(), plus non-finite samples.
Audio read_audio(const std::string& path, int target_rate = 0);

enum class SampleFormat { Pcm16, Float32 };

// Audio held in memory (a request body, a decoded base64 field): what read_audio() does for a file, with
// `where` naming the source in errors. A WAV whose data chunk is cut short is an InputError too.
Audio decode_audio_bytes(const std::string& bytes, const std::string& where, int target_rate = 0);
// A mono 16-bit PCM WAV file's bytes (samples clipped to [-1, 1]).
std::string encode_wav_bytes(const Audio& audio);
// Samples as little-endian signed 16-bit PCM (clipped to [-1, 1], rounded), with no header.
std::string to_pcm16(const std::vector<float>& samples);
// The inverse: little-endian signed 16-bit PCM (an odd last byte is ignored) as samples in [-1, 1).
std::vector<float> from_pcm16(const std::string& pcm);

// Writes mono WAV (16-bit PCM by default; samples are clipped to [-1, 1]) atomically: a temporary file
// renamed over the target, so an interrupted write never leaves a truncated file.
void write_wav(const std::string& path, const Audio& audio, SampleFormat format = SampleFormat::Pcm16);

// The audio files that command-line audio arguments (`--audio`) name, in order: a file stands for itself
// (not opened here: its reader names it when it cannot be read); a folder for the audio files in it
// (extensions libsndfile reads, any case: .wav .flac .ogg ...), sorted by path, and with `recursive` those
// in its subfolders too. A folder with no audio files is an InputError naming it.
std::vector<std::string> expand_audio_paths(const std::vector<std::string>& args, bool recursive = false);
// Whether a file name has one of those extensions.
bool has_audio_extension(const std::string& path);

// High-quality resampling (soxr, "HQ" recipe). Returns the input unchanged when the rates are equal.
std::vector<float> resample(const std::vector<float>& samples, int from_rate, int to_rate);

}  // namespace symp::io
