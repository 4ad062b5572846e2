#include <catch2/catch.hpp>

#include <cmath>
#include <fstream>

#include "../test_util.h"
#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/io/audio.h"

using namespace symp::io;

namespace {

Audio sine(int rate, double seconds, double hz) {
  Audio a;
  a.sample_rate = rate;
  a.samples.resize(static_cast<size_t>(rate * seconds));
  for (size_t i = 0; i < a.samples.size(); ++i) a.samples[i] = 0.5f * std::sin(2 * M_PI * hz * i / rate);
  return a;
}

}  // namespace

TEST_CASE("io: WAV round trip at 16-bit and float") {
  symp::test::ScratchDir dir("wav");
  auto a = sine(22050, 0.5, 220);
  write_wav(dir.file("a.wav"), a);
  auto info = probe_audio(dir.file("a.wav"));
  CHECK(info.sample_rate == 22050);
  CHECK(info.channels == 1);
  CHECK(info.frames == static_cast<int64_t>(a.samples.size()));
  auto b = read_audio(dir.file("a.wav"));
  REQUIRE(b.samples.size() == a.samples.size());
  double max_err = 0;
  for (size_t i = 0; i < a.samples.size(); ++i)
    max_err = std::max(max_err, double(std::abs(a.samples[i] - b.samples[i])));
  CHECK(max_err < 1.0 / 32768 * 1.01);
  write_wav(dir.file("f.wav"), a, SampleFormat::Float32);
  CHECK(read_audio(dir.file("f.wav")).samples == a.samples);
  // No temporary files are left beside the output.
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) files += e.is_regular_file();
  CHECK(files == 2);
}

TEST_CASE("io: resampling keeps duration and pitch") {
  symp::test::ScratchDir dir("resample");
  auto a = sine(22050, 1.0, 440);
  write_wav(dir.file("a.wav"), a);
  auto b = read_audio(dir.file("a.wav"), 16000);
  CHECK(b.sample_rate == 16000);
  CHECK(std::abs(static_cast<long>(b.samples.size()) - 16000) <= 1);
  // Count zero crossings in the middle: 440 Hz gives ~880 per second.
  int crossings = 0;
  for (size_t i = 4001; i < 12000; ++i) crossings += (b.samples[i - 1] < 0) != (b.samples[i] < 0);
  CHECK(crossings == Approx(880 * 0.5).margin(4));
}

TEST_CASE("io: stereo is downmixed to the mean") {
  symp::test::ScratchDir dir("stereo");
  // A hand-made 16-bit stereo WAV: left = 0.5, right = -0.25 (as int16).
  const int16_t l = 16384, r = -8192;
  std::string data;
  for (int i = 0; i < 100; ++i) {
    data.append(reinterpret_cast<const char*>(&l), 2);
    data.append(reinterpret_cast<const char*>(&r), 2);
  }
  auto u32 = [](uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [](uint16_t v) { return std::string(reinterpret_cast<const char*>(&v), 2); };
  std::string wav = "RIFF" + u32(36 + data.size()) + "WAVE" + "fmt " + u32(16) + u16(1) + u16(2) + u32(8000) +
                    u32(8000 * 4) + u16(4) + u16(16) + "data" + u32(data.size()) + data;
  std::ofstream(dir.file("s.wav"), std::ios::binary) << wav;
  auto a = read_audio(dir.file("s.wav"));
  REQUIRE(a.samples.size() == 100);
  CHECK(a.samples[10] == Approx((0.5 - 0.25) / 2).margin(1e-4));
  // The same file cut short is reported as truncated.
  std::ofstream(dir.file("t.wav"), std::ios::binary) << wav.substr(0, wav.size() - 40);
  CHECK_THROWS_WITH(read_audio(dir.file("t.wav")), Catch::Contains("t.wav") && Catch::Contains("truncated"));
}

TEST_CASE("io: bad audio files give one clear error naming the file") {
  symp::test::ScratchDir dir("badwav");
  CHECK_THROWS_WITH(read_audio(dir.file("missing.wav")), Catch::Contains("missing.wav"));
  std::ofstream(dir.file("empty.wav"));
  CHECK_THROWS_WITH(read_audio(dir.file("empty.wav")), Catch::Contains("empty"));
  std::ofstream(dir.file("text.wav")) << "this is not audio at all, just some text";
  CHECK_THROWS_WITH(read_audio(dir.file("text.wav")), Catch::Contains("text.wav"));
  CHECK_THROWS_AS(read_audio(dir.path().string()), symp::InputError);
}

TEST_CASE("io: audio arguments expand to the sorted audio files of folders") {
  symp::test::ScratchDir dir("expand-audio");
  const auto& d = dir.path();
  std::filesystem::create_directories(d / "set" / "sub");
  for (const char* name : {"set/b.wav", "set/a.FLAC", "set/notes.txt", "set/sub/c.ogg"})
    std::ofstream(d / name) << "x";
  std::filesystem::create_directories(d / "empty");
  std::ofstream(d / "empty" / "readme.md") << "x";

  const auto flat = expand_audio_paths({(d / "set").string(), (d / "loose.wav").string()});
  CHECK(flat == std::vector<std::string>{(d / "set/a.FLAC").string(), (d / "set/b.wav").string(),
                                         (d / "loose.wav").string()});  // a file stands for itself
  const auto deep = expand_audio_paths({(d / "set").string()}, /*recursive=*/true);
  CHECK(deep == std::vector<std::string>{(d / "set/a.FLAC").string(), (d / "set/b.wav").string(),
                                         (d / "set/sub/c.ogg").string()});
  CHECK_THROWS_WITH(expand_audio_paths({(d / "empty").string()}),
                    Catch::Contains((d / "empty").string()) && Catch::Contains("no audio files"));
  CHECK(has_audio_extension("x/Y.WAV"));
  CHECK_FALSE(has_audio_extension("x/y.wav.txt"));
}
