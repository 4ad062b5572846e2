#pragma once
// A tiny trained pipeline for the infer tests, built by the real binary in about 10 s: a gen-data corpus
// (1 query per emotion, 2 neutral queries), `tokenize fit/encode`, a 2-layer width-32 base trained from
// scratch for 2 steps and a rank-4 LoRA adapter trained on it for 2 steps. ctest runs every test case in its
// own process, so the files live in one folder under the temp dir, rebuilt only when the symp binary
// changes, and a file lock keeps test cases started together from building it twice.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "../test_util.h"
#include "symp/core/rng.h"
#include "symp/io/jsonl.h"

namespace symp::test::infer {

namespace fs = std::filesystem;

struct TinyPipeline {
  fs::path dir;
  std::string corpus;                // gen-data output (manifest.jsonl)
  std::string tokenizer;             // tokenize fit output (tokenizer.json, codec.json)
  std::string model;                 // the base model folder
  std::string adapter;               // a LoRA adapter trained on `model`
  std::vector<std::string> queries;  // the two neutral query WAVs (espeak-ng's 22,050 Hz)
};

// Runs `symp <args>`; fails the test with the command's stderr when it does not exit 0.
inline RunResult symp_ok(const std::string& args) {
  auto r = run_symp(args);
  INFO("symp " << args << "\n" << r.err);
  REQUIRE(r.exit_code == 0);
  return r;
}

// Holds an exclusive flock on `path` for its lifetime.
class FileLock {
 public:
  explicit FileLock(const std::string& path) : fd_(::open(path.c_str(), O_CREAT | O_RDWR, 0644)) {
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_;
};

inline std::string read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every file under `dir` (relative path -> bytes), except those `skip` names.
inline std::map<std::string, std::string> files_under(
    const fs::path& dir, const std::function<bool(const std::string&)>& skip = {}) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const std::string rel = fs::relative(e.path(), dir).string();
    if (!skip || !skip(rel)) files[rel] = read_text(e.path());
  }
  return files;
}

// Reply records by key ("system|input|condition"); each key once.
inline std::map<std::string, io::Json> by_key(const std::vector<io::Json>& records) {
  std::map<std::string, io::Json> m;
  for (const auto& r : records) CHECK(m.emplace(r.at("key").get<std::string>(), r).second);
  return m;
}

// A reply record without the fields that measure time, which differ between identical runs.
inline io::Json without_timing(io::Json r) {
  for (const char* k : {"generation_seconds", "decode_seconds", "tokens_per_second"}) r.erase(k);
  return r;
}

inline void build_tiny_pipeline(const TinyPipeline& p) {
  const auto d = p.dir.string();
  symp_ok("--seed 3 gen-data --out " + d + "/corpus --per-emotion 1 --neutral-queries 2");
  symp_ok("--seed 3 tokenize fit --corpus " + d + "/corpus --out " + d + "/tok --text-vocab 500");
  symp_ok("--seed 3 tokenize encode --corpus " + d + "/corpus --model " + d + "/tok --out " + d + "/enc");
  // A model far smaller than --init tiny, with the tokenizer's whole vocabulary.
  const auto tok = io::read_json(d + "/tok/tokenizer.json");
  const int64_t vocab = tok.at("text_vocab_size").get<int64_t>() + tok.at("audio_codes").get<int64_t>();
  io::write_json_atomic(d + "/base_config.json", {{"architectures", {"ChatGLMModel"}},
                                                  {"model_type", "chatglm"},
                                                  {"num_layers", 2},
                                                  {"hidden_size", 32},
                                                  {"num_attention_heads", 2},
                                                  {"multi_query_attention", true},
                                                  {"multi_query_group_num", 1},
                                                  {"kv_channels", 16},
                                                  {"ffn_hidden_size", 64},
                                                  {"padded_vocab_size", vocab},
                                                  {"layernorm_epsilon", 1e-5},
                                                  {"rope_ratio", 1},
                                                  {"add_qkv_bias", true},
                                                  {"add_bias_linear", false},
                                                  {"post_layer_norm", true},
                                                  {"rmsnorm", true},
                                                  {"apply_residual_connection_post_layernorm", false},
                                                  {"original_rope", true},
                                                  {"seq_length", 2048},
                                                  {"torch_dtype", "float32"}});
  const std::string steps =
      " --max-steps 2 --batch-size 4 --grad-accum 1 --lr 1e-2 --warmup-steps 0 --save-every 1000 "
      "--eval-every 1000";
  symp_ok("--seed 3 train-lora --init " + d + "/base_config.json --full --train " + d +
          "/enc/encoded_train.jsonl --out " + d + "/base" + steps);
  symp_ok("--seed 3 train-lora --model " + d + "/base/model --lora-rank 4 --train " + d +
          "/enc/encoded_train.jsonl --out " + d + "/lora" + steps);
}

// The shared pipeline, built on first use (per binary build) and reused by later test processes.
inline const TinyPipeline& tiny_pipeline() {
  static const TinyPipeline pipeline = [] {
    const std::string binary = SYMP_BINARY;
    const auto root = fs::temp_directory_path() /
                      ("symp-test-infer-" + std::to_string(symp::stable_hash(binary.data(), binary.size())));
    fs::create_directories(root);
    TinyPipeline p;
    p.dir = root / "pipeline";
    p.corpus = (p.dir / "corpus").string();
    p.tokenizer = (p.dir / "tok").string();
    p.model = (p.dir / "base" / "model").string();
    p.adapter = (p.dir / "lora" / "adapter").string();
    const std::string stamp = std::to_string(fs::last_write_time(binary).time_since_epoch().count()) + " " +
                              std::to_string(fs::file_size(binary));
    FileLock lock((root / "lock").string());
    if (read_text(root / "stamp") != stamp) {
      fs::remove(root / "stamp");
      fs::remove_all(p.dir);
      fs::create_directories(p.dir);
      build_tiny_pipeline(p);
      std::ofstream(root / "stamp") << stamp;
    }
    std::set<std::string> seen;
    for (const auto& r : io::read_jsonl(p.corpus + "/manifest.jsonl")) {
      if (r.at("split") != "neutral") continue;
      const auto audio = p.corpus + "/" + r.at("query_audio").get<std::string>();
      if (seen.insert(audio).second) p.queries.push_back(audio);
    }
    REQUIRE(p.queries.size() == 2);
    return p;
  }();
  return pipeline;
}

}  // namespace symp::test::infer
