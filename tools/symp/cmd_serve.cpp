// symp serve: the assistant over OpenAI's chat-completions API (audio in and out, streamed), with a VA
// condition per request and a page to talk to it.
#include "command.h"
#include "symp/serve/serve.h"

namespace {

symp::cli::Runner setup(CLI::App& app) {
  auto o = std::make_shared<symp::serve::ServeOptions>();
  auto& e = o->engine;
  app.add_option("--model", e.model_dir, "Base model folder (config.json + safetensors)")->required();
  app.add_option("--tokenizer", e.tokenizer_dir, "Tokenizer folder (symp tokenize fit output, or GLM-4's)")
      ->required();
  app.add_option("--adapter", e.adapters, "PEFT adapter folder, DIR or NAME=DIR; repeat for several systems");
  app.add_flag("--include-base", e.include_base, "Also serve the base model alone (system 'base')");
  app.add_option("--base-name", e.base_name, "System name of the base model")->capture_default_str();
  app.add_option("--codec", e.codec, "Speech codec kind: embedded or glm4voice")->capture_default_str();
  app.add_option("--codec-encoder", e.codec_encoder_dir, "Codec encoder folder (default: --tokenizer)");
  app.add_option("--codec-decoder", e.codec_decoder_dir, "Codec decoder folder (default: --tokenizer)");
  app.add_option("--prompt-style", e.prompt_style, "How the prompt states the condition (as symp infer)")
      ->capture_default_str();
  app.add_option("--style", e.styles, "Prompt style of one system, NAME=STYLE; repeatable");
  app.add_option("--host", o->host, "Address to listen on (0.0.0.0 for every interface)")
      ->capture_default_str();
  app.add_option("--port", o->port, "Port (0: any free port; the 'listening on' line says which)")
      ->capture_default_str();
  app.add_option("--max-concurrency", o->max_concurrency, "Replies generated at once")->capture_default_str();
  app.add_option("--max-queue", o->max_queue, "Requests that may wait for a slot; more get 429 + Retry-After")
      ->capture_default_str();
  app.add_option("--request-timeout", o->request_timeout_s, "Seconds a reply may take (then 504)")
      ->capture_default_str();
  app.add_option("--queue-timeout", o->queue_timeout_s, "Seconds a request may wait for a slot (then 429)")
      ->capture_default_str();
  app.add_option("--api-key-env", o->api_key_env,
                 "Environment variable holding the API key every /v1 request and /health must send as "
                 "'Authorization: Bearer KEY' (the page asks for it)");
  app.add_option("--max-audio-seconds", o->limits.max_audio_seconds, "Longest input audio accepted")
      ->capture_default_str();
  app.add_option("--max-audio-bytes", o->limits.max_audio_bytes, "Largest decoded input audio accepted")
      ->capture_default_str();
  app.add_option("--max-body-bytes", o->max_body_bytes, "Largest request body accepted (then 413)")
      ->capture_default_str();
  app.add_option("--temperature", o->sampling.temperature, "Default sampling temperature (<= 0: greedy)")
      ->capture_default_str();
  app.add_option("--top-p", o->sampling.top_p, "Default nucleus sampling mass")->capture_default_str();
  app.add_option("--max-new-tokens", o->sampling.max_new_tokens, "Default generation limit per reply")
      ->capture_default_str();
  app.add_option("--device", e.device, "cpu or cuda[:N]")->capture_default_str();
  app.add_option("--dtype", e.dtype, "f32 or bf16")->capture_default_str();
  return [o](const symp::cli::GlobalOptions& g) {
    o->seed = g.seed;
    o->limits.max_tokens = std::max(o->limits.max_tokens, o->sampling.max_new_tokens);
    symp::serve::run_serve(*o);
    return 0;
  };
}

}  // namespace

SYMP_COMMAND(
    serve, "serve", 65,
    "Serve the assistant: OpenAI-compatible chat completions with audio and a VA condition, and a page",
    setup)
