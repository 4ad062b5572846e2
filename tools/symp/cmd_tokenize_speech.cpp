// `symp tokenize speech` and `symp tokenize decode`: GLM-4-Voice's own tokenizer and decoder.
#include <memory>

#include "command.h"
#include "symp/speech/glm4voice.h"

namespace {

symp::cli::Runner setup_speech(CLI::App& app) {
  auto o = std::make_shared<symp::speech::TokenizeSpeechOptions>();
  app.add_option("--tokenizer", o->tokenizer_dir,
                 "glm-4-voice-tokenizer folder (config.json, "
                 "preprocessor_config.json, model.safetensors)")
      ->required();
  app.add_option("--audio", o->audio, "Audio files to tokenize (any rate; resampled to 16 kHz)")->required();
  app.add_option("--out", o->out, "Output JSONL: one {\"file\", \"tokens\"} line per input")->required();
  app.add_option("--device", o->device, "torch device: cpu, cuda, cuda:N")->capture_default_str();
  return [o, &app](const symp::cli::GlobalOptions&) {
    o->validate();
    symp::cli::save_effective_config_for_file(app, o->out);
    symp::speech::tokenize_speech(*o);
    return 0;
  };
}

symp::cli::Runner setup_decode(CLI::App& app) {
  auto o = std::make_shared<symp::speech::DecodeTokensOptions>();
  app.add_option("--decoder", o->decoder_dir, "glm-4-voice-decoder folder (config.yaml, flow.pt, hift.pt)")
      ->required();
  app.add_option("--tokens", o->tokens, "JSONL with a \"tokens\" list per line (as `tokenize speech` writes)")
      ->required();
  app.add_option("--out", o->out_dir, "Output folder: one 22,050 Hz WAV per line")->required();
  app.add_flag("--stream", o->stream,
               "Decode in growing chunks as GLM-4-Voice streams (25, 50, 100, 150, 200)");
  app.add_option("--device", o->device, "torch device: cpu, cuda, cuda:N")->capture_default_str();
  return [o, &app](const symp::cli::GlobalOptions& g) {
    o->seed = g.seed;
    o->validate();
    symp::cli::save_effective_config(app, o->out_dir);
    symp::speech::decode_tokens(*o);
    return 0;
  };
}

}  // namespace

SYMP_SUBCOMMAND(tokenize_speech, "tokenize", "speech", 20,
                "GLM-4-Voice speech tokens (WhisperVQ) of audio files", setup_speech)
SYMP_SUBCOMMAND(tokenize_decode, "tokenize", "decode", 21,
                "GLM-4-Voice tokens back to audio (flow matching + HiFT), offline or streaming", setup_decode)
