#pragma once
// `symp gen-data`: regenerates the Sympatheia-18k corpus (PAPER.md section 3) at any scale.
//   DIR/manifest.jsonl   one record per query-response pair (see docs/gen-data.md for the fields)
//   DIR/audio/           queries/<query_id>.wav, responses/<id>.wav (16-bit PCM)
//   DIR/plan.json        every text, fixed before synthesis (what makes resuming exact)
//   DIR/datasheet.md, datasheet.json, durations.png
// Crash-safe: audio is written atomically and a record is appended only after its audio exists, so a
// run killed at any moment and started again with the same options finishes the same corpus.
#include <cstdint>
#include <string>
#include <vector>

#include "symp/data/plan.h"
#include "symp/text/embedder.h"

namespace symp::data {

struct OpenAiTextOptions {
  std::string base_url;  // e.g. http://localhost:8000/v1 (else $OPENAI_BASE_URL)
  std::string model;     // chat model name (else $SYMP_LLM_MODEL, else "Qwen/Qwen3-32B")
  std::string api_key;   // else $OPENAI_API_KEY; never logged or written
  double query_temperature = 0.85;
  double response_temperature = 0.7;
  bool query_thinking = false;    // chat_template_kwargs.enable_thinking for queries
  bool response_thinking = true;  // ... and for responses
  int max_tokens = 1024;
};

struct OpenAiSpeechOptions {
  std::string base_url;  // else $OPENAI_TTS_BASE_URL, else the text base URL
  std::string model;     // else $SYMP_TTS_MODEL, else "Qwen3-TTS"
  std::string api_key;   // else $OPENAI_API_KEY; never logged or written
};

struct GenDataOptions {
  std::string out_dir;                    // output folder (created; reused to resume)
  int per_emotion = 1000;                 // emotional split: unique queries per emotion
  int neutral_queries = 500;              // neutral split: queries, each answered for every emotion
  std::vector<std::string> emotions;      // empty: all 12 anchors
  std::string text_backend = "template";  // template | openai
  std::string tts_backend = "espeak";     // espeak | openai
  std::string grammar_dir;           // folder with topics/queries/responses/tts_style json (default data/gen)
  double dedup_threshold = 0.85;     // near-duplicate cosine
  double train_fraction = 0.7;       // share of unique queries in train
  double oversample = 1.5;           // emotional query candidates per missing query and round
  double neutral_oversample = 2.5;   // neutral query candidates per missing query and round
  int workers = 0;                   // espeak synthesis processes; 0 = all cores
  int concurrency = 4;               // requests in flight for the openai backends
  int max_attempts = 5;              // HTTP attempts per request (retries on timeouts, 429, 5xx)
  double retry_base_delay_s = 1.0;   // first retry delay; doubles per attempt (with jitter)
  double request_timeout_s = 120.0;  // per HTTP request
  bool durable_audio = false;        // fsync every audio file (survives power loss; ~25 ms per file)
  uint64_t seed = 42;
  OpenAiTextOptions llm;
  OpenAiSpeechOptions tts;

  void validate() const;
};

struct GenDataSummary {
  int64_t records = 0;      // records in the manifest at the end
  int64_t synthesized = 0;  // records made by this run (the rest were there already)
  double audio_hours = 0.0;
  double seconds = 0.0;  // wall time of this run
};

// Runs the whole job. `embedder` is used for dedup when given (e.g. MiniLM); otherwise the embedded
// HashedNgramEmbedder. UsageError when DIR holds a corpus planned with other options.
GenDataSummary run_gen_data(const GenDataOptions& options, symp::text::Embedder* embedder = nullptr);

}  // namespace symp::data
