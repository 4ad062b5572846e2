// The pitch tracker against Praat itself: `praat --run` analyses the same files at test time with
// `To Pitch (ac)` and Praat's default settings; F0 mean, std and 10-90 % range must agree within 1 %
// and the voicing decisions on at least 98 % of frames.
#include <catch2/catch.hpp>

#include "symp/core/error.h"
#include "symp/io/audio.h"
#include "symp/prosody/pitch.h"

#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace symp::prosody;

namespace {

fs::path scratch_dir(const std::string& name) {
  const fs::path dir =
      fs::temp_directory_path() / ("symp_prosody_" + name + "_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

std::string run_capture(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen(command.c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, pipe)) > 0) out.append(buf, n);
  const int status = ::pclose(pipe);
  INFO(command << "\n" << out);
  REQUIRE(status == 0);
  return out;
}

// Praat's own answer for one file: the per-frame F0 (0 = unvoiced) and its mean, std and range.
struct PraatPitch {
  std::vector<double> f0;
  double mean = 0, std = 0, range = 0;
};

PraatPitch praat_pitch(const fs::path& dir, const std::string& wav) {
  const fs::path script = dir / "pitch.praat";
  if (!fs::exists(script)) {
    std::ofstream s(script);
    s << "form p\n  sentence file x.wav\nendform\n"
         "Read from file: file$\n"
         "To Pitch (ac): 0, 75, 15, \"no\", 0.03, 0.45, 0.01, 0.35, 0.14, 600\n"
         "n = Get number of frames\n"
         "for i to n\n  f = Get value in frame: i, \"Hertz\"\n"
         "  if f = undefined\n    f = 0\n  endif\n  appendInfoLine: \"F \", fixed$(f, 9)\nendfor\n"
         "m = Get mean: 0, 0, \"Hertz\"\nsd = Get standard deviation: 0, 0, \"Hertz\"\n"
         "q1 = Get quantile: 0, 0, 0.1, \"Hertz\"\nq9 = Get quantile: 0, 0, 0.9, \"Hertz\"\n"
         "appendInfoLine: \"S \", fixed$(m, 9), \" \", fixed$(sd, 9), \" \", fixed$(q9 - q1, 9)\n";
  }
  std::istringstream out(run_capture("praat --run '" + script.string() + "' '" + wav + "'"));
  PraatPitch p;
  std::string tag;
  while (out >> tag) {
    if (tag == "F") {
      double f;
      out >> f;
      p.f0.push_back(f);
    } else if (tag == "S") {
      out >> p.mean >> p.std >> p.range;
    }
  }
  return p;
}

void compare_with_praat(const fs::path& dir, const std::string& wav) {
  const PraatPitch ref = praat_pitch(dir, wav);
  const symp::io::Audio audio = symp::io::read_audio(wav);
  const PitchTrack track = track_pitch(audio.samples, audio.sample_rate);
  const F0Stats s = f0_stats(track);
  INFO(wav << ": praat " << ref.mean << " / " << ref.std << " / " << ref.range << ", symp " << s.mean << " / "
           << s.std << " / " << s.range);
  REQUIRE(track.f0.size() == ref.f0.size());
  size_t agree = 0, voiced = 0;
  for (size_t i = 0; i < ref.f0.size(); ++i) {
    agree += (ref.f0[i] > 0) == (track.f0[i] > 0);
    voiced += ref.f0[i] > 0;
  }
  REQUIRE(voiced >= 5);  // the comparison means something only with voiced frames (Noise.wav has 9)
  CHECK(double(agree) / ref.f0.size() >= 0.98);
  CHECK(s.mean == Approx(ref.mean).epsilon(0.01));
  CHECK(s.std == Approx(ref.std).epsilon(0.01));
  CHECK(s.range == Approx(ref.range).epsilon(0.01));
}

}  // namespace

TEST_CASE("prosody: F0 matches Praat on espeak-ng speech in several voices pitches rates and sample rates",
          "[prosody]") {
  const fs::path dir = scratch_dir("espeak");
  struct Voice {
    const char* voice;
    int pitch, rate;
    const char* text;
  };
  const Voice voices[] = {
      {"en+f3", 70, 180, "The quick brown fox jumps over the lazy dog, and then it rests for a while."},
      {"en-us+m3", 30, 120, "I am not sure what you mean. Could you please say that again, slowly?"},
      {"en+f4", 90, 260, "That is wonderful news! I am so happy for you, really, truly happy."},
      {"en+m1", 10, 90, "I feel tired today, and everything seems to take a very long time."},
      {"de", 50, 220, "Heute ist ein schoener Tag, und wir gehen im Park spazieren."},
  };
  int k = 0;
  for (const Voice& v : voices) {
    const std::string wav = (dir / ("v" + std::to_string(k++) + ".wav")).string();
    run_capture("espeak-ng -w '" + wav + "' -v " + v.voice + " -p " + std::to_string(v.pitch) + " -s " +
                std::to_string(v.rate) + " \"" + v.text + "\"");
    compare_with_praat(dir, wav);
  }
  // Other sample rates: the first file resampled by Praat to 8, 16 and 44.1 kHz.
  std::ofstream(dir / "resample.praat")
      << "form r\n  sentence in x.wav\n  real rate 16000\n  sentence out o.wav\n"
         "endform\nRead from file: in$\nResample: rate, 50\nSave as WAV file: out$\n";
  for (int rate : {8000, 16000, 44100}) {
    const std::string out = (dir / ("r" + std::to_string(rate) + ".wav")).string();
    run_capture("praat --run '" + (dir / "resample.praat").string() + "' '" + (dir / "v0.wav").string() +
                "' " + std::to_string(rate) + " '" + out + "'");
    compare_with_praat(dir, out);
  }
  fs::remove_all(dir);
}

TEST_CASE("prosody: F0 matches Praat on the human recordings of alsa-utils", "[prosody]") {
  const fs::path alsa = "/usr/share/sounds/alsa";
  REQUIRE(fs::is_directory(alsa));  // alsa-utils is a test dependency (scripts/install-deps.sh)
  const fs::path dir = scratch_dir("alsa");
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(alsa)) {
    if (e.path().extension() != ".wav") continue;
    compare_with_praat(dir, e.path().string());
    ++files;
  }
  CHECK(files >= 5);
  fs::remove_all(dir);
}

TEST_CASE("prosody: F0 of a pure tone and of a sound shorter than the window", "[prosody]") {
  const int sr = 16000;
  std::vector<float> tone(sr);  // 1 s of 220 Hz
  for (int i = 0; i < sr; ++i) tone[i] = 0.5f * std::sin(2 * M_PI * 220.0 * i / sr);
  const PitchTrack t = track_pitch(tone, sr);
  CHECK(t.dt == Approx(0.01));
  CHECK(t.voiced() == t.f0.size());
  const F0Stats s = f0_stats(t);
  CHECK(s.mean == Approx(220.0).epsilon(1e-3));
  CHECK(s.range < 0.5);
  const std::vector<float> clip(sr / 50, 0.1f);  // 20 ms < 3 periods of 75 Hz
  CHECK_THROWS_AS(track_pitch(clip, sr), symp::InputError);
  PitchOptions bad;
  bad.ceiling = 50;
  CHECK_THROWS_AS(bad.validate(), symp::UsageError);
  CHECK(f0_stats(track_pitch(std::vector<float>(sr, 0.0f), sr)).voiced == 0);
}

TEST_CASE("prosody: Praat's quantile interpolates between order statistics", "[prosody]") {
  const std::vector<double> v = {10, 20, 30, 40, 50};
  CHECK(praat_quantile(v, 0.5) == Approx(30));     // place 3
  CHECK(praat_quantile(v, 0.3) == Approx(20));     // place 2
  CHECK(praat_quantile(v, 0.25) == Approx(17.5));  // place 1.75
  CHECK(praat_quantile(v, 0.9) == Approx(50));     // place 5: last pair, no clamp of the fraction
  CHECK(praat_quantile({7}, 0.1) == 7);
  CHECK(std::isnan(praat_quantile({}, 0.5)));
}
