// symp serve end to end: the real binary on 127.0.0.1 with the infer tests' tiny models, driven over HTTP.
#include <catch2/catch.hpp>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

#include "serve_fixture.h"
#include "symp/io/audio.h"
#include "symp/io/base64.h"

namespace {

using namespace symp::test;
using namespace symp::test::serve;
using symp::io::Json;

std::string systems_args(const infer::TinyPipeline& p, int max_new_tokens = 300) {
  return "--model " + p.model + " --tokenizer " + p.tokenizer + " --adapter lora=" + p.adapter +
         " --include-base --max-new-tokens " + std::to_string(max_new_tokens);
}

Json post_chat(const ServerProcess& s, const std::string& body, long expect_status = 200,
               const std::vector<std::string>& headers = {"Content-Type: application/json"}) {
  const auto r = request("POST", s.url() + "/v1/chat/completions", body, headers);
  INFO(r.body);
  CHECK(r.status == expect_status);
  return Json::parse(r.body);
}

std::vector<float> wav_samples(const std::string& bytes) {
  return symp::io::decode_audio_bytes(bytes, "reply").samples;
}

// The PCM bytes of a WAV file's data chunk.
std::string wav_data_chunk(const std::string& wav) {
  size_t pos = 12;
  while (pos + 8 <= wav.size()) {
    const auto* p = reinterpret_cast<const unsigned char*>(wav.data() + pos + 4);
    const size_t size = p[0] | (p[1] << 8) | (p[2] << 16) | (size_t(p[3]) << 24);
    if (wav.compare(pos, 4, "data") == 0) return wav.substr(pos + 8, size);
    pos += 8 + size + (size & 1);
  }
  FAIL("no data chunk");
  return "";
}

// The "data: ..." events of a server-sent event stream.
std::vector<Json> sse_events(const std::string& body, bool* done) {
  std::vector<Json> events;
  *done = false;
  size_t pos = 0;
  while (pos < body.size()) {
    const size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) break;
    const std::string event = body.substr(pos, end - pos);
    pos = end + 2;
    REQUIRE(event.rfind("data: ", 0) == 0);
    if (event == "data: [DONE]") {
      *done = true;
      continue;
    }
    events.push_back(Json::parse(event.substr(6)));
  }
  return events;
}

int in_flight(const ServerProcess& s) {
  return Json::parse(request("GET", s.url() + "/health").body).at("in_flight").get<int>();
}

void wait_for_in_flight(const ServerProcess& s, int n) {
  for (int i = 0; i < 600 && in_flight(s) != n; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(in_flight(s) == n);
}

}  // namespace

TEST_CASE("serve: a reply equals symp infer's for the same input condition and seed", "[serve]") {
  const auto& p = infer::tiny_pipeline();
  ScratchDir out("serve-infer");
  infer::symp_ok("infer --model " + p.model + " --tokenizer " + p.tokenizer + " --adapter lora=" + p.adapter +
                 " --audio " + p.queries[0] + " --emotion excited --max-new-tokens 300 --out " +
                 out.path().string());
  const auto records = symp::io::read_jsonl(out.path().string() + "/responses.jsonl");
  REQUIRE(records.size() == 1);
  const auto& rec = records[0];
  const auto seed = rec.at("sampling_seed").get<uint64_t>();

  ServerProcess server(systems_args(p));
  const auto wav = infer::read_text(p.queries[0]);
  const auto reply = post_chat(
      server, chat_body(wav, {{"model", "lora"}, {"affect", {{"emotion", "excited"}}}, {"seed", seed}}));
  const auto& message = reply.at("choices")[0].at("message");
  CHECK(message.at("content") == rec.at("response_text"));
  CHECK(reply.at("affect").at("prompt") == rec.at("prompt"));
  CHECK(reply.at("affect").at("valence") == rec.at("valence"));
  CHECK(reply.at("affect").at("emotion") == "excited");
  CHECK(reply.at("usage").at("prompt_tokens") == rec.at("prompt_tokens"));
  CHECK(reply.at("model") == "lora");
  const auto served = wav_samples(symp::io::base64_decode(message.at("audio").at("data"), "reply"));
  const auto& audio_path = rec.at("response_audio");
  if (audio_path.is_null()) {
    CHECK(served.empty());
  } else {
    const auto offline =
        symp::io::read_audio(out.path().string() + "/" + audio_path.get<std::string>()).samples;
    REQUIRE(!offline.empty());
    CHECK(served == offline);
  }

  SECTION("streamed, the text pieces and PCM16 chunks add up to the same reply") {
    auto body = Json::parse(chat_body(
        wav, {{"model", "lora"}, {"affect", {{"emotion", "excited"}}}, {"seed", seed}, {"stream", true}}));
    body["audio"]["format"] = "pcm16";
    const auto r = request("POST", server.url() + "/v1/chat/completions", body.dump());
    REQUIRE(r.status == 200);
    CHECK(r.content_type.rfind("text/event-stream", 0) == 0);
    bool done = false;
    const auto events = sse_events(r.body, &done);
    CHECK(done);
    REQUIRE(events.size() >= 2);
    CHECK(events.front().at("affect").at("prompt") == rec.at("prompt"));
    std::string text, pcm;
    for (const auto& e : events) {
      const auto& delta = e.at("choices")[0].at("delta");
      if (delta.contains("content")) text += delta["content"].get<std::string>();
      if (delta.contains("audio") && delta["audio"].contains("data"))
        pcm += symp::io::base64_decode(delta["audio"]["data"], "chunk");
    }
    CHECK(text == rec.at("response_text"));
    CHECK(events.back().at("choices")[0].at("finish_reason") ==
          (rec.at("stopped") == "max_new_tokens" ? "length" : "stop"));
    if (!audio_path.is_null()) {
      const auto offline = infer::read_text(out.path().string() + "/" + audio_path.get<std::string>());
      CHECK(pcm == wav_data_chunk(offline));
    }
  }
}

TEST_CASE("serve: health models anchors and the page", "[serve]") {
  const auto& p = infer::tiny_pipeline();
  ServerProcess server(systems_args(p));
  const auto health = Json::parse(request("GET", server.url() + "/health").body);
  CHECK(health.at("status") == "ok");
  CHECK(health.at("systems") == Json::array({"base", "lora"}));
  const auto models = Json::parse(request("GET", server.url() + "/v1/models").body);
  REQUIRE(models.at("data").size() == 2);
  CHECK(models.at("data")[0].at("id") == "base");
  CHECK(models.at("data")[1].at("id") == "lora");
  CHECK(models.at("data")[1].at("kind") == "lora");
  const auto anchors = Json::parse(request("GET", server.url() + "/v1/affect/anchors").body);
  REQUIRE(anchors.at("data").size() == 12);
  CHECK(anchors.at("data")[0].at("prompt").get<std::string>().find("User emotion (valence=") !=
        std::string::npos);
  const auto page = request("GET", server.url() + "/");
  CHECK(page.status == 200);
  CHECK(page.content_type.rfind("text/html", 0) == 0);
  CHECK(page.body.find("id=\"pad\"") != std::string::npos);
  CHECK(request("GET", server.url() + "/nope").status == 404);
  CHECK(request("GET", server.url() + "/v1/chat/completions").status == 405);
}

TEST_CASE("serve: bad requests get a 400 naming the field and the server stays up", "[serve]") {
  const auto& p = infer::tiny_pipeline();
  ServerProcess server(systems_args(p) + " --max-audio-seconds 30");
  const auto wav = infer::read_text(p.queries[0]);
  struct Case {
    std::string body;
    std::string param;
  };
  auto with = [&](const Json& extra) { return chat_body(wav, extra); };
  auto bad_audio = [&](const std::string& data) {
    auto j = Json::parse(chat_body(wav));
    j["messages"][0]["content"][0]["input_audio"]["data"] = data;
    return j.dump();
  };
  const std::vector<Case> cases = {
      {"{not json", ""},
      {"[1, 2]", ""},
      {R"({"model": "lora"})", "messages"},
      {R"({"messages": [{"role": "assistant", "content": "hi"}]})", "messages"},
      {R"({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]})",
       "messages[0].content[0].type"},
      {bad_audio("not base64!"), "messages[0].content[0].input_audio.data"},
      {bad_audio(symp::io::base64_encode("RIFF but not a WAV file at all")),
       "messages[0].content[0].input_audio.data"},
      {bad_audio(symp::io::base64_encode(wav.substr(0, wav.size() / 2))),
       "messages[0].content[0].input_audio.data"},
      {with({{"model", "nobody"}}), "model"},
      {with({{"affect", {{"emotion", "elated"}}}}), "affect.emotion"},
      {with({{"affect", {{"valence", 1.5}, {"arousal", 0}}}}), "affect.valence"},
      {with({{"affect", {{"valence", 0.2}}}}), "affect.arousal"},
      {with({{"affect", {{"interpolate", {"happy", "sad"}}, {"t", 2}}}}), "affect.t"},
      {with({{"affect", {{"emotion", "happy"}, {"none", true}}}}), "affect"},
      {with({{"affect", {{"taxonomy", "/etc/passwd"}, {"probs", {{"x", 1}}}}}}), "affect.taxonomy"},
      {with({{"affect", {{"taxonomy", "isear"}, {"probs", {{"nonsense", 1}}}}}}), "affect"},
      {with({{"affect", {{"mood", "good"}}}}), "affect.mood"},
      {with({{"temperature", -1}}), "temperature"},
      {with({{"max_tokens", 0}}), "max_tokens"},
      {with({{"audio", {{"format", "mp3"}}}}), "audio.format"},
  };
  for (const auto& c : cases) {
    INFO(c.body.substr(0, 300));
    const auto r = request("POST", server.url() + "/v1/chat/completions", c.body);
    CHECK(r.status == 400);
    const auto err = Json::parse(r.body).at("error");
    CHECK(err.at("type") == "invalid_request_error");
    CHECK(err.at("param") == (c.param.empty() ? Json(nullptr) : Json(c.param)));
    CHECK(!err.at("message").get<std::string>().empty());
  }
  // Too long: 30 s of audio is fine, 31 s is not.
  symp::io::Audio long_audio;
  long_audio.sample_rate = 16000;
  long_audio.samples.assign(16000 * 31, 0.01f);
  const auto r = request("POST", server.url() + "/v1/chat/completions",
                         chat_body(symp::io::encode_wav_bytes(long_audio)));
  CHECK(r.status == 400);
  CHECK(Json::parse(r.body).at("error").at("code") == "audio_too_long");
  // Still serving.
  const auto ok =
      post_chat(server, with({{"affect", {{"valence", -0.5}, {"arousal", 0.25}}}, {"max_tokens", 20}}));
  CHECK(ok.at("affect").at("prompt") ==
        "Please respond in English. User emotion (valence=-0.50, arousal=0.25)");
  CHECK(ok.at("usage").at("completion_tokens").get<int>() <= 20);
  CHECK(ok.at("input_speech") == "the user's audio");
  // Text only: read out by the embedded TTS first, then answered like speech.
  const auto spoken =
      post_chat(server, R"({"messages": [{"role": "user", "content": "How do I start running?"}],
                                          "max_tokens": 20, "affect": {"emotion": "sad"}})");
  CHECK(spoken.at("input_speech").get<std::string>().find("espeak-ng") != std::string::npos);
  CHECK(spoken.at("usage").at("prompt_tokens").get<int>() > 20);
}

TEST_CASE("serve: --api-key-env makes every API request need the bearer key", "[serve]") {
  const auto& p = infer::tiny_pipeline();
  const std::string key = "sk-test-0123456789abcdef";
  ServerProcess server(systems_args(p) + " --api-key-env SYMP_TEST_KEY", "env SYMP_TEST_KEY=" + key);
  CHECK(request("GET", server.url() + "/health").status == 401);
  CHECK(request("GET", server.url() + "/v1/models", "", {"Authorization: Bearer wrong"}).status == 401);
  CHECK(request("GET", server.url() + "/v1/models", "", {"Authorization: Bearer " + key + "x"}).status ==
        401);
  const auto r = request("GET", server.url() + "/v1/models", "", {"Authorization: Bearer " + key});
  CHECK(r.status == 200);
  const auto wav = infer::read_text(p.queries[0]);
  post_chat(server, chat_body(wav, {{"max_tokens", 5}}), 401);
  post_chat(server, chat_body(wav, {{"max_tokens", 5}}), 200,
            {"Content-Type: application/json", "Authorization: Bearer " + key});
  CHECK(server.stop() == 0);
  CHECK(server.log().find(key) == std::string::npos);
}

TEST_CASE("serve: past the slots and the queue the answer is 429 with Retry-After", "[serve]") {
  const auto& p = infer::tiny_pipeline();
  ServerProcess server(systems_args(p, 4000) + " --max-concurrency 1 --max-queue 0");
  const auto wav = infer::read_text(p.queries[0]);
  // A long reply holds the only slot (an untrained tiny model rarely stops on its own; greedy, it never
  // does, so the reply runs to max_tokens).
  std::atomic<long> first_status{0};
  std::thread first([&] {
    try {
      first_status = request("POST", server.url() + "/v1/chat/completions",
                             chat_body(wav, {{"max_tokens", 4000}, {"temperature", 0}}))
                         .status;
    } catch (const std::exception&) {
      first_status = -1;
    }
  });
  wait_for_in_flight(server, 1);
  const auto r = request("POST", server.url() + "/v1/chat/completions", chat_body(wav, {{"max_tokens", 5}}));
  CHECK(r.status == 429);
  CHECK(r.retry_after_s == 1);
  CHECK(Json::parse(r.body).at("error").at("type") == "rate_limit_error");
  first.join();
  CHECK(first_status == 200);
}

TEST_CASE("serve: SIGTERM stops accepting and finishes the reply in flight", "[serve]") {
  const auto& p = infer::tiny_pipeline();
  ServerProcess server(systems_args(p, 4000));
  const auto wav = infer::read_text(p.queries[0]);
  symp::io::HttpResponse reply;
  std::string failure;
  std::thread client([&] {
    try {
      reply = request("POST", server.url() + "/v1/chat/completions",
                      chat_body(wav, {{"max_tokens", 1500}, {"temperature", 0}}));
    } catch (const std::exception& e) {
      failure = e.what();
    }
  });
  wait_for_in_flight(server, 1);
  server.terminate();
  client.join();
  INFO(failure);
  CHECK(reply.status == 200);
  const auto j = Json::parse(reply.body);
  CHECK(j.at("usage").at("completion_tokens").get<int>() > 0);
  CHECK(server.stop() == 0);
  CHECK_THROWS_AS(request("GET", server.url() + "/health", "", {}, 2), symp::io::HttpError);
}

TEST_CASE("serve: a client that disconnects cancels its reply", "[serve]") {
  const auto& p = infer::tiny_pipeline();
  ServerProcess server(systems_args(p, 100000));
  const auto wav = infer::read_text(p.queries[0]);
  // 100,000 greedy tokens would take minutes; the client gives up after half a second.
  CHECK_THROWS_AS(request("POST", server.url() + "/v1/chat/completions",
                          chat_body(wav, {{"max_tokens", 100000}, {"temperature", 0}}),
                          {"Content-Type: application/json"}, 0.5),
                  symp::io::HttpError);
  const auto t0 = std::chrono::steady_clock::now();
  wait_for_in_flight(server, 0);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));
  CHECK(server.log().find("client gone") != std::string::npos);
}

namespace {

// Runs a client of tests/serve/clients/ with Node against `server`, after installing the pinned packages
// (once per machine, into the temp dir). Returns the client's stdout; fails the test when it fails.
std::string run_node_client(const std::string& script, const ServerProcess& server, const std::string& wav) {
  const std::string clients = std::string(SYMP_SOURCE_DIR) + "/tests/serve/clients";
  const auto modules = fs::temp_directory_path() / "symp-serve-clients";
  const auto install = run_command("bash " + clients + "/install.sh " + modules.string());
  INFO("install.sh:\n" << install.err);
  REQUIRE(install.exit_code == 0);
  // Node resolves packages next to the script: the scripts are copied beside node_modules.
  fs::copy_file(clients + "/" + script, modules / script, fs::copy_options::overwrite_existing);
  const auto r = run_command("node " + (modules / script).string() + " " + server.url() + " " + wav);
  INFO("node " << script << ":\n" << r.out << "\n" << r.err << "\nserver log:\n" << server.log());
  REQUIRE(r.exit_code == 0);
  return r.out;
}

}  // namespace

TEST_CASE("serve: the official openai npm client gets audio replies streams and typed errors",
          "[serve][node]") {
  const auto& p = infer::tiny_pipeline();
  ServerProcess server(systems_args(p));
  const auto out = Json::parse(run_node_client("openai_client.mjs", server, p.queries[0]));
  CHECK(out.at("models") == Json::array({"base", "lora"}));
  CHECK(out.at("stream").at("pcm_bytes").get<int64_t>() > 0);
  CHECK(out.at("errors") == Json::array({"affect.valence", "model_not_found", "invalid_base64"}));
}

TEST_CASE("serve: the realtime endpoint speaks to a ws client and cancels on response.cancel",
          "[serve][node]") {
  const auto& p = infer::tiny_pipeline();
  ServerProcess server(systems_args(p, 100000));
  const auto out = Json::parse(run_node_client("realtime_client.mjs", server, p.queries[0]));
  CHECK(out.at("response").at("audio_seconds").get<double>() > 0);
  CHECK(out.at("cancelled_after_tokens").get<int64_t>() < 100000);
}

TEST_CASE("serve: the page in headless Chromium records answers and plays at the VA clicked",
          "[serve][node]") {
  const auto& p = infer::tiny_pipeline();
  ServerProcess server(systems_args(p));
  const auto out = Json::parse(run_node_client("page_client.mjs", server, p.queries[0]));
  CHECK(out.at("prompt") == "Please respond in English. User emotion (valence=0.75, arousal=0.90)");
  CHECK(out.at("samples").get<int64_t>() > 0);
}

namespace {

// The resident memory of a process, in KiB (VmRSS of /proc/PID/status).
long rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

}  // namespace

TEST_CASE("serve: 8 clients for 60 s of good and malformed requests", "[serve][load]") {
  const auto& p = infer::tiny_pipeline();
  // Two slots and a queue that holds everyone else: no good request may be turned away.
  ServerProcess server(systems_args(p) + " --max-concurrency 2 --max-queue 8 --queue-timeout 120");
  const auto wav = infer::read_text(p.queries[0]);
  const std::vector<std::string> bad = {
      "{\"messages\": [",
      chat_body("x", {{"affect", {{"valence", 2}, {"arousal", 0}}}}),
      chat_body(wav, {{"model", "nobody"}}),
      chat_body(wav, {{"affect", {{"emotion", "elated"}}}}),
      chat_body(wav.substr(0, 200)),
      R"({"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {"data": "%%%"}}]}]})",
  };
  const auto seconds = [](auto d) { return std::chrono::duration<double>(d).count(); };
  const auto start = std::chrono::steady_clock::now();
  const double warmup_s = 10, total_s = 60;
  std::atomic<long> warm_rss{-1};
  std::atomic<int> good_ok{0}, good_failed{0}, bad_400{0}, bad_other{0};
  std::mutex failures_mutex;
  std::vector<std::string> failures;
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; seconds(std::chrono::steady_clock::now() - start) < total_s; ++i) {
        const bool good = (i + c) % 2 == 0;
        const std::string body =
            good ? chat_body(wav, {{"model", c % 2 ? "lora" : "base"},
                                   {"affect", {{"valence", (c - 4) / 4.0}, {"arousal", ((i % 5) - 2) / 2.0}}},
                                   {"max_tokens", 30},
                                   {"stream", i % 3 == 0}})
                 : bad[static_cast<size_t>(i + c) % bad.size()];
        long status = 0;
        std::string reply;
        try {
          const auto r = request("POST", server.url() + "/v1/chat/completions", body);
          status = r.status;
          reply = r.body;
        } catch (const std::exception& e) {
          reply = e.what();
        }
        if (good && status == 200) {
          ++good_ok;
        } else if (!good && status == 400) {
          ++bad_400;
        } else {
          ++(good ? good_failed : bad_other);
          std::lock_guard<std::mutex> lock(failures_mutex);
          failures.push_back(std::to_string(status) + ": " + reply.substr(0, 200));
        }
        if (c == 0 && warm_rss < 0 && seconds(std::chrono::steady_clock::now() - start) > warmup_s)
          warm_rss = rss_kib(server.pid());
      }
    });
  }
  for (auto& t : clients) t.join();
  const long end_rss = rss_kib(server.pid());
  INFO("good ok " << good_ok << ", good failed " << good_failed << ", bad 400 " << bad_400 << ", bad other "
                  << bad_other << "; RSS after warm-up " << warm_rss << " KiB, at the end " << end_rss
                  << " KiB");
  for (const auto& f : failures) UNSCOPED_INFO(f);
  std::printf("load: %d good replies, %d refused with 400; RSS %ld KiB after warm-up, %ld KiB at the end\n",
              good_ok.load(), bad_400.load(), warm_rss.load(), end_rss);
  CHECK(good_failed == 0);
  CHECK(bad_other == 0);
  CHECK(good_ok > 20);
  CHECK(bad_400 > 20);
  REQUIRE(warm_rss > 0);
  CHECK(end_rss <= warm_rss * 1.1);
  CHECK(server.stop() == 0);
}
