// symp gen-data: regenerate the Sympatheia-18k corpus (docs/gen-data.md). Binds the options of
// symp::data::GenDataOptions and calls run_gen_data().
#include <iostream>
#include <memory>

#include "command.h"
#include "symp/data/gen_data.h"
#include "symp/io/jsonl.h"
#include "symp/nn/bert.h"

namespace {

symp::cli::Runner setup(CLI::App& app) {
  auto o = std::make_shared<symp::data::GenDataOptions>();
  auto embedder_model = std::make_shared<std::string>();
  app.add_option("--out", o->out_dir, "Output folder (rerun with the same options to resume)")->required();
  app.add_option("--per-emotion", o->per_emotion, "Emotional split: unique queries per emotion")
      ->capture_default_str();
  app.add_option("--neutral-queries", o->neutral_queries,
                 "Neutral split: queries, each answered for every emotion")
      ->capture_default_str();
  app.add_option("--emotions", o->emotions, "Emotions to cover (anchor names; default all 12)")
      ->delimiter(',');
  app.add_option("--text-backend", o->text_backend, "Text generator: template or openai")
      ->capture_default_str();
  app.add_option("--tts-backend", o->tts_backend, "Speech synthesiser: espeak or openai")
      ->capture_default_str();
  app.add_option("--grammar-dir", o->grammar_dir,
                 "Folder with the generator's JSON files (default: data/gen)");
  app.add_option("--dedup-threshold", o->dedup_threshold,
                 "Cosine at or above which queries are near-duplicates")
      ->capture_default_str();
  app.add_option("--train-fraction", o->train_fraction, "Share of unique queries in the train partition")
      ->capture_default_str();
  app.add_option("--oversample", o->oversample, "Emotional query candidates per missing query and round")
      ->capture_default_str();
  app.add_option("--neutral-oversample", o->neutral_oversample,
                 "Neutral query candidates per missing query and round")
      ->capture_default_str();
  app.add_option("--workers", o->workers, "Synthesis processes (0 = --threads, else all cores)")
      ->capture_default_str();
  app.add_option("--embedder-model", *embedder_model,
                 "Dedup with this BERT-family model folder (all-MiniLM-L6-v2) instead of the embedded hashed "
                 "n-gram embedder");
  app.add_flag("--fsync", o->durable_audio, "fsync every audio file (power-loss safe, much slower)");
  app.add_option("--concurrency", o->concurrency, "openai backends: requests in flight")
      ->capture_default_str();
  app.add_option("--max-attempts", o->max_attempts,
                 "openai backends: attempts per request (timeouts, 429, 5xx)")
      ->capture_default_str();
  app.add_option("--request-timeout", o->request_timeout_s, "openai backends: seconds per request")
      ->capture_default_str();
  app.add_option("--retry-delay", o->retry_base_delay_s,
                 "openai backends: first retry delay in seconds (doubles)")
      ->capture_default_str();
  app.add_option("--llm-url", o->llm.base_url, "Chat-completions base URL (else $OPENAI_BASE_URL)");
  app.add_option("--llm-model", o->llm.model, "Chat model (else $SYMP_LLM_MODEL, else Qwen/Qwen3-32B)");
  app.add_option("--llm-key", o->llm.api_key, "API key (else $OPENAI_API_KEY; never logged or saved)");
  app.add_option("--query-temperature", o->llm.query_temperature, "Sampling temperature for queries")
      ->capture_default_str();
  app.add_option("--response-temperature", o->llm.response_temperature, "Sampling temperature for responses")
      ->capture_default_str();
  app.add_option("--query-thinking", o->llm.query_thinking, "enable_thinking for queries")
      ->capture_default_str();
  app.add_option("--response-thinking", o->llm.response_thinking, "enable_thinking for responses")
      ->capture_default_str();
  app.add_option("--max-tokens", o->llm.max_tokens, "Completion token limit (thinking included)")
      ->capture_default_str();
  app.add_option("--tts-url", o->tts.base_url,
                 "audio/speech base URL (else $OPENAI_TTS_BASE_URL, else --llm-url)");
  app.add_option("--tts-model", o->tts.model, "TTS model (else $SYMP_TTS_MODEL, else Qwen3-TTS)");
  app.add_option("--tts-key", o->tts.api_key, "TTS API key (else $OPENAI_API_KEY; never logged or saved)");
  return [o, embedder_model, &app](const symp::cli::GlobalOptions& g) {
    o->seed = g.seed;
    if (o->workers == 0) o->workers = g.threads;
    o->validate();
    // The saved configuration never holds a key (a rerun takes it from the environment again).
    app.get_option("--llm-key")->clear();
    app.get_option("--tts-key")->clear();
    symp::cli::save_effective_config(app, o->out_dir);
    std::unique_ptr<symp::text::Embedder> embedder;
    if (!embedder_model->empty()) embedder = symp::nn::make_bert_embedder(*embedder_model);
    const auto summary = symp::data::run_gen_data(*o, embedder.get());
    std::cout << symp::io::Json({{"out", o->out_dir},
                                 {"records", summary.records},
                                 {"made_now", summary.synthesized},
                                 {"audio_hours", summary.audio_hours},
                                 {"seconds", summary.seconds}})
                     .dump()
              << "\n";
    return 0;
  };
}

}  // namespace

SYMP_COMMAND(gen_data, "gen-data", 20, "Generate the emotional spoken dialogue corpus (Sympatheia-18k)",
             setup)
