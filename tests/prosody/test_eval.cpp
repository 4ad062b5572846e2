// eval-prosody end to end through the real binary: a manifest of espeak-ng replies whose pitch and rate
// rise with the target arousal, plus one bad file of each kind.
#include <catch2/catch.hpp>

#include "symp/io/csv.h"
#include "symp/io/jsonl.h"

#include <sys/wait.h>
#include <unistd.h>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using symp::io::Json;

namespace {

int run(const std::string& command) {
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// A mono float WAV written byte by byte, so that NaN samples reach the file.
void write_float_wav(const fs::path& path, const std::vector<float>& samples, int sr) {
  std::ofstream f(path, std::ios::binary);
  auto u32 = [&](uint32_t v) { f.write(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&](uint16_t v) { f.write(reinterpret_cast<const char*>(&v), 2); };
  const uint32_t bytes = static_cast<uint32_t>(samples.size() * 4);
  f.write("RIFF", 4), u32(36 + bytes), f.write("WAVE", 4);
  f.write("fmt ", 4), u32(16), u16(3), u16(1), u32(sr), u32(sr * 4), u16(4), u16(32);
  f.write("data", 4), u32(bytes);
  f.write(reinterpret_cast<const char*>(samples.data()), bytes);
}

std::map<std::string, std::map<std::string, std::string>> read_table(const fs::path& path,
                                                                     const std::string& key) {
  const auto rows = symp::io::read_csv(path.string());
  REQUIRE(rows.size() >= 1);
  std::map<std::string, std::map<std::string, std::string>> out;
  size_t key_col = 0;
  for (size_t c = 0; c < rows[0].size(); ++c)
    if (rows[0][c] == key) key_col = c;
  for (size_t r = 1; r < rows.size(); ++r)
    for (size_t c = 0; c < rows[0].size(); ++c) out[rows[r][key_col]][rows[0][c]] = rows[r][c];
  return out;
}

}  // namespace

TEST_CASE("prosody: eval-prosody CLI on a manifest with bad rows", "[prosody][cli]") {
  const fs::path dir = fs::temp_directory_path() / ("symp_eval_prosody_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "audio");
  const char* emotions[] = {"sad",   "tired",      "relaxed", "content",   "neutral", "disgusted",
                            "happy", "frustrated", "anxious", "surprised", "excited", "angry"};
  const double arousal[] = {-0.65, -0.75, -0.6, -0.2, 0.0, -0.2, 0.35, 0.35, 0.65, 0.8, 0.9, 0.85};
  std::ofstream manifest(dir / "manifest.jsonl");
  for (int i = 0; i < 12; ++i) {
    const std::string rel = "audio/r" + std::to_string(i) + ".wav";
    const int pitch = static_cast<int>(52 + 35 * arousal[i]), rate = static_cast<int>(160 + 70 * arousal[i]);
    const std::string text = "Thank you for telling me how you feel, let us look at this together.";
    REQUIRE(run("espeak-ng -w '" + (dir / rel).string() + "' -v en+f3 -p " + std::to_string(pitch) + " -s " +
                std::to_string(rate) + " \"" + text + "\"") == 0);
    Json r = {{"id", "r" + std::to_string(i)}, {"emotion", emotions[i]}, {"response_audio", rel}};
    if (i % 2) r["response_text"] = text;  // half with a transcript, half measured from the audio
    manifest << r.dump() << "\n";
  }
  // Bad rows: silence, a 50 ms clip, NaN samples, a text file, a missing file, a record without audio.
  std::vector<float> silence(16000, 0.0f), clip(800, 0.3f), nan_samples(16000, 0.1f);
  nan_samples[5000] = NAN;
  write_float_wav(dir / "audio/silence.wav", silence, 16000);
  write_float_wav(dir / "audio/clip.wav", clip, 16000);
  write_float_wav(dir / "audio/nan.wav", nan_samples, 16000);
  std::ofstream(dir / "audio/notes.wav") << "this is not audio\n";
  const std::map<std::string, std::string> bad = {{"silence", "audio/silence.wav"},
                                                  {"clip", "audio/clip.wav"},
                                                  {"nan", "audio/nan.wav"},
                                                  {"text", "audio/notes.wav"},
                                                  {"missing", "audio/nowhere.wav"}};
  for (const auto& [id, path] : bad)
    manifest << Json({{"id", id}, {"valence", 0.1}, {"arousal", 0.2}, {"response_audio", path}}).dump()
             << "\n";
  manifest << Json({{"id", "noaudio"}, {"emotion", "sad"}}).dump() << "\n";
  // No target at all (infer's N/A condition): measured and flagged, not failed, not correlated.
  manifest << Json({{"id", "untargeted"},
                    {"valence", nullptr},
                    {"arousal", nullptr},
                    {"response_audio", "audio/r0.wav"}})
                  .dump()
           << "\n";
  manifest.close();

  const fs::path out = dir / "out";
  const std::string cmd = std::string(SYMP_BINARY) + " eval-prosody --manifest '" +
                          (dir / "manifest.jsonl").string() + "' --out '" + out.string() +
                          "' --workers 2 --permutations 200 2>'" + (dir / "stderr.txt").string() + "'";
  CHECK(run(cmd) == 1);  // some rows failed

  const auto features = read_table(out / "features.csv", "id");
  REQUIRE(features.size() == 19);
  const auto header = symp::io::read_csv((out / "features.csv").string())[0];
  const std::vector<std::string> contract = {"id",          "f0_mean",    "f0_std", "f0_range",
                                             "energy_mean", "energy_std", "rate",   "centroid"};
  REQUIRE(std::vector<std::string>(header.begin(), header.begin() + 8) == contract);
  for (int i = 0; i < 12; ++i) {
    const auto& row = features.at("r" + std::to_string(i));
    INFO("r" << i << ": " << row.at("error"));
    CHECK(row.at("error").empty());
    CHECK(std::stod(row.at("f0_mean")) > 60);
    CHECK(std::stod(row.at("rate")) > 1);
    CHECK(row.at("rate_source") == (i % 2 ? "transcript" : "nuclei"));
    CHECK(row.at("emotion") == emotions[i]);
  }
  CHECK_THAT(features.at("silence").at("error"), Catch::Contains("silent"));
  CHECK_THAT(features.at("clip").at("error"), Catch::Contains("too short"));
  CHECK_THAT(features.at("nan").at("error"), Catch::Contains("not a finite number"));
  CHECK_FALSE(features.at("text").at("error").empty());
  CHECK_THAT(features.at("missing").at("error"), Catch::Contains("no such audio file"));
  CHECK_THAT(features.at("noaudio").at("error"), Catch::Contains("no audio field"));
  for (const auto& [id, path] : bad) CHECK(features.at(id).at("f0_mean").empty());
  CHECK(features.at("untargeted").at("error").empty());
  CHECK_THAT(features.at("untargeted").at("warning"), Catch::Contains("no target"));
  CHECK(features.at("untargeted").at("f0_mean") == features.at("r0").at("f0_mean"));

  // Pitch and rate were made to rise with arousal, so their correlations must show it.
  const auto rows = symp::io::read_csv((out / "correlations.csv").string());
  REQUIRE(rows.size() == 1 + 14);
  std::map<std::string, std::vector<std::string>> corr;
  for (size_t r = 1; r < rows.size(); ++r) corr[rows[r][1] + "/" + rows[r][2]] = rows[r];
  CHECK(std::stod(corr.at("f0_mean/arousal")[3]) > 0.8);
  CHECK(std::stod(corr.at("f0_mean/arousal")[4]) < 0.01);
  CHECK(corr.at("f0_mean/arousal")[5] == "12");
  CHECK(std::stod(corr.at("f0_mean/arousal")[6]) < 0.05);  // permutation p
  CHECK(corr.at("f0_mean/arousal")[0] ==
        dir.filename().string());  // manifest.jsonl: its folder names the system
  std::ifstream md_file(out / "correlations.md");
  const std::string table((std::istreambuf_iterator<char>(md_file)), std::istreambuf_iterator<char>());
  CHECK_THAT(table, Catch::Contains("| system | n | F0 mean |"));
#ifdef SYMP_HAVE_PLOTS  // a build without PLplot skips figures with a warning
  CHECK(fs::exists(out / "plots" / "f0_mean_vs_arousal.png"));
  CHECK(fs::file_size(out / "plots" / "rate_vs_valence.png") > 1000);
#endif
  CHECK(fs::exists(out / "symp-config.toml"));

  // --audio on a folder of good files: ids are file names, no correlations, exit 0.
  fs::create_directories(dir / "good");
  fs::copy_file(dir / "audio/r0.wav", dir / "good/a.wav");
  fs::copy_file(dir / "audio/r5.wav", dir / "good/b.wav");
  const fs::path out2 = dir / "out2";
  CHECK(run(std::string(SYMP_BINARY) + " eval-prosody --audio '" + (dir / "good").string() + "' --out '" +
            out2.string() + "' 2>/dev/null") == 0);
  const auto f2 = read_table(out2 / "features.csv", "id");
  CHECK(f2.size() == 2);
  CHECK(f2.count("a.wav") == 1);
  CHECK_FALSE(fs::exists(out2 / "correlations.csv"));
  fs::remove_all(dir);
}

TEST_CASE("prosody: eval-prosody with targets but no measurable reply writes header-only tables",
          "[prosody][cli]") {
  const fs::path dir = fs::temp_directory_path() / ("symp_eval_prosody_none_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  // Two replies of white noise: no voiced frame, so no F0 and no row for the correlations.
  uint64_t state = 12345;
  std::vector<float> noise(16000);
  for (float& x : noise) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    x = static_cast<float>(static_cast<int64_t>(state >> 33) % 2000 - 1000) / 4000.0f;
  }
  write_float_wav(dir / "n0.wav", noise, 16000);
  write_float_wav(dir / "n1.wav", noise, 16000);
  {
    std::ofstream m(dir / "responses.jsonl");
    m << R"({"id":"a","response_audio":"n0.wav","valence":0.5,"arousal":0.5,"system":"lora"})"
      << "\n";
    m << R"({"id":"b","response_audio":"n1.wav","valence":-0.5,"arousal":-0.5,"system":"lora"})"
      << "\n";
  }
  const fs::path out = dir / "out";
  // Every row failed, so the exit code says so; the tables are still there, with no rows.
  CHECK(run(std::string(SYMP_BINARY) + " eval-prosody --manifest '" + (dir / "responses.jsonl").string() +
            "' --out '" + out.string() + "' 2>/dev/null") == 1);
  const auto rows = symp::io::read_csv((out / "correlations.csv").string());
  REQUIRE(rows.size() == 1);
  CHECK(rows[0] == std::vector<std::string>{"system", "feature", "target", "rho", "p", "n", "p_perm"});
  const auto features = read_table(out / "features.csv", "id");
  REQUIRE(features.size() == 2);
  CHECK_FALSE(features.at("a").at("error").empty());
  std::ifstream md(out / "correlations.md");
  const std::string text((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  CHECK(text.find("No response with a target") != std::string::npos);
  fs::remove_all(dir);
}
