// OpenAI-compatible text and speech backends for gen-data.
#include "symp/data/openai_backends.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <thread>

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/core/rng.h"
#include "symp/core/worker_pool.h"
#include "symp/data/templates.h"
#include "symp/io/jsonl.h"
#include "symp/io/openai_reply.h"

namespace symp::data {
namespace {

using io::Json;

std::string fill(std::string text, const std::map<std::string, std::string>& values) {
  for (const auto& [key, value] : values) {
    const std::string token = "{" + key + "}";
    for (size_t pos = text.find(token); pos != std::string::npos; pos = text.find(token, pos + value.size()))
      text.replace(pos, token.size(), value);
  }
  return text;
}

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::string env_or(const std::string& value, const char* name, const std::string& fallback) {
  if (!value.empty()) return value;
  if (const char* v = std::getenv(name); v != nullptr && *v != '\0') return v;
  return fallback;
}

}  // namespace

std::string strip_reasoning(const std::string& content) {
  std::string s = content;
  for (size_t open = s.find("<think>"); open != std::string::npos; open = s.find("<think>")) {
    const size_t close = s.find("</think>", open);
    s.erase(open, close == std::string::npos ? std::string::npos : close + 8 - open);
  }
  // Some servers put the opening tag in the prompt, so only the closing one comes back.
  if (const size_t close = s.find("</think>"); close != std::string::npos) s.erase(0, close + 8);
  s = trim(s);
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = trim(s.substr(1, s.size() - 2));
  return s;
}

ChatPrompts ChatPrompts::load(const std::string& dir) {
  ChatPrompts p;
  p.query_system = trim(read_text_file(dir + "/query_system.txt"));
  p.query_emotional = trim(read_text_file(dir + "/query_emotional.txt"));
  p.query_neutral = trim(read_text_file(dir + "/query_neutral.txt"));
  p.response_system = trim(read_text_file(dir + "/response_system.txt"));
  p.response_emotional = trim(read_text_file(dir + "/response_emotional.txt"));
  p.response_neutral = trim(read_text_file(dir + "/response_neutral.txt"));
  return p;
}

OpenAiTextOptions resolve_text_options(OpenAiTextOptions o) {
  o.base_url = env_or(o.base_url, "OPENAI_BASE_URL", "http://localhost:8000/v1");
  o.model = env_or(o.model, "SYMP_LLM_MODEL", "Qwen/Qwen3-32B");
  o.api_key = io::api_key_from(o.api_key, "OPENAI_API_KEY");
  while (!o.base_url.empty() && o.base_url.back() == '/') o.base_url.pop_back();
  return o;
}

OpenAiSpeechOptions resolve_speech_options(OpenAiSpeechOptions o, const OpenAiTextOptions& text) {
  o.base_url = env_or(o.base_url, "OPENAI_TTS_BASE_URL", text.base_url);
  o.model = env_or(o.model, "SYMP_TTS_MODEL", "Qwen3-TTS");
  if (o.api_key.empty()) o.api_key = text.api_key;  // the chat key, itself from $OPENAI_API_KEY if not given
  while (!o.base_url.empty() && o.base_url.back() == '/') o.base_url.pop_back();
  return o;
}

OpenAiTextBackend::OpenAiTextBackend(OpenAiTextOptions options, ChatPrompts prompts,
                                     std::vector<Topic> topics,
                                     std::map<std::string, EmotionGuidance> guidance,
                                     std::vector<std::string> sentiment_words, int concurrency,
                                     io::RetryPolicy retry, double timeout_s, std::string cache_path)
    : options_(std::move(options)),
      prompts_(std::move(prompts)),
      topics_(std::move(topics)),
      guidance_(std::move(guidance)),
      sentiment_words_(std::move(sentiment_words)),
      concurrency_(std::max(1, concurrency)),
      retry_(retry),
      timeout_s_(timeout_s),
      cache_path_(std::move(cache_path)) {
  if (!cache_path_.empty() && fs::exists(cache_path_))
    for (const auto& r : io::read_jsonl(cache_path_, /*tolerate_torn_tail=*/true))
      cache_[r.at("key").get<std::string>()] = r.at("text").get<std::string>();
}

TextResult OpenAiTextBackend::chat(const std::string& key, const std::string& system, const std::string& user,
                                   double temperature, bool thinking) {
  {
    std::lock_guard<std::mutex> lock(cache_mutex_);
    if (const auto it = cache_.find(key); it != cache_.end()) return {it->second, ""};
  }
  const Json body = {{"model", options_.model},
                     {"messages", Json::array({{{"role", "system"}, {"content", system}},
                                               {{"role", "user"}, {"content", user}}})},
                     {"temperature", temperature},
                     {"max_tokens", options_.max_tokens},
                     {"chat_template_kwargs", {{"enable_thinking", thinking}}}};
  const auto request =
      io::json_post(options_.base_url + "/chat/completions", body.dump(), options_.api_key, timeout_s_);
  std::string error;
  // Transport errors, 429 and 5xx are retried inside http_send_with_retry; a 200 with a body that is
  // not a usable completion is retried here, up to the same number of attempts.
  for (int attempt = 1; attempt <= retry_.max_attempts; ++attempt) {
    try {
      const io::HttpResponse response = io::http_send_with_retry(request, retry_);
      const std::optional<std::string> content = io::chat_completion_text(response.body);
      if (!content) throw RuntimeError("not a chat completion: " + response.body.substr(0, 200));
      const std::string text = strip_reasoning(*content);
      if (text.empty()) throw RuntimeError("empty completion");
      if (!cache_path_.empty()) {
        std::lock_guard<std::mutex> lock(cache_mutex_);
        cache_[key] = text;
        io::JsonlAppender(cache_path_, /*sync_each=*/false).append({{"key", key}, {"text", text}});
      }
      return {text, ""};
    } catch (const io::HttpError& e) {
      return {std::nullopt, e.what()};  // retries are exhausted or the status is final
    } catch (const std::exception& e) {
      error = fmt::format("malformed completion ({})", e.what());
      log_warn("gen-data", "{}: {} (attempt {}/{})", request.url, error, attempt, retry_.max_attempts);
    }
  }
  return {std::nullopt, error};
}

std::vector<TextResult> OpenAiTextBackend::run_all(size_t n, const std::function<TextResult(size_t)>& one) {
  std::vector<TextResult> out(n);
  parallel_for(n, concurrency_, [&](size_t i) { out[i] = one(i); });
  return out;
}

std::vector<TextResult> OpenAiTextBackend::queries(const std::vector<QuerySpec>& specs) {
  return run_all(specs.size(), [&](size_t i) -> TextResult {
    const QuerySpec& s = specs[i];
    const Topic& topic = topics_.at(static_cast<size_t>(s.topic) % topics_.size());
    Rng rng(s.seed);
    const std::string& task = topic.tasks[rng.below(topic.tasks.size())];
    const bool neutral = s.neutral_split || s.emotion == "neutral";
    const std::string user = fill(neutral ? prompts_.query_neutral : prompts_.query_emotional,
                                  {{"emotion", s.emotion}, {"topic", topic.name}, {"task", task}});
    TextResult r = chat(fmt::format("q/{}", s.seed), prompts_.query_system, user, options_.query_temperature,
                        options_.query_thinking);
    // A neutral query must not carry emotion: one that does is not usable (the planner asks again).
    if (r.text && neutral && has_sentiment(*r.text, sentiment_words_))
      return {std::nullopt, "neutral query with a sentiment word or '!': " + *r.text};
    return r;
  });
}

std::vector<TextResult> OpenAiTextBackend::responses(const std::vector<ResponseSpec>& specs) {
  return run_all(specs.size(), [&](size_t i) -> TextResult {
    const ResponseSpec& s = specs[i];
    const auto it = guidance_.find(s.emotion);
    const EmotionGuidance g =
        it == guidance_.end() ? EmotionGuidance{"help warmly", "ignoring the feeling"} : it->second;
    const std::string user =
        fill(s.neutral_split ? prompts_.response_neutral : prompts_.response_emotional,
             {{"query", s.query_text}, {"emotion", s.emotion}, {"goal", g.goal}, {"avoid", g.avoid}});
    return chat(fmt::format("r/{}", s.seed), prompts_.response_system, user, options_.response_temperature,
                options_.response_thinking);
  });
}

std::string OpenAiTextBackend::describe() const {
  return fmt::format(
      "openai chat completions ({} at {}; queries T {} thinking {}, responses T {} thinking {})",
      options_.model, options_.base_url, options_.query_temperature, options_.query_thinking ? "on" : "off",
      options_.response_temperature, options_.response_thinking ? "on" : "off");
}

OpenAiSpeechBackend::OpenAiSpeechBackend(OpenAiSpeechOptions options, io::RetryPolicy retry, double timeout_s)
    : options_(std::move(options)), retry_(retry), timeout_s_(timeout_s) {}

io::Audio OpenAiSpeechBackend::synthesize(const std::string& text, const SpeechStyle& style) {
  const Json body = {{"model", options_.model},
                     {"input", text},
                     {"voice", style.voice},
                     {"instructions", style.instructions},
                     {"response_format", "wav"}};
  const auto request =
      io::json_post(options_.base_url + "/audio/speech", body.dump(), options_.api_key, timeout_s_);
  std::string error;
  for (int attempt = 1; attempt <= retry_.max_attempts; ++attempt) {
    const io::HttpResponse response = io::http_send_with_retry(request, retry_);  // HttpError when exhausted
    // Decode through libsndfile: the body goes to a private temporary file.
    char path[] = "/tmp/symp-tts-XXXXXX";
    const int fd = ::mkstemp(path);
    if (fd < 0) throw RuntimeError("gen-data: cannot create a temporary file for TTS audio");
    const bool wrote =
        ::write(fd, response.body.data(), response.body.size()) == static_cast<ssize_t>(response.body.size());
    ::close(fd);
    try {
      if (!wrote) throw RuntimeError("cannot write the temporary file");
      io::Audio audio = io::read_audio(path);
      ::unlink(path);
      if (audio.samples.empty()) throw RuntimeError("no samples");
      return audio;
    } catch (const std::exception& e) {
      ::unlink(path);
      error = e.what();
      log_warn("gen-data", "{}: unusable audio ({}) (attempt {}/{})", request.url, error, attempt,
               retry_.max_attempts);
    }
  }
  throw RuntimeError(
      fmt::format("{}: no usable audio after {} attempts: {}", request.url, retry_.max_attempts, error));
}

std::string OpenAiSpeechBackend::describe() const {
  return fmt::format("openai audio/speech ({} at {}, style via instructions)", options_.model,
                     options_.base_url);
}

}  // namespace symp::data
