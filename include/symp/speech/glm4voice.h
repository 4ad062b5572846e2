#pragma once
// GLM-4-Voice's speech stack behind the SpeechCodec interface: WhisperVQ encodes 16 kHz audio to
// 12.5 Hz ids (glm-4-voice-tokenizer folder), flow matching + HiFT decode ids to 22,050 Hz audio
// (glm-4-voice-decoder folder: config.yaml, flow.pt, hift.pt, or .safetensors copies). Streaming decode
// follows GLM-4-Voice's token2wav: growing chunks (25, 50, 100, 150, 200 tokens), each decoded with all
// earlier tokens and mels as the flow prompt, a 34-frame Hamming cross-fade of the mel, a 1-frame mel and
// 256-sample excitation cache for the vocoder, every chunk but the last emitting all but its last 256
// samples. Registered as codec kind "glm4voice". No torch here.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "symp/codec/codec.h"

namespace symp::speech {

struct Glm4VoiceOptions {
  std::string tokenizer_dir;    // glm-4-voice-tokenizer folder; empty: decode only
  std::string decoder_dir;      // glm-4-voice-decoder folder; empty: encode only
  bool random_decoder = false;  // benchmarks: the shipped full-size flow + HiFT with random weights instead
  std::string device = "cpu";   // torch device: "cpu", "cuda", "cuda:1"
  std::vector<int> stream_chunks = {25, 50, 100, 150, 200};  // tokens per streaming chunk; the last repeats
  bool stream_crossfade = true;  // cross-fade the mel at chunk edges (off only to measure what it does)
  bool record_mel = false;       // keep the mel each decode hands the vocoder (last_mel()), for checks
  uint64_t seed = 0;  // vocoder excitation phases and noise (the flow's noise is seeded 42, as the reference)
  int encode_batch = 128;  // 30 s windows per WhisperVQ batch
  void validate() const;   // UsageError naming the field
};

// What the last decode_stream() did.
struct StreamStats {
  std::vector<int> chunk_tokens;       // tokens per chunk
  std::vector<int64_t> chunk_samples;  // samples emitted per chunk
  double first_audio_seconds = 0;      // wall time from the call to the first emitted piece
  double total_seconds = 0;
};

class Glm4VoiceCodec : public codec::SpeechCodec {
 public:
  // InputError naming the missing file or bad tensor; UsageError for bad options.
  static std::unique_ptr<Glm4VoiceCodec> open(const Glm4VoiceOptions& options);
  ~Glm4VoiceCodec() override;

  std::string name() const override { return "glm4voice"; }
  std::string describe() const override;
  int sample_rate() const override;
  double frame_rate() const override;
  int64_t vocab_size() const override;
  int output_sample_rate() const override;
  bool can_encode() const override;
  bool can_decode() const override;
  std::vector<int64_t> encode(const std::vector<float>& wav) override;
  std::vector<float> decode(const std::vector<int64_t>& ids) override;
  void decode_stream(const std::vector<int64_t>& ids, const AudioSink& on_audio) override;

  // Several utterances at once, batched as GLM-4-Voice's extract_speech_token batches them.
  std::vector<std::vector<int64_t>> encode_batch(const std::vector<std::vector<float>>& wavs);
  const StreamStats& last_stream_stats() const;
  // With Glm4VoiceOptions::record_mel: the mel frames the last decode() or decode_stream() vocoded, in
  // order, [frames][80] flattened (a stream's held-back and cache frames counted once, where emitted).
  const std::vector<float>& last_mel() const;

 private:
  Glm4VoiceCodec();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// `symp tokenize speech`: one JSONL line {"file", "tokens"} per audio file, in order.
struct TokenizeSpeechOptions {
  std::string tokenizer_dir;       // --tokenizer
  std::vector<std::string> audio;  // --audio FILE...
  std::string out;                 // --out FILE.jsonl
  std::string device = "cpu";      // --device
  void validate() const;           // UsageError naming the field
};
// Returns the number of files written.
size_t tokenize_speech(const TokenizeSpeechOptions& options);

// `symp tokenize decode`: one WAV per JSONL line of {"tokens": [...]} (and optional "file"/"id" for the
// name).
struct DecodeTokensOptions {
  std::string decoder_dir;  // --decoder
  std::string tokens;       // --tokens FILE.jsonl
  std::string out_dir;      // --out DIR
  bool stream = false;      // --stream: decode chunk by chunk as GLM-4-Voice streams
  std::string device = "cpu";
  uint64_t seed = 0;      // vocoder excitation
  void validate() const;  // UsageError naming the field
};
// Returns the WAV paths written.
std::vector<std::string> decode_tokens(const DecodeTokensOptions& options);

}  // namespace symp::speech
