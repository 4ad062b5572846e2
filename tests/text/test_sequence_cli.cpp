// `symp tokenize fit | encode | roundtrip` end to end on a small espeak-ng corpus, and the exit code and
// message for a record whose audio cannot be read.
#include "symp/io/audio.h"
#include "symp/io/jsonl.h"

#include "../test_util.h"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

namespace fs = std::filesystem;
using namespace symp;

namespace {

// Runs a command line; returns its exit status and puts stdout+stderr in `output`.
int run(const std::string& command, std::string& output) {
  output.clear();
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  REQUIRE(pipe != nullptr);
  char buffer[4096];
  while (fgets(buffer, sizeof(buffer), pipe)) output += buffer;
  const int status = pclose(pipe);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The cells of one line of symp's CSV files (no quoted fields in the columns these tests read).
std::vector<std::string> csv_cells(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream s(line);
  for (std::string cell; std::getline(s, cell, ',');) cells.push_back(cell);
  return cells;
}

fs::path make_corpus() {
  const fs::path dir = fs::temp_directory_path() / "symp_test_tokenize_cli";
  fs::remove_all(dir);
  fs::create_directories(dir / "audio");
  const char* sentences[] = {"Could you help me plan a trip?", "I feel so tired today.",
                             "That is wonderful news, let us celebrate!",
                             "Please tell me what to cook tonight."};
  const char* voices[] = {"en -p 30 -s 150", "en+f3 -p 70 -s 190"};
  std::vector<io::Json> manifest;
  for (int s = 0; s < 4; ++s) {
    for (int v = 0; v < 2; ++v) {
      const std::string name = "audio/u" + std::to_string(s) + std::to_string(v) + ".wav";
      const std::string cmd = std::string("espeak-ng -v ") + voices[v] + " -w '" + (dir / name).string() +
                              "' \"" + sentences[s] + "\"";
      REQUIRE(std::system(cmd.c_str()) == 0);
      manifest.push_back({{"id", "emo-" + std::to_string(s) + std::to_string(v)},
                          {"split", "emotional"},
                          {"partition", s < 3 ? "train" : "eval"},
                          {"query_id", "q" + std::to_string(s)},
                          {"emotion", "sad"},
                          {"valence", -0.75},
                          {"arousal", -0.65},
                          {"query_text", sentences[s]},
                          {"response_text", sentences[(s + 1) % 4]},
                          {"query_audio", name},
                          {"response_audio", name}});
    }
  }
  io::write_jsonl_atomic((dir / "manifest.jsonl").string(), manifest);
  return dir;
}

}  // namespace

TEST_CASE("text: symp tokenize fit encode and roundtrip run end to end") {
  const fs::path dir = make_corpus();
  const std::string bin = SYMP_BINARY;
  std::string out;
  REQUIRE(run(bin + " tokenize fit --corpus " + dir.string() + " --out " + (dir / "model").string() +
                  " --text-vocab 400",
              out) == 0);
  CHECK(fs::exists(dir / "model" / "codec.json"));
  CHECK(fs::exists(dir / "model" / "tokenizer.json"));
  REQUIRE(run(bin + " tokenize encode --corpus " + dir.string() + " --model " + (dir / "model").string() +
                  " --out " + (dir / "enc").string(),
              out) == 0);
  const auto train = io::read_jsonl((dir / "enc" / "encoded_train.jsonl").string());
  const auto eval = io::read_jsonl((dir / "enc" / "encoded_eval.jsonl").string());
  CHECK(train.size() == 6);
  CHECK(eval.size() == 2);
  CHECK(io::read_json((dir / "enc" / "sequence_lengths.json").string())["na_records"] == 2);
  REQUIRE(run(bin + " tokenize roundtrip --model " + (dir / "model").string() + " --audio " +
                  (dir / "audio" / "u00.wav").string() + " " + (dir / "audio" / "u11.wav").string() +
                  " --out " + (dir / "rt").string(),
              out) == 0);
  // One row per input: 80 ms per token, the decoded file exactly tokens x 80 ms at 16 kHz, its F0 near the
  // input's (eval-prosody's measure: the two espeak-ng voices sit at different pitches).
  {
    std::ifstream csv(dir / "rt" / "roundtrip.csv");
    std::string line;
    std::getline(csv, line);
    size_t rows = 0;
    while (std::getline(csv, line)) {
      const auto c = csv_cells(line);
      REQUIRE(c.size() == 9);
      INFO(line);
      CHECK((c[0] == "u00.wav" || c[0] == "u11.wav"));
      const double duration = std::stod(c[1]);
      const long tokens = std::stol(c[2]);
      CHECK(std::abs(tokens - duration / 0.08) <= 1.0);
      const auto decoded = io::read_audio((dir / "rt" / c[0]).string());
      CHECK(decoded.sample_rate == 16000);
      CHECK(decoded.samples.size() == static_cast<size_t>(tokens) * 1280);
      CHECK(std::stod(c[4]) == Approx(std::stod(c[3])).epsilon(0.1));
      ++rows;
    }
    CHECK(rows == 2);
  }

  // A record whose audio is not audio: exit code 1 and a message naming the record.
  std::ofstream(dir / "audio" / "broken.wav") << "not a wav file";
  io::write_jsonl_atomic((dir / "manifest.jsonl").string(), {{{"id", "emo-broken"},
                                                              {"split", "emotional"},
                                                              {"partition", "train"},
                                                              {"emotion", "sad"},
                                                              {"valence", -0.75},
                                                              {"arousal", -0.65},
                                                              {"query_text", "q"},
                                                              {"response_text", "r"},
                                                              {"query_audio", "audio/broken.wav"},
                                                              {"response_audio", "audio/u00.wav"}}});
  CHECK(run(bin + " tokenize encode --corpus " + dir.string() + " --model " + (dir / "model").string() +
                " --out " + (dir / "enc2").string(),
            out) == 1);
  CHECK_THAT(out, Catch::Contains("emo-broken") && Catch::Contains("broken.wav"));
}

// Issue 17's codec check without circularity: a gen-data corpus's codec fitted on its train partition, the
// round trip of its eval partition (files the fit never analysed) measured by eval-prosody's Praat-accurate
// features, not by the codec's own tracker. The decoded files are measured again by `symp eval-prosody`
// itself, which must agree with roundtrip.csv.
TEST_CASE(
    "text: tokenize roundtrip keeps F0 and energy on a corpus's eval partition by eval-prosody's measures") {
  const fs::path dir = fs::temp_directory_path() / "symp_test_roundtrip_eval";
  fs::remove_all(dir);
  const std::string bin = SYMP_BINARY, d = dir.string();
  std::string out;
  REQUIRE(run(bin + " --seed 7 gen-data --out " + d + "/corpus --per-emotion 4 --neutral-queries 6", out) ==
          0);
  REQUIRE(run(bin + " --seed 7 tokenize fit --corpus " + d + "/corpus --out " + d + "/tok --text-vocab 500",
              out) == 0);
  INFO(out);
  REQUIRE(run(bin + " tokenize roundtrip --model " + d + "/tok --corpus " + d +
                  "/corpus --partition eval --out " + d + "/rt",
              out) == 0);
  // Every eval-partition audio file once, none from train.
  std::set<std::string> expected;
  for (const auto& r : io::read_jsonl(d + "/corpus/manifest.jsonl"))
    if (r.at("partition") == "eval") {
      expected.insert(r.at("query_audio").get<std::string>());
      expected.insert(r.at("response_audio").get<std::string>());
    }
  const auto summary = io::read_json(d + "/rt/roundtrip.json");
  REQUIRE(summary.at("files") == expected.size());
  REQUIRE(expected.size() >= 12);
  CHECK(summary.at("partition") == "eval");
  CHECK(summary.at("f0_mean_spearman").get<double>() >= 0.9);
  CHECK(summary.at("f0_mean_median_error").get<double>() <= 0.05);
  CHECK(summary.at("energy_mean_spearman").get<double>() >= 0.9);

  // roundtrip.csv's output F0 is what eval-prosody measures on the decoded files.
  std::map<std::string, double> f0_out;
  {
    std::ifstream csv(d + "/rt/roundtrip.csv");
    std::string line;
    std::getline(csv, line);
    REQUIRE(line.rfind("file,duration,tokens,f0_mean_in,f0_mean_out,", 0) == 0);
    while (std::getline(csv, line)) {
      const auto cells = csv_cells(line);
      REQUIRE(cells.size() == 9);
      CHECK(expected.count(cells[0]) == 1);
      f0_out[cells[0]] = std::stod(cells[4]);
    }
  }
  REQUIRE(f0_out.size() == expected.size());
  REQUIRE(run(bin + " eval-prosody --audio " + d + "/rt/audio/responses --out " + d + "/ep --no-plots",
              out) == 0);
  size_t compared = 0;
  std::ifstream features(d + "/ep/features.csv");
  std::string line;
  std::getline(features, line);
  REQUIRE(line.rfind("id,f0_mean,", 0) == 0);
  while (std::getline(features, line)) {
    const auto cells = csv_cells(line);
    const std::string name = "audio/responses/" + cells.at(0);  // eval-prosody ids are file names
    if (!f0_out.count(name)) continue;
    INFO(name);
    CHECK(std::stod(cells.at(1)) == Approx(f0_out[name]).epsilon(0.01));
    ++compared;
  }
  CHECK(compared >= 6);
}
