#pragma once
// `symp transcribe`: ASR transcripts of reply audio from an OpenAI-compatible `/v1/audio/transcriptions`
// endpoint (whisper.cpp's server, vLLM, faster-whisper servers, OpenAI), for the similarity and WER the
// paper computes on what was said rather than on the model's own text (PAPER.md section 8). Reads infer's
// responses.jsonl (or any JSONL with `response_audio|audio|wav`), writes the same records with a
// `transcript` field added (null for a record without audio), which `symp judge` then uses.
// Transcripts are cached by audio bytes + model + language in a JSONL appended per reply, so a killed or
// failed run resumes without asking again.
#include <string>

namespace symp::judge {

struct TranscribeOptions {
  std::string responses;            // input JSONL
  std::string out;                  // output JSONL (the input's records plus `transcript`)
  std::string url;                  // base URL, e.g. http://127.0.0.1:8080/v1
  std::string model = "whisper-1";  // the `model` form field
  std::string language;             // optional `language` form field (e.g. "en")
  std::string api_key;              // else the variable named by api_key_env
  std::string api_key_env = "OPENAI_API_KEY";
  std::string cache_path;    // default: <out>.cache.jsonl
  double timeout_s = 120.0;  // per request
  int max_attempts = 5;      // HTTP attempts per request (408, 429, 5xx retried)
  void validate() const;     // UsageError naming the field
};

struct TranscribeSummary {
  size_t records = 0, transcribed = 0, cached = 0, without_audio = 0;
};

// HttpError / InputError naming the record (file:line) and the audio file for a reply that fails.
TranscribeSummary run_transcribe(const TranscribeOptions& options);

}  // namespace symp::judge
