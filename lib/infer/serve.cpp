// `symp serve`: the HTTP routes over the generation engine. The transport is symp/serve/http_server.h, the
// request parsing symp/serve/api.h; this file decides what each route answers.
#include "symp/serve/serve.h"

#include <signal.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/core/rng.h"
#include "symp/data/espeak_tts.h"
#include "symp/io/audio.h"
#include "symp/io/base64.h"
#include "symp/serve/http_server.h"
#include "symp/serve/page.h"

namespace symp::serve {
namespace {

using io::Json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

Clock::time_point after(Clock::time_point t, double seconds) {
  return t + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

// Compares in time that depends on the lengths only, never on where the strings first differ.
bool same_secret(const std::string& given, const std::string& expected) {
  const size_t n = std::max(given.size(), expected.size());
  unsigned diff = given.size() == expected.size() ? 0u : 1u;
  for (size_t i = 0; i < n; ++i) {
    const auto a = static_cast<unsigned char>(i < given.size() ? given[i] : 0);
    const auto b = static_cast<unsigned char>(i < expected.size() ? expected[i] : 0);
    diff |= static_cast<unsigned>(a ^ b);
  }
  return diff == 0;
}

// The bounded pool: `max_active` replies run, `max_waiting` more wait for a slot; the rest are refused.
class Admission {
 public:
  Admission(int max_active, int max_waiting) : max_active_(max_active), max_waiting_(max_waiting) {}

  enum class Result { Admitted, Full, TimedOut, Gone };

  // Waits for a slot until `deadline`; `gone` is polled while waiting (a client that left gives up its
  // place).
  Result acquire(Clock::time_point deadline, const std::function<bool()>& gone) {
    std::unique_lock<std::mutex> lock(mutex_);
    if (active_ < max_active_) {
      ++active_;
      return Result::Admitted;
    }
    if (waiting_ >= max_waiting_) return Result::Full;
    ++waiting_;
    Result result = Result::TimedOut;
    while (Clock::now() < deadline) {
      if (freed_.wait_for(lock, std::chrono::milliseconds(100), [&] { return active_ < max_active_; })) {
        ++active_;
        result = Result::Admitted;
        break;
      }
      if (gone && gone()) {
        result = Result::Gone;
        break;
      }
    }
    --waiting_;
    return result;
  }
  void release() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      --active_;
    }
    freed_.notify_one();
  }
  int active() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return active_;
  }
  int waiting() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return waiting_;
  }

 private:
  const int max_active_, max_waiting_;
  mutable std::mutex mutex_;
  std::condition_variable freed_;
  int active_ = 0, waiting_ = 0;
};

struct Slot {
  explicit Slot(Admission& a) : admission(a) {}
  ~Slot() { admission.release(); }
  Admission& admission;
};

std::string sse(const Json& event) {
  return "data: " + event.dump() + "\n\n";
}

// A chat completion's token counts.
Json usage(const infer::Reply& reply) {
  return {{"prompt_tokens", reply.prompt_tokens},
          {"completion_tokens", reply.generated_tokens},
          {"total_tokens", reply.prompt_tokens + reply.generated_tokens}};
}

class Service {
 public:
  Service(const ServeOptions& o, infer::Engine& engine)
      : o_(o),
        engine_(engine),
        admission_(o.max_concurrency, o.max_queue),
        ids_(std::random_device{}()),
        seeds_(o.seed) {
    if (!o.api_key_env.empty()) api_key_ = std::getenv(o.api_key_env.c_str());
  }

  HttpHandlers handlers() {
    HttpHandlers h;
    h.on_request = [this](const HttpRequest& r, ResponseWriter& w) { handle(r, w); };
    h.accepts_websocket = [this](const HttpRequest& r) {
      return r.path == "/v1/realtime" && authorized(r, /*websocket=*/true);
    };
    h.on_websocket = [this](const HttpRequest& r, WebSocketConnection& ws) { realtime(r, ws); };
    return h;
  }

 private:
  const ServeOptions& o_;
  infer::Engine& engine_;
  Admission admission_;
  std::string api_key_;
  std::mutex rng_mutex_;
  std::mt19937_64 ids_;  // response ids: unpredictable
  Rng seeds_;            // sampling seeds of requests without one: repeatable from --seed

  void send_error(ResponseWriter& w, const ApiError& e) {
    HeaderList headers;
    if (e.status == 429) headers["Retry-After"] = "1";
    if (e.status == 401) headers["WWW-Authenticate"] = "Bearer";
    w.send(e.status, "application/json", error_object(e).dump(), headers);
  }

  void send_json(ResponseWriter& w, const Json& body) { w.send(200, "application/json", body.dump()); }

  // The bearer key, or for a WebSocket from a browser (which cannot set headers) the subprotocol
  // "openai-insecure-api-key.KEY", as OpenAI's Realtime API takes it.
  bool authorized(const HttpRequest& r, bool websocket = false) {
    if (api_key_.empty()) return true;
    const std::string auth = r.header("authorization");
    const std::string prefix = "Bearer ";
    if (auth.compare(0, prefix.size(), prefix) == 0 && same_secret(auth.substr(prefix.size()), api_key_))
      return true;
    if (!websocket) return false;
    const std::string marker = "openai-insecure-api-key.";
    const std::string protocols = r.header("sec-websocket-protocol");
    for (size_t pos = 0; pos < protocols.size();) {
      size_t end = protocols.find(',', pos);
      if (end == std::string::npos) end = protocols.size();
      std::string p = protocols.substr(pos, end - pos);
      p.erase(0, p.find_first_not_of(' '));
      if (p.compare(0, marker.size(), marker) == 0 && same_secret(p.substr(marker.size()), api_key_))
        return true;
      pos = end + 1;
    }
    return false;
  }

  void check_key(const HttpRequest& r) {
    if (!authorized(r))
      throw ApiError(401, "authentication_error", "", "invalid_api_key",
                     "missing or wrong API key (send it as 'Authorization: Bearer KEY')");
  }

  std::mutex tts_mutex_;
  std::unique_ptr<data::EspeakBackend> tts_;
  std::optional<data::SpeechStyle> tts_style_;

  io::Audio speak(const std::string& text) {
    std::lock_guard<std::mutex> lock(tts_mutex_);
    if (!tts_) {
      const auto table = data::TtsStyleTable::load(data_path("gen/tts_style.json").string());
      if (table.espeak_query_voices.empty()) throw RuntimeError("tts_style.json: no espeak query voice");
      tts_ = std::make_unique<data::EspeakBackend>(table);
      tts_style_ = table.query_style("neutral", affect::VA{0, 0}, table.espeak_query_voices.front());
    }
    return tts_->synthesize(text, *tts_style_);
  }

  std::string new_id(const char* prefix) {
    std::lock_guard<std::mutex> lock(rng_mutex_);
    return fmt::format("{}{:016x}", prefix, ids_());
  }

  uint64_t new_seed() {
    std::lock_guard<std::mutex> lock(rng_mutex_);
    return seeds_.engine()();
  }

  void handle(const HttpRequest& r, ResponseWriter& w) {
    try {
      if (r.method == "GET" && r.path == "/") {
        w.send(200, "text/html; charset=utf-8", page_html());
        return;
      }
      if (r.method == "GET" && r.path == "/favicon.ico") {
        w.send(204, "image/x-icon", "");
        return;
      }
      check_key(r);
      if (r.method == "GET" && r.path == "/health") {
        send_json(w, {{"status", "ok"},
                      {"systems", engine_.systems()},
                      {"codec", engine_.describe_codec()},
                      {"in_flight", admission_.active()},
                      {"queued", admission_.waiting()},
                      {"max_concurrency", o_.max_concurrency}});
      } else if (r.method == "GET" && r.path == "/v1/models") {
        Json data = Json::array();
        for (const auto& name : engine_.systems()) {
          const auto adapter = engine_.adapter_dir(name);
          data.push_back({{"id", name},
                          {"object", "model"},
                          {"created", 0},
                          {"owned_by", "symp"},
                          {"kind", adapter.empty() ? "base" : "lora"},
                          {"prompt_style", engine_.prompt_style(name)}});
        }
        send_json(w, {{"object", "list"}, {"data", data}});
      } else if (r.method == "GET" && r.path == "/v1/affect/anchors") {
        Json data = Json::array();
        for (const auto& a : affect::AnchorSet::builtin().all())
          data.push_back({{"emotion", a.name},
                          {"valence", a.va.valence},
                          {"arousal", a.va.arousal},
                          {"prompt", affect::system_prompt(a.va)}});
        send_json(w, {{"object", "list"}, {"data", data}});
      } else if (r.path == "/v1/realtime") {
        throw ApiError(426, "invalid_request_error", "", "upgrade_required",
                       "/v1/realtime is a WebSocket endpoint (connect with ws://)");
      } else if (r.path == "/v1/chat/completions") {
        if (r.method != "POST")
          throw ApiError(405, "invalid_request_error", "", "method_not_allowed", "use POST");
        chat(r, w);
      } else {
        throw ApiError(404, "invalid_request_error", "", "not_found", "no route " + r.method + " " + r.path);
      }
    } catch (const ApiError& e) {
      send_error(w, e);
    } catch (const InputError& e) {
      send_error(w, bad_request("", e.what()));
    } catch (const std::exception& e) {
      log_error("serve", "{} {}: {}", r.method, r.path, e.what());
      send_error(w, ApiError(500, "server_error", "", "", "internal error"));
    }
  }

  void chat(const HttpRequest& http, ResponseWriter& w) {
    const auto t0 = Clock::now();
    const ChatRequest req = parse_chat_request(http.body, o_.limits);
    const std::string system = req.model.empty() ? engine_.systems().front() : req.model;
    if (!engine_.has_system(system)) {
      std::string known;
      for (const auto& s : engine_.systems()) known += (known.empty() ? "" : ", ") + s;
      throw ApiError(400, "invalid_request_error", "model", "model_not_found",
                     "model: no system '" + system + "' (this server has " + known + ")");
    }
    io::Audio audio;
    if (req.audio.empty()) {
      // Text only: the model answers speech, so the text is read out first by the embedded TTS, in the
      // neutral voice the corpus's neutral queries use.
      audio = speak(req.text);
    } else {
      try {
        audio = io::decode_audio_bytes(req.audio, req.audio_param);
      } catch (const Error& e) {
        throw bad_request(req.audio_param, e.what(), "invalid_audio");
      }
    }
    if (audio.duration() > o_.limits.max_audio_seconds)
      throw bad_request(req.audio_param,
                        fmt::format("{:.1f} s of audio is over this server's limit of {:.0f} s",
                                    audio.duration(), o_.limits.max_audio_seconds),
                        "audio_too_long");
    Rng unused(0);  // a request's condition has no noise
    const auto condition = affect::resolve_condition(req.affect, unused);

    const auto deadline =
        t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.request_timeout_s));
    const auto queue_deadline =
        t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o_.queue_timeout_s));
    switch (admission_.acquire(std::min(deadline, queue_deadline), [&] { return w.client_gone(); })) {
      case Admission::Result::Admitted:
        break;
      case Admission::Result::Full:
        throw ApiError(429, "rate_limit_error", "", "server_busy",
                       fmt::format("all {} slots and the queue of {} are taken; retry shortly",
                                   o_.max_concurrency, o_.max_queue));
      case Admission::Result::TimedOut:
        throw ApiError(429, "rate_limit_error", "", "server_busy",
                       "no slot came free in time; retry shortly");
      case Admission::Result::Gone:
        return;
    }
    Slot slot(admission_);
    const double queued_s = seconds_since(t0);

    infer::ReplyRequest rr;
    rr.system = system;
    rr.query_codes = with_context(req.audio_param, [&] { return engine_.encode(audio); });
    rr.condition = condition.used;
    rr.emotion = req.affect.source() == affect::ConditionSource::Emotion ? condition.label : "";
    rr.sampling = o_.sampling;
    if (req.temperature) rr.sampling.temperature = *req.temperature;
    if (req.top_p) rr.sampling.top_p = *req.top_p;
    if (req.max_tokens) rr.sampling.max_new_tokens = *req.max_tokens;
    rr.seed = req.seed ? *req.seed : new_seed();
    rr.decode_audio = req.want_audio;
    rr.stream_audio = req.stream;
    const std::string prompt = engine_.system_prompt(system, rr.condition, rr.emotion);
    Json affect_echo = describe_condition(condition, prompt);
    const char* input_speech =
        req.audio.empty() ? "the text, read by espeak-ng (symp's embedded TTS)" : "the user's audio";

    const std::string id = new_id("chatcmpl-");
    const std::string audio_id = new_id("audio_");
    const auto created = static_cast<int64_t>(std::time(nullptr));
    bool timed_out = false;
    auto past_deadline = [&] { return timed_out = timed_out || Clock::now() > deadline; };

    if (!req.stream) {
      infer::ReplyEvents events;
      events.cancelled = [&] { return past_deadline() || w.client_gone(); };
      const auto reply = engine_.reply(rr, events);
      if (timed_out)
        throw ApiError(
            504, "server_error", "", "timeout",
            fmt::format("the reply took longer than this server's {:.0f} s", o_.request_timeout_s));
      if (reply.stopped == "cancelled") {
        log_info("serve", "{}: client gone after {} tokens; reply cancelled", id, reply.generated_tokens);
        return;
      }
      Json message = {{"role", "assistant"}, {"content", reply.text}};
      if (req.want_audio) {
        const io::Audio out{reply.audio, engine_.output_sample_rate()};
        const std::string bytes =
            req.audio_format == "wav" ? io::encode_wav_bytes(out) : io::to_pcm16(out.samples);
        message["audio"] = {
            {"id", audio_id},           {"data", io::base64_encode(bytes)}, {"expires_at", created + 3600},
            {"transcript", reply.text}, {"format", req.audio_format},       {"sample_rate", out.sample_rate}};
      }
      send_json(w, {{"id", id},
                    {"object", "chat.completion"},
                    {"created", created},
                    {"model", system},
                    {"system_fingerprint", "symp"},
                    {"choices",
                     {{{"index", 0},
                       {"message", message},
                       {"finish_reason", reply.stopped == "max_new_tokens" ? "length" : "stop"}}}},
                    {"usage", usage(reply)},
                    {"affect", affect_echo},
                    {"input_speech", input_speech},
                    {"seed", rr.seed},
                    {"timing",
                     {{"queued_seconds", queued_s},
                      {"generation_seconds", reply.generation_seconds},
                      {"decode_seconds", reply.decode_seconds},
                      {"total_seconds", seconds_since(t0)}}}});
      return;
    }

    // Streaming: server-sent events, one chat.completion.chunk each, then [DONE].
    auto chunk = [&](const Json& delta, const Json& finish = nullptr) {
      return Json{{"id", id},
                  {"object", "chat.completion.chunk"},
                  {"created", created},
                  {"model", system},
                  {"system_fingerprint", "symp"},
                  {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}};
    };
    w.start_stream(200, "text/event-stream");
    Json first = chunk({{"role", "assistant"}, {"content", ""}});
    first["affect"] = affect_echo;
    first["input_speech"] = input_speech;
    first["seed"] = rr.seed;
    bool open = w.write(sse(first));
    double first_audio_s = -1;
    infer::ReplyEvents events;
    events.on_text = [&](const std::string& piece) {
      if (open) open = w.write(sse(chunk({{"content", piece}})));
    };
    events.on_audio = [&](const std::vector<float>& pcm) {
      if (!open || !req.want_audio) return;
      if (first_audio_s < 0) first_audio_s = seconds_since(t0);
      Json c = chunk({{"audio", {{"id", audio_id}, {"data", io::base64_encode(io::to_pcm16(pcm))}}}});
      c["audio_sample_rate"] = engine_.output_sample_rate();
      open = w.write(sse(c));
    };
    events.cancelled = [&] { return !open || past_deadline(); };
    const auto reply = engine_.reply(rr, events);
    if (!open)
      log_info("serve", "{}: client gone after {} tokens; reply cancelled", id, reply.generated_tokens);
    if (open && timed_out) {
      w.write(sse(error_object(
          ApiError(504, "server_error", "", "timeout",
                   fmt::format("the reply took longer than this server's {:.0f} s", o_.request_timeout_s)))));
    } else if (open) {
      Json last = chunk(Json::object(), reply.stopped == "max_new_tokens" ? "length" : "stop");
      if (req.want_audio)
        last["choices"][0]["delta"]["audio"] = {{"id", audio_id}, {"transcript", reply.text}};
      last["usage"] = usage(reply);
      last["timing"] = {{"queued_seconds", queued_s},
                        {"generation_seconds", reply.generation_seconds},
                        {"decode_seconds", reply.decode_seconds},
                        {"first_audio_seconds", first_audio_s >= 0 ? Json(first_audio_s) : Json(nullptr)},
                        {"total_seconds", seconds_since(t0)}};
      w.write(sse(last));
    }
    w.write("data: [DONE]\n\n");
    w.end_stream();
  }

  // ---- /v1/realtime: the core of OpenAI's Realtime API over one WebSocket ----
  struct RealtimeSession {
    std::string id, system;
    affect::ConditionOptions affect;
    int input_rate = 24000;  // PCM16 mono the client appends (the Realtime API's default rate)
    std::optional<double> temperature;
    std::optional<int> max_tokens;
    std::string buffer;     // PCM16 bytes appended and not yet committed
    std::string committed;  // the last committed turn
    std::string item_id;
  };

  Json session_json(const RealtimeSession& s) {
    Rng unused(0);
    const auto c = affect::resolve_condition(s.affect, unused);
    Json j = {{"id", s.id},
              {"object", "realtime.session"},
              {"model", s.system},
              {"modalities", {"text", "audio"}},
              {"input_audio_format", "pcm16"},
              {"output_audio_format", "pcm16"},
              {"input_sample_rate", s.input_rate},
              {"output_sample_rate", engine_.output_sample_rate()},
              {"affect", describe_condition(c, engine_.system_prompt(s.system, c.used))}};
    if (s.temperature) j["temperature"] = *s.temperature;
    if (s.max_tokens) j["max_response_output_tokens"] = *s.max_tokens;
    return j;
  }

  void apply_session_update(RealtimeSession& s, const Json& session) {
    if (!session.is_object()) throw bad_request("session", "expected an object", "invalid_type");
    RealtimeSession next = s;
    if (session.contains("model") && !session["model"].is_null()) {
      if (!session["model"].is_string())
        throw bad_request("session.model", "expected a string", "invalid_type");
      const auto m = session["model"].get<std::string>();
      if (!engine_.has_system(m))
        throw ApiError(400, "invalid_request_error", "session.model", "model_not_found",
                       "session.model: no system '" + m + "'");
      next.system = m;
    }
    if (session.contains("affect")) {
      next.affect = session["affect"].is_null() ? affect::ConditionOptions{}
                                                : parse_affect(session["affect"], "session.affect");
    }
    if (session.contains("input_audio_format") && session["input_audio_format"] != "pcm16")
      throw bad_request("session.input_audio_format", "this server takes pcm16", "unsupported_format");
    if (session.contains("input_sample_rate")) {
      const auto& r = session["input_sample_rate"];
      if (!r.is_number_integer() || r.get<int64_t>() < 8000 || r.get<int64_t>() > 96000)
        throw bad_request("session.input_sample_rate", "expected an integer rate in [8000, 96000]");
      next.input_rate = static_cast<int>(r.get<int64_t>());
    }
    if (session.contains("temperature")) {
      const auto& t = session["temperature"];
      if (!t.is_number() || !(t.get<double>() >= 0 && t.get<double>() <= 2))
        throw bad_request("session.temperature", "expected a number in [0, 2]");
      next.temperature = t.get<double>();
    }
    if (session.contains("max_response_output_tokens")) {
      const auto& t = session["max_response_output_tokens"];
      if (t == "inf") {
        next.max_tokens.reset();
      } else if (!t.is_number_integer() || t.get<int64_t>() < 1 || t.get<int64_t>() > o_.limits.max_tokens) {
        throw bad_request("session.max_response_output_tokens",
                          fmt::format("expected an integer in [1, {}] or \"inf\"", o_.limits.max_tokens));
      } else {
        next.max_tokens = static_cast<int>(t.get<int64_t>());
      }
    }
    s = std::move(next);
  }

  void realtime(const HttpRequest& http, WebSocketConnection& ws) {
    RealtimeSession s;
    s.id = new_id("sess_");
    s.system = engine_.systems().front();
    const std::string query = http.query;
    const std::string key = "model=";
    if (const auto at = query.find(key); at != std::string::npos) {
      const auto m = query.substr(at + key.size(), query.find('&', at) - at - key.size());
      if (engine_.has_system(m)) s.system = m;
    }
    auto send = [&](Json event) {
      event["event_id"] = new_id("event_");
      return ws.send(event.dump());
    };
    auto send_error = [&](const ApiError& e, const std::string& event_id = "") {
      Json err = error_object(e)["error"];
      if (!event_id.empty()) err["event_id"] = event_id;
      send({{"type", "error"}, {"error", err}});
    };
    send({{"type", "session.created"}, {"session", session_json(s)}});
    std::deque<std::string> pending;  // messages read while a response was generating
    for (;;) {
      std::optional<std::string> message;
      if (!pending.empty()) {
        message = std::move(pending.front());
        pending.pop_front();
      } else {
        message = ws.receive();
      }
      if (!message) return;
      std::string event_id;
      try {
        if (io::json_too_deep(*message)) throw bad_request("", "the event nests too deeply", "invalid_json");
        Json e;
        try {
          e = Json::parse(*message);
        } catch (const std::exception& ex) {
          throw bad_request("", std::string("the event is not valid JSON: ") + ex.what(), "invalid_json");
        }
        if (!e.is_object() || !e.contains("type") || !e["type"].is_string())
          throw bad_request("type", "every event needs a string 'type'", "missing_required_parameter");
        if (e.contains("event_id") && e["event_id"].is_string()) event_id = e["event_id"].get<std::string>();
        const auto type = e["type"].get<std::string>();
        if (type == "session.update") {
          if (!e.contains("session")) throw bad_request("session", "required", "missing_required_parameter");
          apply_session_update(s, e["session"]);
          send({{"type", "session.updated"}, {"session", session_json(s)}});
        } else if (type == "input_audio_buffer.append") {
          if (!e.contains("audio") || !e["audio"].is_string())
            throw bad_request("audio", "expected base64 PCM16", "missing_required_parameter");
          std::string pcm;
          try {
            pcm = io::base64_decode(e["audio"].get<std::string>(), "audio");
          } catch (const Error& ex) {
            throw bad_request("audio", ex.what(), "invalid_base64");
          }
          if (pcm.size() % 2 != 0) throw bad_request("audio", "PCM16 needs an even number of bytes");
          if ((s.buffer.size() + pcm.size()) / 2.0 / s.input_rate > o_.limits.max_audio_seconds)
            throw bad_request("audio",
                              fmt::format("the buffer would hold more than this server's {:.0f} s",
                                          o_.limits.max_audio_seconds),
                              "audio_too_long");
          s.buffer += pcm;
        } else if (type == "input_audio_buffer.clear") {
          s.buffer.clear();
          send({{"type", "input_audio_buffer.cleared"}});
        } else if (type == "input_audio_buffer.commit") {
          if (s.buffer.empty())
            throw bad_request("", "the input audio buffer is empty", "input_audio_buffer_commit_empty");
          s.committed = std::move(s.buffer);
          s.buffer.clear();
          s.item_id = new_id("item_");
          send({{"type", "input_audio_buffer.committed"},
                {"item_id", s.item_id},
                {"previous_item_id", nullptr}});
        } else if (type == "response.create") {
          respond(s, e, ws, send, pending);
        } else if (type == "response.cancel") {
          send_error(bad_request("", "no response in progress", "response_cancel_not_active"), event_id);
        } else {
          throw bad_request("type",
                            "'" + type +
                                "': this server takes session.update, input_audio_buffer.append, "
                                "commit and clear, response.create and response.cancel",
                            "unknown_event");
        }
      } catch (const ApiError& ex) {
        send_error(ex, event_id);
      } catch (const InputError& ex) {
        send_error(bad_request("", ex.what()), event_id);
      } catch (const std::exception& ex) {
        log_error("serve", "realtime {}: {}", s.id, ex.what());
        send_error(ApiError(500, "server_error", "", "", "internal error"), event_id);
      }
    }
  }

  template <class Send>
  void respond(RealtimeSession& s, const Json& event, WebSocketConnection& ws, Send& send,
               std::deque<std::string>& pending) {
    affect::ConditionOptions affect_options = s.affect;
    if (event.contains("response") && event["response"].is_object() && event["response"].contains("affect"))
      affect_options = parse_affect(event["response"]["affect"], "response.affect");
    if (s.committed.empty())
      throw bad_request("", "no committed input audio (append, then input_audio_buffer.commit)",
                        "input_audio_missing");
    const auto t0 = Clock::now();
    if (admission_.acquire(after(t0, o_.queue_timeout_s), {}) != Admission::Result::Admitted)
      throw ApiError(429, "rate_limit_error", "", "server_busy", "every slot is taken; retry shortly");
    Slot slot(admission_);
    const io::Audio input{io::from_pcm16(s.committed), s.input_rate};
    Rng unused(0);
    const auto condition = affect::resolve_condition(affect_options, unused);
    infer::ReplyRequest rr;
    rr.system = s.system;
    rr.query_codes = engine_.encode(input);
    rr.condition = condition.used;
    rr.emotion = affect_options.source() == affect::ConditionSource::Emotion ? condition.label : "";
    rr.sampling = o_.sampling;
    if (s.temperature) rr.sampling.temperature = *s.temperature;
    if (s.max_tokens) rr.sampling.max_new_tokens = *s.max_tokens;
    rr.seed = new_seed();
    rr.stream_audio = true;
    const std::string response_id = new_id("resp_"), item_id = new_id("item_");
    const Json affect_echo =
        describe_condition(condition, engine_.system_prompt(s.system, rr.condition, rr.emotion));
    send({{"type", "response.created"},
          {"response",
           {{"id", response_id},
            {"object", "realtime.response"},
            {"status", "in_progress"},
            {"affect", affect_echo}}}});
    bool cancelled = false, open = true;
    double first_audio_s = -1;
    infer::ReplyEvents events;
    events.on_text = [&](const std::string& piece) {
      if (open)
        open = send({{"type", "response.audio_transcript.delta"},
                     {"response_id", response_id},
                     {"item_id", item_id},
                     {"output_index", 0},
                     {"content_index", 0},
                     {"delta", piece}});
    };
    events.on_audio = [&](const std::vector<float>& pcm) {
      if (!open) return;
      if (first_audio_s < 0) first_audio_s = seconds_since(t0);
      open = send({{"type", "response.audio.delta"},
                   {"response_id", response_id},
                   {"item_id", item_id},
                   {"output_index", 0},
                   {"content_index", 0},
                   {"delta", io::base64_encode(io::to_pcm16(pcm))}});
    };
    // Between steps: read what the client sent; a response.cancel ends this reply, anything else waits.
    events.cancelled = [&] {
      while (open && !cancelled && ws.readable()) {
        auto m = ws.receive();
        if (!m) {
          open = false;
          break;
        }
        if (m->find("\"response.cancel\"") != std::string::npos) {
          try {
            if (Json::parse(*m).value("type", "") == "response.cancel") {
              cancelled = true;
              break;
            }
          } catch (const std::exception&) {
          }
        }
        pending.push_back(std::move(*m));
      }
      return cancelled || !open;
    };
    const auto reply = engine_.reply(rr, events);
    if (!open) return;
    if (!cancelled) {
      send({{"type", "response.audio.done"}, {"response_id", response_id}, {"item_id", item_id}});
      send({{"type", "response.audio_transcript.done"},
            {"response_id", response_id},
            {"item_id", item_id},
            {"transcript", reply.text}});
    }
    send({{"type", "response.done"},
          {"response",
           {{"id", response_id},
            {"object", "realtime.response"},
            {"status", cancelled ? "cancelled" : "completed"},
            {"output",
             {{{"id", item_id},
               {"type", "message"},
               {"role", "assistant"},
               {"content", {{{"type", "audio"}, {"transcript", reply.text}}}}}}},
            {"usage",
             {{"input_tokens", reply.prompt_tokens},
              {"output_tokens", reply.generated_tokens},
              {"total_tokens", reply.prompt_tokens + reply.generated_tokens}}},
            {"affect", affect_echo},
            {"timing",
             {{"first_audio_seconds", first_audio_s >= 0 ? Json(first_audio_s) : Json(nullptr)},
              {"generation_seconds", reply.generation_seconds},
              {"total_seconds", seconds_since(t0)}}}}}});
  }
};

volatile std::sig_atomic_t g_stop_signal = 0;
void on_stop_signal(int sig) {
  g_stop_signal = sig;
}

}  // namespace

void ServeOptions::validate() const {
  if (max_concurrency < 1)
    throw UsageError(fmt::format("--max-concurrency: must be >= 1, got {}", max_concurrency));
  if (max_queue < 0) throw UsageError(fmt::format("--max-queue: must be >= 0, got {}", max_queue));
  if (port < 0 || port > 65535) throw UsageError(fmt::format("--port: must be in [0, 65535], got {}", port));
  if (!(request_timeout_s > 0)) throw UsageError("--request-timeout: must be > 0");
  if (!(queue_timeout_s > 0)) throw UsageError("--queue-timeout: must be > 0");
  if (!(limits.max_audio_seconds > 0)) throw UsageError("--max-audio-seconds: must be > 0");
  if (limits.max_audio_bytes == 0) throw UsageError("--max-audio-bytes: must be > 0");
  if (!api_key_env.empty()) {
    const char* key = std::getenv(api_key_env.c_str());
    if (!key || !*key)
      throw UsageError("--api-key-env: the environment variable " + api_key_env + " is not set");
  }
  sampling.validate();
}

void run_serve(const ServeOptions& o, const std::function<void(int port)>& on_listening) {
  o.validate();
  infer::Engine engine(o.engine);
  engine.load_all();
  log_info("serve", "systems: {}; codec {}", fmt::join(engine.systems(), ", "), engine.describe_codec());
  Service service(o, engine);
  HttpServerOptions ho;
  ho.host = o.host;
  ho.port = o.port;
  ho.max_body_bytes = o.max_body_bytes;
  HttpServer server(ho, service.handlers());

  // SIGTERM and SIGINT only raise a flag (whichever thread takes them); a watcher turns it into an orderly
  // stop: no new connections, the replies in flight finish.
  g_stop_signal = 0;
  struct sigaction action {
  }, old_term{}, old_int{};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, &old_term);
  sigaction(SIGINT, &action, &old_int);
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done) {
      if (const int sig = g_stop_signal) {
        log_info("serve", "{}: no new requests; finishing the ones in flight",
                 sig == SIGTERM ? "SIGTERM" : "SIGINT");
        server.stop();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  if (on_listening) {
    on_listening(server.port());
  } else {
    std::cout << "listening on http://" << o.host << ":" << server.port() << std::endl;
  }
  server.run();
  done = true;
  watcher.join();
  sigaction(SIGTERM, &old_term, nullptr);
  sigaction(SIGINT, &old_int, nullptr);
  log_info("serve", "stopped");
}

}  // namespace symp::serve
