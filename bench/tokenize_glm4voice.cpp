// `tokenize encode --codec glm4voice` throughput on a gen-data corpus: the same code path (manifest, audio
// read and resampled to 16 kHz by soxr, WhisperVQ at full size, GLM-4 sequences, the resumable progress
// file) with a full-size WhisperVQ of random weights (the published ones cannot be downloaded here; speed
// does not depend on their values) and a GLM-4-format text tokenizer with its 16,384 audio tokens.
// Prints records/s, x real time, the time for the full 18,000-record corpus projected from both, and, as
// the reference measured in the same run, the same files through WhisperVQ one file per call (what a
// per-file loop over `symp tokenize speech` would do). WhisperVQ::tokenize groups windows of similar
// length into a batch; before it did, batching in file order ran at 0.48x the per-file speed.
//   symp gen-data --out /tmp/c --per-emotion 4 --neutral-queries 4
//   bench_tokenize_glm4voice /tmp/c [device=cpu] [threads=2] [batch_records=16]
#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "symp/core/process.h"
#include "symp/io/audio.h"
#include "symp/io/jsonl.h"
#include "symp/speech/whisper_vq.h"
#include "symp/text/glm_tokenizer.h"
#include "symp/text/sequence.h"

namespace {

namespace fs = std::filesystem;

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::string base64(const std::string& bytes) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const uint32_t v = uint8_t(bytes[0]) << 16;  // one byte: two symbols and padding
  return std::string{table[(v >> 18) & 63], table[(v >> 12) & 63], '=', '='};
}

// Byte ranks, the chat specials and <|audio_0|>..<|audio_16383|>, as glm-4-voice-9b lays them out.
void write_text_tokenizer(const fs::path& dir) {
  fs::create_directories(dir);
  std::ofstream model(dir / "tokenizer.model");
  for (int b = 0; b < 256; ++b) model << base64(std::string(1, char(b))) << " " << b << "\n";
  model.close();
  symp::io::Json added = symp::io::Json::object();
  int64_t next = 256;
  for (const char* s :
       {"<|endoftext|>", "[MASK]", "[gMASK]", "[sMASK]", "<sop>", "<eop>", "<|system|>", "<|user|>",
        "<|assistant|>", "<|observation|>", "<|begin_of_audio|>", "<|end_of_audio|>"})
    added[std::to_string(next++)] = {{"content", s}, {"special", true}};
  for (int i = 0; i < 16384; ++i)
    added[std::to_string(next++)] = {{"content", "<|audio_" + std::to_string(i) + "|>"}, {"special", true}};
  symp::io::write_json_atomic((dir / "tokenizer_config.json").string(), {{"added_tokens_decoder", added}});
}

}  // namespace

int main(int argc, char** argv) {
  symp::configure_process(argv);  // as the symp binary runs (symp/core/process.h)
  if (argc < 2) {
    fmt::print(stderr,
               "usage: bench_tokenize_glm4voice CORPUS [device=cpu] [threads=2] [batch_records=16]\n");
    return 2;
  }
  const std::string corpus = argv[1];
  const std::string device = argc > 2 ? argv[2] : "cpu";
  torch::set_num_threads(argc > 3 ? std::atoi(argv[3]) : 2);
  const int batch_records = argc > 4 ? std::atoi(argv[4]) : 16;
  const fs::path work = fs::temp_directory_path() / "symp-bench-tokenize-glm4voice";
  fs::remove_all(work);
  write_text_tokenizer(work / "glm");
  const auto tokenizer = symp::text::GlmTokenizer::load((work / "glm").string());
  auto vq = symp::speech::WhisperVQ::random(symp::speech::WhisperVQConfig{}, torch::Device(device));
  (void)vq->tokenize({std::vector<float>(16000, 0.01f)}, 1);  // warm-up

  double audio_seconds = 0;
  int64_t files = 0;
  symp::text::CorpusEncodeOptions options;
  options.corpus_dir = corpus;
  options.out_dir = (work / "encoded").string();
  options.batch_records = batch_records;
  options.encoder_id = "bench";
  auto encode = [&](const std::vector<std::string>& paths) {
    std::vector<std::vector<float>> wavs;
    for (const auto& p : paths) {
      wavs.push_back(symp::io::read_audio(p, 16000).samples);
      audio_seconds += double(wavs.back().size()) / 16000;
    }
    files += static_cast<int64_t>(paths.size());
    return vq->tokenize(wavs);
  };
  auto start = std::chrono::steady_clock::now();
  const auto summary = symp::text::encode_corpus(options, tokenizer, encode);
  const double batched = seconds_since(start);
  const int64_t records = summary.train + summary.eval;

  // Reference: the same files, one WhisperVQ call each.
  std::vector<std::string> paths;
  for (const auto& r : symp::io::read_jsonl(corpus + "/manifest.jsonl"))
    for (const char* f : {"query_audio", "response_audio"})
      paths.push_back(corpus + "/" + r.at(f).get<std::string>());
  start = std::chrono::steady_clock::now();
  for (const auto& p : paths) (void)vq->tokenize({symp::io::read_audio(p, 16000).samples}, 1);
  const double single = seconds_since(start);

  const double per_record_audio = audio_seconds / double(records);
  fmt::print("corpus: {} records, {} files, {:.1f} s of audio ({:.2f} s per record)\n", records, files,
             audio_seconds, per_record_audio);
  fmt::print(
      "tokenize encode --codec glm4voice on {}, {} threads, {} records per batch: {:.1f} s = {:.3f} "
      "records/s = {:.2f}x real time\n",
      device, torch::get_num_threads(), batch_records, batched, records / batched, audio_seconds / batched);
  fmt::print(
      "reference, one WhisperVQ call per file (same run): {:.1f} s; batched encode is {:.2f}x its speed "
      "(and also builds and writes the sequences)\n",
      single, single / batched);
  fmt::print(
      "projected for 18,000 records: {:.1f} h at this corpus's length per record; {:.1f} h for the "
      "100.59 h of audio of gen-data's full embedded corpus (docs/gen-data.md)\n",
      18000 / (records / batched) / 3600, 100.59 / (audio_seconds / batched));
  fs::remove_all(work);
  return 0;
}
