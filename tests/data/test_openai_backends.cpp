// The openai text and speech backends against a loopback HTTP server started here, which returns
// canned completions (with reasoning to strip) and WAV audio, and injects 429, 500, timeouts,
// malformed JSON and unreadable audio.
#include <unistd.h>
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <functional>
#include <mutex>
#include <thread>

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/rng.h"
#include "symp/data/gen_data.h"
#include "symp/data/openai_backends.h"
#include "symp/io/jsonl.h"

#include "../loopback_http.h"

namespace fs = std::filesystem;
using symp::io::Json;

namespace {

using symp::test::HttpExchange;

struct Reply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  double delay_s = 0.0;  // sleep before answering (a timeout when longer than the client's limit)
};

// The loopback server's handler from one that returns its reply.
std::function<void(HttpExchange&)> replying(std::function<Reply(const HttpExchange&)> handler) {
  return [handler = std::move(handler)](HttpExchange& ex) {
    const Reply r = handler(ex);
    ex.status = r.status;
    ex.content_type = r.content_type;
    ex.reply = r.body;
    ex.delay_s = r.delay_s;
  };
}

// 0.4 s of a 220 Hz tone, 16-bit PCM WAV at 24 kHz (what Qwen3-TTS servers return).
std::string wav_bytes() {
  const int rate = 24000, n = 9600;
  std::string out;
  auto u32 = [&](uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&](uint16_t v) { out.append(reinterpret_cast<const char*>(&v), 2); };
  out += "RIFF";
  u32(36 + n * 2);
  out += "WAVEfmt ";
  u32(16);
  u16(1);
  u16(1);
  u32(rate);
  u32(rate * 2);
  u16(2);
  u16(16);
  out += "data";
  u32(n * 2);
  for (int i = 0; i < n; ++i)
    u16(static_cast<uint16_t>(static_cast<int16_t>(8000 * std::sin(2 * M_PI * 220 * i / rate))));
  return out;
}

const char* kWords[] = {"garden",  "ticket",  "window",  "basket",  "lantern", "pencil", "harbor", "violin",
                        "meadow",  "copper",  "saddle",  "marble",  "rocket",  "tunnel", "carpet", "anchor",
                        "blanket", "canyon",  "feather", "glacier", "hammer",  "island", "jacket", "kettle",
                        "ladder",  "magnet",  "napkin",  "orchard", "pepper",  "quarry", "ribbon", "scooter",
                        "teapot",  "uniform", "valley",  "walnut"};

// A distinct spoken-style sentence per call, so that canned queries survive dedup.
std::string canned_text(int n) {
  symp::Rng rng(static_cast<uint64_t>(n) + 1);
  std::string s = "Could you explain the";
  for (int k = 0; k < 7; ++k) s += std::string(" ") + kWords[rng.below(36)];
  return s + " routine?";
}

Json completion(const std::string& content) {
  return {{"choices", Json::array({{{"index", 0},
                                    {"message",
                                     {{"role", "assistant"},
                                      {"content", content},
                                      {"reasoning_content", "SECRET-REASONING the user wants help"}}}}})}};
}

}  // namespace

TEST_CASE("data: reasoning is stripped from completions", "[data]") {
  using symp::data::strip_reasoning;
  CHECK(strip_reasoning("<think>\nplan it\n</think>\n\nHello there.") == "Hello there.");
  CHECK(strip_reasoning("plan it</think>Hello.") == "Hello.");
  CHECK(strip_reasoning("  \"Quoted reply.\" ") == "Quoted reply.");
  CHECK(strip_reasoning("<think>a</think>One.<think>b</think> Two.") == "One. Two.");
}

TEST_CASE("data: gen-data openai backends survive 429 and 500 and timeouts and malformed replies", "[data]") {
  std::atomic<int> chats{0}, speeches{0}, texts{0};
  symp::test::LoopbackHttpServer server(replying([&](const HttpExchange& req) -> Reply {
    if (req.path == "/v1/chat/completions") {
      const int n = chats++;
      if (n == 0) return {429, "application/json", "{\"error\":\"rate limited\"}"};
      if (n == 1) return {500, "application/json", "{\"error\":\"boom\"}"};
      if (n == 2) return {200, "application/json", "{\"choices\": [ {\"message\": "};  // malformed JSON
      if (n == 3) return {200, "application/json", completion("ok").dump(), 1.5};      // past the 0.5 s limit
      return {200, "application/json",
              completion("<think>SECRET-THOUGHT</think>\n" + canned_text(texts++)).dump()};
    }
    if (req.path == "/v1/audio/speech") {
      const int n = speeches++;
      if (n == 0) return {503, "application/json", "{}"};
      if (n == 1) return {200, "audio/wav", "RIFFgarbage"};  // unreadable audio
      if (n == 2) return {200, "audio/wav", ""};             // no audio at all
      return {200, "audio/wav", wav_bytes()};
    }
    return {404, "text/plain", "no"};
  }));

  const fs::path dir = fs::temp_directory_path() / ("symp_test_gen_openai_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  symp::data::GenDataOptions o;
  o.out_dir = dir.string();
  o.per_emotion = 1;
  o.neutral_queries = 1;
  o.emotions = {"happy", "sad"};
  o.text_backend = "openai";
  o.tts_backend = "openai";
  o.grammar_dir = SYMP_SOURCE_DIR "/data/gen";
  o.concurrency = 2;
  o.max_attempts = 5;
  o.retry_base_delay_s = 0.01;
  o.request_timeout_s = 0.5;
  o.llm.base_url = server.url();
  o.llm.model = "test-llm";
  o.llm.api_key = "sk-test-SECRET";
  o.tts.model = "test-tts";
  const auto summary = symp::data::run_gen_data(o);
  REQUIRE(summary.records == 4);  // 2 emotional + 1 neutral query x 2 emotions

  const auto records = symp::io::read_jsonl((dir / "manifest.jsonl").string());
  REQUIRE(records.size() == 4);
  for (const auto& r : records) {
    for (const char* key : {"query_text", "response_text"}) {
      const std::string t = r.at(key);
      CHECK(t.rfind("Could you explain the", 0) == 0);
      CHECK(t.find("SECRET") == std::string::npos);
    }
    CHECK(r.at("speaker") == "Vivian");
    CHECK(r.at("response_speaker") == "Ryan");
    CHECK(r.at("response_duration").get<double>() == Approx(0.4));
  }

  // What the server saw: the paper's sampling settings, the key as a bearer token, the style strings.
  int query_requests = 0, response_requests = 0;
  bool saw_sad_style = false, saw_query_style = false;
  for (auto& req : server.requests()) {
    CHECK(req.headers.count("authorization"));
    CHECK(req.headers["authorization"] == "Bearer sk-test-SECRET");
    const Json body = Json::parse(req.body);
    if (req.path == "/v1/chat/completions") {
      CHECK(body.at("model") == "test-llm");
      const bool thinking = body.at("chat_template_kwargs").at("enable_thinking");
      const double t = body.at("temperature");
      if (thinking) {
        ++response_requests;
        CHECK(t == Approx(0.7));
      } else {
        ++query_requests;
        CHECK(t == Approx(0.85));
      }
    } else {
      CHECK(body.at("model") == "test-tts");
      CHECK(body.at("response_format") == "wav");
      saw_sad_style = saw_sad_style || body.at("instructions") == "Warm, gentle, reassuring.";
      saw_query_style = saw_query_style || body.at("instructions") == "Very sad.";
    }
  }
  CHECK(query_requests >= 3);
  CHECK(response_requests >= 4);
  CHECK(saw_sad_style);
  CHECK(saw_query_style);

  // The key is written nowhere in the output.
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file())
      CHECK(symp::read_text_file(e.path()).find("sk-test-SECRET") == std::string::npos);

  // Rerun: nothing left to do, no new requests.
  const size_t before = server.requests().size();
  CHECK(symp::data::run_gen_data(o).synthesized == 0);
  CHECK(server.requests().size() == before);
  fs::remove_all(dir);
}

TEST_CASE("data: gen-data records speech that still fails and a rerun completes it", "[data]") {
  std::atomic<bool> healthy{false};
  std::atomic<int> texts{0};
  symp::test::LoopbackHttpServer server(replying([&](const HttpExchange& req) -> Reply {
    if (req.path == "/v1/chat/completions")
      return {200, "application/json", completion(canned_text(texts++)).dump()};
    if (!healthy) return {500, "application/json", "{\"error\":\"down\"}"};
    return {200, "audio/wav", wav_bytes()};
  }));
  const fs::path dir =
      fs::temp_directory_path() / ("symp_test_gen_openai_fail_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  symp::data::GenDataOptions o;
  o.out_dir = dir.string();
  o.per_emotion = 1;
  o.neutral_queries = 0;
  o.emotions = {"angry", "tired"};
  o.text_backend = "openai";
  o.tts_backend = "openai";
  o.grammar_dir = SYMP_SOURCE_DIR "/data/gen";
  o.max_attempts = 2;
  o.retry_base_delay_s = 0.01;
  o.request_timeout_s = 2;
  o.llm.base_url = server.url();
  CHECK_THROWS_WITH(symp::data::run_gen_data(o), Catch::Contains("rerun the same command"));
  const Json sheet = symp::io::read_json((dir / "datasheet.json").string());
  CHECK(sheet.at("failed_items").size() == 2);
  CHECK(sheet.at("records") == 0);
  healthy = true;
  const int texts_before = texts;
  CHECK(symp::data::run_gen_data(o).records == 2);
  CHECK(texts == texts_before);  // the plan was kept: no text was asked for again
  fs::remove_all(dir);
}
