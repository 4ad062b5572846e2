// symp transcribe: ASR transcripts of reply audio from an OpenAI-compatible transcription server.
#include "command.h"
#include "symp/judge/transcribe.h"

namespace {

symp::cli::Runner setup(CLI::App& app) {
  auto o = std::make_shared<symp::judge::TranscribeOptions>();
  app.add_option("--responses", o->responses, "responses.jsonl (infer's, or any with response_audio)")
      ->required();
  app.add_option("--out", o->out, "Output JSONL: the same records with a `transcript` field")->required();
  app.add_option("--url", o->url, "Transcription server base URL (POST {url}/audio/transcriptions)")
      ->required();
  app.add_option("--model", o->model, "The `model` form field")->capture_default_str();
  app.add_option("--language", o->language, "The `language` form field (e.g. en; empty: the server detects)");
  app.add_option("--api-key", o->api_key, "API key (else the variable named by --api-key-env)");
  app.add_option("--api-key-env", o->api_key_env, "Environment variable holding the API key")
      ->capture_default_str();
  app.add_option("--cache", o->cache_path, "Transcript cache (default OUT.cache.jsonl)");
  app.add_option("--timeout", o->timeout_s, "Seconds per request")->capture_default_str();
  app.add_option("--max-attempts", o->max_attempts, "HTTP attempts per request")->capture_default_str();
  return [o, &app](const symp::cli::GlobalOptions&) {
    o->validate();
    symp::cli::save_effective_config_for_file(app, o->out);
    symp::judge::run_transcribe(*o);
    return 0;
  };
}

}  // namespace

SYMP_COMMAND(transcribe, "transcribe", 72, "ASR transcripts of reply audio from an OpenAI-compatible server",
             setup)
