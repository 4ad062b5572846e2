// GLM-4-Voice's speech stack at full size with random weights: the tokenizer (WhisperVQ: Whisper-large
// encoder to the quantizer at layer 16) on 5 s and 30 s of audio, and the decoder (flow matching 111 M +
// HiFT 20 M): seconds to decode 25 tokens (2 s of audio) and 200 tokens (16 s), real-time factor, and the
// time to first audio of the streaming decode (GLM-4-Voice's token2wav chunking). The published weights
// cannot be downloaded here; speed does not depend on their values.
//   bench_speech_decoder [device=cpu] [threads=2]
// BENCHMARKS.md's reference is the official cosyvoice/Matcha code on the same kind of machine; it needs
// Python torch, which this machine does not have, so its recorded figures are printed for comparison
// (they are not measured in this run).
#include <fmt/format.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <string>
#include <vector>

#include "symp/core/process.h"
#include "symp/core/rng.h"
#include "symp/speech/glm4voice.h"
#include "symp/speech/whisper_vq.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

std::vector<int64_t> random_ids(int count, uint64_t seed) {
  symp::Rng rng(seed);
  std::vector<int64_t> ids;
  for (int i = 0; i < count; ++i) ids.push_back(static_cast<int64_t>(rng.below(16384)));
  return ids;
}

}  // namespace

int main(int argc, char** argv) {
  symp::configure_process(argv);  // as the symp binary runs (symp/core/process.h)
  const std::string device = argc > 1 ? argv[1] : "cpu";
  torch::set_num_threads(argc > 2 ? std::atoi(argv[2]) : 2);
  {
    auto vq = symp::speech::WhisperVQ::random(symp::speech::WhisperVQConfig{}, torch::Device(device));
    (void)vq->tokenize({std::vector<float>(16000, 0.01f)}, 1);  // warm-up
    for (int seconds : {5, 30}) {
      symp::Rng rng(static_cast<uint64_t>(seconds));
      std::vector<float> wav(static_cast<size_t>(seconds) * 16000);
      for (auto& x : wav) x = static_cast<float>(rng.uniform() - 0.5) * 0.2f;
      const auto start = std::chrono::steady_clock::now();
      const auto tokens = vq->tokenize({wav}, 1);
      const double took = seconds_since(start);
      fmt::print("tokenize {} s of audio ({} tokens) on {}, {} threads: {:.2f} s = {:.2f}x real time\n",
                 seconds, tokens[0].size(), device, torch::get_num_threads(), took, seconds / took);
    }
  }
  symp::speech::Glm4VoiceOptions options;
  options.random_decoder = true;
  options.device = device;
  auto codec = symp::speech::Glm4VoiceCodec::open(options);
  const bool cpu = device == "cpu";
  (void)codec->decode(random_ids(25, 1));  // warm-up
  for (int tokens : {25, 200}) {
    const auto ids = random_ids(tokens, static_cast<uint64_t>(tokens));
    const auto start = std::chrono::steady_clock::now();
    const auto audio = codec->decode(ids);
    const double seconds = seconds_since(start);
    const double audio_seconds = static_cast<double>(audio.size()) / codec->output_sample_rate();
    const double reference = cpu ? (tokens == 25 ? 18.8 : 118.0) : (tokens == 25 ? 0.703 : 0.715);
    fmt::print(
        "decode {} tokens ({:.1f} s of audio) on {}, {} threads: {:.2f} s = {:.2f}x real time; "
        "recorded reference {:.2f} s ({}): {:.2f}x\n",
        tokens, audio_seconds, device, torch::get_num_threads(), seconds, audio_seconds / seconds, reference,
        cpu ? "official code, 2 CPU cores" : "official code, H100", reference / seconds);
  }
  const auto ids = random_ids(200, 7);
  int64_t samples = 0;
  codec->decode_stream(
      ids, [&](const std::vector<float>& piece) { samples += static_cast<int64_t>(piece.size()); });
  const auto& stats = codec->last_stream_stats();
  fmt::print(
      "streaming 200 tokens in {} chunks: first audio after {:.0f} ms, all {:.1f} s of audio in {:.2f} s "
      "(goal on a GPU: first audio under 100 ms)\n",
      stats.chunk_tokens.size(), 1000 * stats.first_audio_seconds,
      static_cast<double>(samples) / codec->output_sample_rate(), stats.total_seconds);
  return 0;
}
