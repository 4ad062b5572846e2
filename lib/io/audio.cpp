#include "symp/io/audio.h"

#include <sndfile.h>
#include <soxr.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <functional>

#include <fmt/format.h>

#include "symp/core/error.h"
#include "symp/core/fs.h"

namespace symp::io {
namespace {

struct SndFile {
  SNDFILE* handle = nullptr;
  SF_INFO info{};
  ~SndFile() {
    if (handle) sf_close(handle);
  }
};

uint32_t le32(const unsigned char* p) {
  return p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t(p[3]) << 24);
}

// libsndfile quietly reads what is there when a WAV's data chunk is cut short. A truncated file is an
// interrupted write, so say so: the data chunk must fit in the `size` bytes (streaming writers' 0 /
// 0xFFFFFFFF "unknown size" markers are accepted). `read` fills `n` bytes at an offset, false past the end.
void check_wav_not_truncated(const std::string& where, uint64_t size,
                             const std::function<bool(uint64_t at, unsigned char* out, size_t n)>& read) {
  unsigned char header[12];
  if (!read(0, header, 12)) return;
  if (std::memcmp(header, "RIFF", 4) != 0 || std::memcmp(header + 8, "WAVE", 4) != 0) return;
  uint64_t pos = 12;
  unsigned char chunk[8];
  while (read(pos, chunk, 8)) {
    const uint32_t chunk_size = le32(chunk + 4);
    if (std::memcmp(chunk, "data", 4) == 0) {
      if (chunk_size == 0 || chunk_size == 0xFFFFFFFFu) return;
      if (pos + 8 + chunk_size > size) {
        throw InputError(
            fmt::format("{}: truncated WAV: the data chunk declares {} bytes but the file holds {}", where,
                        chunk_size, size - pos - 8));
      }
      return;
    }
    pos += 8 + uint64_t(chunk_size) + (chunk_size & 1);
  }
}

void check_wav_file_not_truncated(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  check_wav_not_truncated(
      path, static_cast<uint64_t>(fs::file_size(path)), [&](uint64_t at, unsigned char* out, size_t n) {
        return static_cast<bool>(in.seekg(static_cast<std::streamoff>(at)) &&
                                 in.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(n)));
      });
}

void check_wav_bytes_not_truncated(const std::string& bytes, const std::string& where) {
  check_wav_not_truncated(where, bytes.size(), [&](uint64_t at, unsigned char* out, size_t n) {
    if (at + n > bytes.size()) return false;
    std::memcpy(out, bytes.data() + at, n);
    return true;
  });
}

// libsndfile's virtual I/O over a string.
struct MemoryFile {
  const std::string* bytes = nullptr;
  sf_count_t pos = 0;
  std::string out;  // for writing
  bool writing = false;

  static sf_count_t length(void* self) {
    auto* m = static_cast<MemoryFile*>(self);
    return static_cast<sf_count_t>(m->writing ? m->out.size() : m->bytes->size());
  }
  static sf_count_t seek(sf_count_t offset, int whence, void* self) {
    auto* m = static_cast<MemoryFile*>(self);
    const sf_count_t base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? m->pos : length(self);
    const sf_count_t to = base + offset;
    if (to < 0) return -1;
    m->pos = to;
    return to;
  }
  static sf_count_t read(void* dst, sf_count_t count, void* self) {
    auto* m = static_cast<MemoryFile*>(self);
    const auto size = static_cast<sf_count_t>(m->bytes->size());
    if (m->pos >= size || count <= 0) return 0;
    const sf_count_t n = std::min(count, size - m->pos);
    std::memcpy(dst, m->bytes->data() + m->pos, static_cast<size_t>(n));
    m->pos += n;
    return n;
  }
  static sf_count_t write(const void* src, sf_count_t count, void* self) {
    auto* m = static_cast<MemoryFile*>(self);
    const auto end = static_cast<size_t>(m->pos + count);
    if (m->out.size() < end) m->out.resize(end);
    std::memcpy(m->out.data() + m->pos, src, static_cast<size_t>(count));
    m->pos += count;
    return count;
  }
  static sf_count_t tell(void* self) { return static_cast<MemoryFile*>(self)->pos; }
};

SF_VIRTUAL_IO memory_io() {
  SF_VIRTUAL_IO io{};
  io.get_filelen = MemoryFile::length;
  io.seek = MemoryFile::seek;
  io.read = MemoryFile::read;
  io.write = MemoryFile::write;
  io.tell = MemoryFile::tell;
  return io;
}

// Reads every frame of an open file, downmixed to mono; `where` names it in errors.
Audio read_frames(SndFile& f, const std::string& where, int target_rate) {
  const int channels = f.info.channels;
  std::vector<float> interleaved(static_cast<size_t>(f.info.frames) * channels);
  const sf_count_t got = sf_readf_float(f.handle, interleaved.data(), f.info.frames);
  if (got <= 0) throw InputError(where + ": no samples could be read");
  Audio audio;
  audio.sample_rate = f.info.samplerate;
  audio.samples.resize(static_cast<size_t>(got));
  for (sf_count_t i = 0; i < got; ++i) {
    double sum = 0;
    for (int c = 0; c < channels; ++c) sum += interleaved[static_cast<size_t>(i) * channels + c];
    const float v = static_cast<float>(sum / channels);
    if (!std::isfinite(v)) throw InputError(fmt::format("{}: sample {} is not a finite number", where, i));
    audio.samples[static_cast<size_t>(i)] = v;
  }
  if (target_rate > 0 && target_rate != audio.sample_rate) {
    audio.samples = resample(audio.samples, audio.sample_rate, target_rate);
    audio.sample_rate = target_rate;
  }
  return audio;
}

// What every opened audio must hold; InputError naming `where`.
void check_opened(const SndFile& f, const std::string& where) {
  if (f.info.frames <= 0) throw InputError(where + ": the audio holds no samples");
  if (f.info.samplerate <= 0 || f.info.channels <= 0)
    throw InputError(where + ": invalid sample rate or channel count");
}

// A mono WAV's format for `audio`; RuntimeError naming `where` for a rate that cannot be written.
SF_INFO wav_info(const Audio& audio, SampleFormat format, const std::string& where) {
  if (audio.sample_rate <= 0)
    throw RuntimeError(where + ": cannot write audio with sample rate " + std::to_string(audio.sample_rate));
  SF_INFO info{};
  info.samplerate = audio.sample_rate;
  info.channels = 1;
  info.format = SF_FORMAT_WAV | (format == SampleFormat::Pcm16 ? SF_FORMAT_PCM_16 : SF_FORMAT_FLOAT);
  return info;
}

// Writes every sample (clipped to [-1, 1] for 16-bit PCM; non-finite ones as 0) and closes `out`.
void write_samples(SNDFILE* out, const Audio& audio, SampleFormat format, const std::string& where) {
  std::vector<float> clipped(audio.samples);
  if (format == SampleFormat::Pcm16) {
    for (auto& v : clipped) v = std::isfinite(v) ? std::clamp(v, -1.0f, 1.0f) : 0.0f;
  }
  const auto n = static_cast<sf_count_t>(clipped.size());
  const sf_count_t written = sf_writef_float(out, clipped.data(), n);
  const std::string why = written != n ? sf_strerror(out) : "";
  sf_close(out);
  if (written != n)
    throw RuntimeError(fmt::format("{}: wrote {} of {} samples ({})", where, written, n, why));
}

void open_snd(const std::string& path, SndFile& f) {
  if (!fs::exists(path)) throw InputError(path + ": no such audio file");
  if (fs::is_directory(path)) throw InputError(path + ": is a folder, not an audio file");
  if (fs::file_size(path) == 0) throw InputError(path + ": empty file");
  f.handle = sf_open(path.c_str(), SFM_READ, &f.info);
  if (!f.handle)
    throw InputError(fmt::format("{}: not a readable audio file ({})", path, sf_strerror(nullptr)));
  check_opened(f, path);
  check_wav_file_not_truncated(path);
}

std::string format_name(int format) {
  SF_FORMAT_INFO major{}, sub{};
  major.format = format & SF_FORMAT_TYPEMASK;
  sub.format = format & SF_FORMAT_SUBMASK;
  sf_command(nullptr, SFC_GET_FORMAT_INFO, &major, sizeof(major));
  sf_command(nullptr, SFC_GET_FORMAT_INFO, &sub, sizeof(sub));
  return fmt::format("{} {}", major.name ? major.name : "?", sub.name ? sub.name : "?");
}

}  // namespace

AudioInfo probe_audio(const std::string& path) {
  SndFile f;
  open_snd(path, f);
  return {f.info.samplerate, f.info.channels, f.info.frames, format_name(f.info.format)};
}

Audio read_audio(const std::string& path, int target_rate) {
  SndFile f;
  open_snd(path, f);
  return read_frames(f, path, target_rate);
}

Audio decode_audio_bytes(const std::string& bytes, const std::string& where, int target_rate) {
  if (bytes.empty()) throw InputError(where + ": empty audio");
  MemoryFile m;
  m.bytes = &bytes;
  auto io = memory_io();
  SndFile f;
  f.handle = sf_open_virtual(&io, SFM_READ, &f.info, &m);
  if (!f.handle)
    throw InputError(fmt::format("{}: not a readable audio file ({})", where, sf_strerror(nullptr)));
  check_opened(f, where);
  check_wav_bytes_not_truncated(bytes, where);
  return read_frames(f, where, target_rate);
}

std::string encode_wav_bytes(const Audio& audio) {
  const std::string where = "WAV in memory";
  SF_INFO info = wav_info(audio, SampleFormat::Pcm16, where);
  MemoryFile m;
  m.writing = true;
  auto io = memory_io();
  SNDFILE* out = sf_open_virtual(&io, SFM_WRITE, &info, &m);
  if (!out) throw RuntimeError(fmt::format("{}: cannot write ({})", where, sf_strerror(nullptr)));
  write_samples(out, audio, SampleFormat::Pcm16, where);
  return m.out;
}

std::string to_pcm16(const std::vector<float>& samples) {
  std::string out(samples.size() * 2, '\0');
  for (size_t i = 0; i < samples.size(); ++i) {
    const float v = std::isfinite(samples[i]) ? std::clamp(samples[i], -1.0f, 1.0f) : 0.0f;
    const auto s = static_cast<int16_t>(std::lrint(v * 32767.0f));
    out[2 * i] = static_cast<char>(s & 0xFF);
    out[2 * i + 1] = static_cast<char>((s >> 8) & 0xFF);
  }
  return out;
}

std::vector<float> from_pcm16(const std::string& pcm) {
  std::vector<float> samples(pcm.size() / 2);
  for (size_t i = 0; i < samples.size(); ++i) {
    const auto lo = static_cast<unsigned char>(pcm[2 * i]);
    const auto hi = static_cast<unsigned char>(pcm[2 * i + 1]);
    samples[i] = static_cast<float>(static_cast<int16_t>(lo | (hi << 8))) / 32768.0f;
  }
  return samples;
}

void write_wav(const std::string& path, const Audio& audio, SampleFormat format) {
  SF_INFO info = wav_info(audio, format, path);
  AtomicFile file(path);
  SNDFILE* out = sf_open(file.temp_path().c_str(), SFM_WRITE, &info);
  if (!out) throw RuntimeError(fmt::format("{}: cannot write ({})", path, sf_strerror(nullptr)));
  write_samples(out, audio, format, path);
  file.commit();
}

std::vector<float> resample(const std::vector<float>& samples, int from_rate, int to_rate) {
  if (from_rate <= 0 || to_rate <= 0)
    throw RuntimeError(fmt::format("resample: invalid rates {} -> {}", from_rate, to_rate));
  if (from_rate == to_rate || samples.empty()) return samples;
  const size_t out_len = static_cast<size_t>(std::llround(double(samples.size()) * to_rate / from_rate));
  std::vector<float> out(out_len + 16);
  size_t done = 0;
  const soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  const soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  soxr_error_t err = soxr_oneshot(from_rate, to_rate, 1, samples.data(), samples.size(), nullptr, out.data(),
                                  out.size(), &done, &io, &quality, nullptr);
  if (err) throw RuntimeError(fmt::format("resample {} -> {} Hz failed: {}", from_rate, to_rate, err));
  out.resize(std::min(done, out_len));
  return out;
}

}  // namespace symp::io
