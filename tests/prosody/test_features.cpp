#include <catch2/catch.hpp>

#include "symp/core/error.h"
#include "symp/io/audio.h"
#include "symp/prosody/features.h"

#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace fs = std::filesystem;
using namespace symp::prosody;

namespace {
symp::io::Audio tone(double hz, double seconds, int sr = 16000, double amp = 0.5) {
  symp::io::Audio a;
  a.sample_rate = sr;
  a.samples.resize(static_cast<size_t>(seconds * sr));
  for (size_t i = 0; i < a.samples.size(); ++i) a.samples[i] = float(amp * std::sin(2 * M_PI * hz * i / sr));
  return a;
}
}  // namespace

TEST_CASE("prosody: RMS frames are centred and zero padded as librosa's", "[prosody]") {
  const std::vector<float> x(4096, 0.5f);
  const auto rms = rms_frames(x, 2048, 512);
  REQUIRE(rms.size() == 9);                       // 1 + 4096 / 512
  CHECK(rms[0] == Approx(0.5 * std::sqrt(0.5)));  // half the first frame is padding
  CHECK(rms[4] == Approx(0.5));                   // fully inside
  CHECK(rms[8] == Approx(0.5 * std::sqrt(0.5)));
}

TEST_CASE("prosody: spectral centroid of tones and features of a tone", "[prosody]") {
  const auto a = tone(1000, 1.0);
  const auto c = centroid_frames(a.samples, a.sample_rate, 2048, 512);
  CHECK(c[c.size() / 2] == Approx(1000).epsilon(0.02));
  const auto b = tone(3000, 1.0);
  CHECK(centroid_frames(b.samples, b.sample_rate, 2048, 512)[10] == Approx(3000).epsilon(0.02));

  FeatureOptions opt;
  const Features f = compute_features(tone(200, 1.0), opt);
  CHECK(f.f0_mean == Approx(200).epsilon(1e-3));
  CHECK(f.energy_mean == Approx(0.5 / std::sqrt(2.0)).epsilon(0.05));
  CHECK(f.centroid == Approx(200).epsilon(0.1));
  CHECK(f.rate_source == "nuclei");
  CHECK(f.warning.empty());
  const Features t = compute_features(tone(200, 2.0), opt, "one two three four");
  CHECK(t.rate_source == "transcript");
  CHECK(t.rate == Approx(2.0));  // 4 syllables in 2 s
  opt.rate = RateMode::Words;
  CHECK(compute_features(tone(200, 2.0), opt, "one two three four five six").rate == Approx(3.0));
  CHECK_THROWS_AS(compute_features(tone(200, 2.0), opt), symp::InputError);
}

TEST_CASE("prosody: bad sounds are rejected with their reason", "[prosody]") {
  FeatureOptions opt;
  symp::io::Audio silence;
  silence.sample_rate = 16000;
  silence.samples.assign(16000, 0.0f);
  CHECK_THROWS_WITH(compute_features(silence, opt), Catch::Contains("silent"));
  CHECK_THROWS_WITH(compute_features(tone(200, 0.05), opt), Catch::Contains("too short"));
  symp::io::Audio noise = tone(200, 1.0, 16000, 0.0);
  uint64_t s = 1;
  for (auto& v : noise.samples)
    v = float(((s = s * 6364136223846793005ULL + 1) >> 40) / double(1 << 24) - 0.5);
  CHECK_THROWS_WITH(compute_features(noise, opt), Catch::Contains("no voiced frame"));
  auto hard = tone(200, 1.0, 16000, 3.0);
  for (auto& v : hard.samples) v = std::max(-1.0f, std::min(1.0f, v));
  const Features clipped = compute_features(hard, opt);  // measured, with a warning
  CHECK_THAT(clipped.warning, Catch::Contains("clipped"));
  CHECK(clipped.f0_mean == Approx(200).epsilon(0.01));
  opt.hop = 0;
  CHECK_THROWS_AS(opt.validate(), symp::UsageError);
}

TEST_CASE("prosody: syllables from text and from the audio (de Jong & Wempe nuclei)", "[prosody]") {
  CHECK(count_syllables("The quick brown fox") == 4);
  CHECK(count_syllables("beautiful table, make!") == 6);
  CHECK(count_syllables("I'm 42") == 3);
  CHECK(count_words("Hello, world: it's me.") == 4);

  // The audio side against de Jong & Wempe's own Praat script (its core: intensity at 50 Hz, threshold
  // 25 dB under the 99th percentile, 2 dB dips, voicing by a 30-450 Hz pitch track), run by praat now.
  const fs::path dir = fs::temp_directory_path() / ("symp_prosody_nuclei_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path script = dir / "nuclei.praat";
  std::ofstream(script) << R"(form d
  sentence file x.wav
endform
s = Read from file: file$
intid = To Intensity: 50, 0, "yes"
minint = Get minimum: 0, 0, "Parabolic"
max99 = Get quantile: 0, 0, 0.99
threshold = max99 - 25
if threshold < minint
  threshold = minint
endif
m = Down to Matrix
snd = To Sound (slice): 1
pp = To PointProcess (extrema): 1, "yes", "no", "Sinc70"
n = Get number of points
peakcount = 0
for i to n
  selectObject: pp
  t = Get time from index: i
  selectObject: intid
  v = Get value at time: t, "Cubic"
  if v > threshold
    peakcount += 1
    tp[peakcount] = t
    ip[peakcount] = v
  endif
endfor
selectObject: s
pitch = To Pitch (ac): 0.02, 30, 4, "no", 0.03, 0.25, 0.01, 0.35, 0.25, 450
voiced = 0
for p to peakcount - 1
  selectObject: intid
  dip = Get minimum: tp[p], tp[p+1], "None"
  if abs(ip[p] - dip) > 2
    selectObject: pitch
    f = Get value at time: tp[p], "Hertz", "Linear"
    if f <> undefined
      voiced += 1
    endif
  endif
endfor
writeInfoLine: voiced
)";
  const char* speech[] = {
      "-v en -s 110 -g 8 \"one, two, three, four, five, six, seven, eight, nine, ten, eleven, twelve\"",
      "-v en+f3 -p 70 -s 180 \"The quick brown fox jumps over the lazy dog, and then it rests for a while.\"",
      "-v en-us+m3 -p 30 -s 120 \"I am not sure what you mean. Could you please say that again, slowly?\""};
  int k = 0;
  for (const char* args : speech) {
    const std::string wav = (dir / ("s" + std::to_string(k++) + ".wav")).string();
    REQUIRE(std::system(("espeak-ng -w '" + wav + "' " + args).c_str()) == 0);
    const std::string cmd = "praat --run '" + script.string() + "' '" + wav + "'";
    FILE* pipe = ::popen(cmd.c_str(), "r");
    REQUIRE(pipe != nullptr);
    int reference = -1;
    REQUIRE(std::fscanf(pipe, "%d", &reference) == 1);
    REQUIRE(::pclose(pipe) == 0);
    const auto audio = symp::io::read_audio(wav);
    const PitchTrack track = track_pitch(audio.samples, audio.sample_rate);
    const double count =
        double(syllable_nuclei(audio.samples, audio.sample_rate, NucleiOptions{}, track).size());
    INFO(wav << ": praat script " << reference << " nuclei, symp " << count);
    CHECK(reference > 5);
    CHECK(std::fabs(count - reference) <= std::max(2.0, 0.15 * reference));
  }
  fs::remove_all(dir);
}
