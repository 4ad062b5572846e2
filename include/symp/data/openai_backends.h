#pragma once
// gen-data backends for OpenAI-compatible servers (vLLM, SGLang, llama.cpp server, Qwen3-TTS servers).
// Text: POST {base}/chat/completions with chat_template_kwargs.enable_thinking (PAPER.md section 3:
// queries without thinking at T 0.85, responses with thinking at T 0.7); the reasoning
// (<think>...</think>, reasoning_content) never reaches the stored text. Speech: POST
// {base}/audio/speech with `instructions` carrying the style. Requests run `concurrency` at a time with
// retries (io::http_send_with_retry); an item that still fails is returned as failed, not thrown.
// The API key is sent as a bearer token and never logged or written.
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "symp/data/gen_data.h"
#include "symp/data/speech_backend.h"
#include "symp/data/text_backend.h"
#include "symp/io/http.h"

namespace symp::data {

// Removes <think>...</think> blocks (and a dangling "...</think>" prefix), then surrounding
// whitespace and quotes.
std::string strip_reasoning(const std::string& content);

struct ChatPrompts {
  std::string query_system, query_emotional, query_neutral;           // {emotion} {topic} {task}
  std::string response_system, response_emotional, response_neutral;  // {query} {emotion} {goal} {avoid}
  static ChatPrompts load(const std::string& dir);                    // DIR/*.txt (data/gen/prompts)
};

struct EmotionGuidance {
  std::string goal, avoid;  // from responses.json
};

class OpenAiTextBackend : public TextBackend {
 public:
  // `cache_path`: a JSONL file of texts already made ({"key", "text"}), read at start and appended to,
  // so a rerun after a crash does not ask the server again. Empty: no cache.
  OpenAiTextBackend(OpenAiTextOptions options, ChatPrompts prompts, std::vector<Topic> topics,
                    std::map<std::string, EmotionGuidance> guidance, std::vector<std::string> sentiment_words,
                    int concurrency, io::RetryPolicy retry, double timeout_s, std::string cache_path);
  std::vector<TextResult> queries(const std::vector<QuerySpec>& specs) override;
  std::vector<TextResult> responses(const std::vector<ResponseSpec>& specs) override;
  std::string describe() const override;

 private:
  TextResult chat(const std::string& key, const std::string& system, const std::string& user,
                  double temperature, bool thinking);
  std::vector<TextResult> run_all(size_t n, const std::function<TextResult(size_t)>& one);

  OpenAiTextOptions options_;
  ChatPrompts prompts_;
  std::vector<Topic> topics_;
  std::map<std::string, EmotionGuidance> guidance_;
  std::vector<std::string> sentiment_words_;
  int concurrency_;
  io::RetryPolicy retry_;
  double timeout_s_;
  std::string cache_path_;
  std::map<std::string, std::string> cache_;
  std::mutex cache_mutex_;
};

class OpenAiSpeechBackend : public SpeechBackend {
 public:
  OpenAiSpeechBackend(OpenAiSpeechOptions options, io::RetryPolicy retry, double timeout_s);
  // Thread-safe. RuntimeError when the server still fails after the retries or returns no audio.
  io::Audio synthesize(const std::string& text, const SpeechStyle& style) override;
  std::string describe() const override;

 private:
  OpenAiSpeechOptions options_;
  io::RetryPolicy retry_;
  double timeout_s_;
};

// Fills base URL, model and key from the environment where the options leave them empty:
// OPENAI_BASE_URL, SYMP_LLM_MODEL, OPENAI_API_KEY; OPENAI_TTS_BASE_URL, SYMP_TTS_MODEL.
OpenAiTextOptions resolve_text_options(OpenAiTextOptions o);
OpenAiSpeechOptions resolve_speech_options(OpenAiSpeechOptions o, const OpenAiTextOptions& text);

}  // namespace symp::data
