// `symp tokenize fit | encode | roundtrip` end to end on a small espeak-ng corpus, and the exit code and
// message for a record whose audio cannot be read.
#include "symp/io/jsonl.h"

#include "../test_util.h"

#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
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
  SYMP_SKIP_UNDER_SANITIZERS_IF_SENTENCEPIECE();
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
  CHECK(fs::exists(dir / "rt" / "u00.wav"));
  CHECK(fs::exists(dir / "rt" / "u11.wav"));
  CHECK(fs::exists(dir / "rt" / "roundtrip.csv"));

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
