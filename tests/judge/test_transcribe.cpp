// symp transcribe against a loopback OpenAI-compatible transcription server: the multipart request, the
// transcript per record, the cache on a rerun, and a server error naming the record.
#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>

#include "../loopback_http.h"
#include "../test_util.h"
#include "symp/core/error.h"
#include "symp/io/audio.h"
#include "symp/io/http.h"
#include "symp/io/jsonl.h"
#include "symp/judge/transcribe.h"

namespace fs = std::filesystem;
using namespace symp;

TEST_CASE("judge: transcribe posts each reply's WAV as multipart and caches the transcripts", "[judge]") {
  test::ScratchDir dir("transcribe");
  for (const char* name : {"a", "b"}) {
    io::Audio audio;
    audio.sample_rate = 16000;
    audio.samples.assign(name[0] == 'a' ? 1600 : 3200, 0.1f);
    io::write_wav(dir.file(std::string(name) + ".wav"), audio);
  }
  io::write_jsonl_atomic(dir.file("responses.jsonl"),
                         {{{"id", "r1"}, {"response_audio", "a.wav"}, {"response_text", "hi"}},
                          {{"id", "r2"}, {"response_audio", nullptr}},
                          {{"id", "r3"}, {"response_audio", "b.wav"}}});
  std::atomic<int> requests{0};
  std::atomic<bool> fail{false};
  test::LoopbackHttpServer server([&](test::HttpExchange& ex) {
    ++requests;
    if (fail) {
      ex.status = 500;
      ex.reply = "{\"error\":\"down\"}";
      return;
    }
    const bool multipart = ex.headers["content-type"].find("multipart/form-data; boundary=") == 0;
    const bool model = ex.body.find("name=\"model\"\r\n\r\nwhisper-large-v3\r\n") != std::string::npos;
    const bool wav = ex.body.find("filename=\"a.wav\"") != std::string::npos ||
                     ex.body.find("filename=\"b.wav\"") != std::string::npos;
    const bool riff = ex.body.find("RIFF") != std::string::npos;
    const bool auth = ex.headers["authorization"] == "Bearer k123";
    const bool a = ex.body.find("filename=\"a.wav\"") != std::string::npos;
    ex.reply = (ex.path == "/v1/audio/transcriptions" && multipart && model && wav && riff && auth)
                   ? std::string("{\"text\":\"") + (a ? "hello there" : "second reply") + "\"}"
                   : "{\"error\":\"bad request\"}";
  });
  judge::TranscribeOptions o;
  o.responses = dir.file("responses.jsonl");
  o.out = dir.file("out/transcribed.jsonl");
  o.url = server.url();
  o.model = "whisper-large-v3";
  o.api_key = "k123";
  o.max_attempts = 2;
  auto s = judge::run_transcribe(o);
  CHECK(s.transcribed == 2);
  CHECK(s.without_audio == 1);
  CHECK(requests == 2);
  auto out = io::read_jsonl(o.out);
  REQUIRE(out.size() == 3);
  CHECK(out[0]["transcript"] == "hello there");
  CHECK(out[0]["response_text"] == "hi");  // the record is kept whole
  CHECK(out[1]["transcript"].is_null());
  CHECK(out[2]["transcript"] == "second reply");

  // A rerun asks nothing: every transcript comes from the cache, even with the server failing.
  fail = true;
  requests = 0;
  s = judge::run_transcribe(o);
  CHECK(s.cached == 2);
  CHECK(requests == 0);
  CHECK(io::read_jsonl(o.out)[2]["transcript"] == "second reply");

  // A new reply with the server down: the error names the record and the file, after the retries.
  io::Audio c;
  c.sample_rate = 16000;
  c.samples.assign(800, 0.2f);
  io::write_wav(dir.file("c.wav"), c);
  io::write_jsonl_atomic(dir.file("more.jsonl"), {{{"id", "r4"}, {"response_audio", "c.wav"}}});
  o.responses = dir.file("more.jsonl");
  o.out = dir.file("out/more.jsonl");
  try {
    judge::run_transcribe(o);
    FAIL("a 500 went through");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::Runtime);
    CHECK_THAT(e.what(),
               Catch::Contains("more.jsonl:1") && Catch::Contains("c.wav") && Catch::Contains("HTTP 500"));
  }
  CHECK(requests == 2);  // --max-attempts 2
  CHECK_FALSE(fs::exists(dir.file("out/more.jsonl")));
}
