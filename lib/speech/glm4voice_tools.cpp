// `symp tokenize speech` and `symp tokenize decode` (see symp/speech/glm4voice.h).
#include <filesystem>

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/io/audio.h"
#include "symp/io/jsonl.h"
#include "symp/speech/glm4voice.h"

namespace symp::speech {
namespace fs = std::filesystem;

void TokenizeSpeechOptions::validate() const {
  if (tokenizer_dir.empty()) throw UsageError("--tokenizer: empty");
  if (audio.empty()) throw UsageError("--audio: no files given");
  if (out.empty()) throw UsageError("--out: empty");
}

size_t tokenize_speech(const TokenizeSpeechOptions& options) {
  options.validate();
  Glm4VoiceOptions codec_options;
  codec_options.tokenizer_dir = options.tokenizer_dir;
  codec_options.device = options.device;
  auto codec = Glm4VoiceCodec::open(codec_options);
  std::vector<std::vector<float>> wavs;
  for (const auto& path : options.audio) wavs.push_back(io::read_audio(path, codec->sample_rate()).samples);
  auto tokens = codec->encode_batch(wavs);
  std::vector<io::Json> lines;
  for (size_t i = 0; i < tokens.size(); ++i) {
    lines.push_back({{"file", options.audio[i]}, {"tokens", tokens[i]}});
    log_info("tokenize", "{}: {:.2f} s -> {} tokens", options.audio[i],
             double(wavs[i].size()) / codec->sample_rate(), tokens[i].size());
  }
  if (fs::path(options.out).has_parent_path()) ensure_dir(fs::path(options.out).parent_path());
  io::write_jsonl_atomic(options.out, lines);
  return lines.size();
}

void DecodeTokensOptions::validate() const {
  if (decoder_dir.empty()) throw UsageError("--decoder: empty");
  if (tokens.empty()) throw UsageError("--tokens: empty");
  if (out_dir.empty()) throw UsageError("--out: empty");
}

std::vector<std::string> decode_tokens(const DecodeTokensOptions& options) {
  options.validate();
  auto records = io::read_jsonl(options.tokens);
  Glm4VoiceOptions codec_options;
  codec_options.decoder_dir = options.decoder_dir;
  codec_options.device = options.device;
  codec_options.seed = options.seed;
  auto codec = Glm4VoiceCodec::open(codec_options);
  ensure_dir(options.out_dir);
  std::vector<std::string> written;
  for (size_t i = 0; i < records.size(); ++i) {
    const std::string context = options.tokens + ":" + std::to_string(i + 1);
    const auto& field = io::require_field(records[i], "tokens", context);
    std::vector<int64_t> ids;
    try {
      ids = field.get<std::vector<int64_t>>();
    } catch (const std::exception&) {
      throw InputError(context + ": field 'tokens' is not a list of integers");
    }
    // Name: the input file's stem when the line has one, else the line number.
    std::string stem = "line" + std::to_string(i + 1);
    if (records[i].contains("file") && records[i]["file"].is_string())
      stem = fs::path(records[i]["file"].get<std::string>()).stem().string();
    else if (records[i].contains("id") && records[i]["id"].is_string())
      stem = records[i]["id"].get<std::string>();
    io::Audio audio;
    audio.sample_rate = codec->output_sample_rate();
    with_context(context, [&] {
      if (options.stream) {
        codec->decode_stream(ids, [&](const std::vector<float>& piece) {
          audio.samples.insert(audio.samples.end(), piece.begin(), piece.end());
        });
        const auto& stats = codec->last_stream_stats();
        log_info("decode", "{}: {} chunks, first audio after {:.3f} s, {:.3f} s in all", stem,
                 stats.chunk_tokens.size(), stats.first_audio_seconds, stats.total_seconds);
      } else {
        audio.samples = codec->decode(ids);
      }
    });
    const auto path = (fs::path(options.out_dir) / (stem + ".wav")).string();
    io::write_wav(path, audio);
    log_info("decode", "{}: {} tokens -> {:.2f} s", path, ids.size(), audio.duration());
    written.push_back(path);
  }
  return written;
}

}  // namespace symp::speech
