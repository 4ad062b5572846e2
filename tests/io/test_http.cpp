// The HTTP client's retries against servers that misbehave (a loopback server): 429 with Retry-After, a
// reply cut short, a server that stalls, 500s that never stop, and a final 400.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>

#include "../loopback_http.h"
#include "symp/io/http.h"

using symp::io::HttpError;
using symp::io::RetryPolicy;
using symp::test::HttpExchange;
using symp::test::LoopbackHttpServer;

namespace {

RetryPolicy fast(int attempts) {
  RetryPolicy p;
  p.max_attempts = attempts;
  p.base_delay_s = 0.01;
  p.max_delay_s = 5;
  return p;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

symp::io::HttpRequest request_to(const LoopbackHttpServer& server, double timeout_s = 5) {
  return symp::io::json_post(server.url() + "/chat/completions", "{}", "", timeout_s);
}

}  // namespace

TEST_CASE("http: a 429 with Retry-After waits as long as the server asks, then succeeds", "[io][http]") {
  std::atomic<int> n{0};
  LoopbackHttpServer server([&](HttpExchange& ex) {
    if (n++ == 0) {
      ex.status = 429;
      ex.reply = R"({"error": "slow down"})";
      ex.reply_headers = {"Retry-After: 1"};
      return;
    }
    ex.reply = R"({"ok": true})";
  });
  const auto t0 = std::chrono::steady_clock::now();
  const auto response = symp::io::http_send_with_retry(request_to(server), fast(3));
  CHECK(response.body == R"({"ok": true})");
  CHECK(n == 2);
  CHECK(seconds_since(t0) >= 0.95);  // the backoff alone would have been ~0.01 s
  CHECK(seconds_since(t0) < 3.0);
}

TEST_CASE("http: a reply cut short is retried, and a server cut every time fails after the attempts",
          "[io][http]") {
  std::atomic<int> n{0};
  LoopbackHttpServer server([&](HttpExchange& ex) {
    ex.reply = R"({"choices": [{"message": {"content": "4|fine"}}]})";
    if (n++ == 0) ex.cut_after = 10;
  });
  CHECK(symp::io::http_send_with_retry(request_to(server), fast(3)).body.size() == 49);
  CHECK(n == 2);

  LoopbackHttpServer always_cut([](HttpExchange& ex) {
    ex.reply = "0123456789";
    ex.cut_after = 3;
  });
  try {
    symp::io::http_send_with_retry(request_to(always_cut), fast(3));
    FAIL("a reply cut short was taken");
  } catch (const HttpError& e) {
    CHECK(e.status == 0);
    CHECK_THAT(e.what(), Catch::Contains("gave up after 3 attempts"));
  }
}

TEST_CASE("http: a stalled server times out per attempt and the error says so", "[io][http]") {
  std::atomic<int> n{0};
  LoopbackHttpServer server([&](HttpExchange& ex) {
    ++n;
    ex.delay_s = 1.5;
    ex.reply = "{}";
  });
  const auto t0 = std::chrono::steady_clock::now();
  try {
    symp::io::http_send_with_retry(request_to(server, 0.3), fast(2));
    FAIL("a stalled server answered");
  } catch (const HttpError& e) {
    CHECK_THAT(e.what(), Catch::Contains("imeout") || Catch::Contains("timed out"));
    CHECK_THAT(e.what(), Catch::Contains("gave up after 2 attempts"));
  }
  CHECK(n == 2);
  CHECK(seconds_since(t0) < 1.4);  // two 0.3 s limits and a short backoff, not the server's 1.5 s each
}

TEST_CASE("http: 500s are retried up to the limit; a 400 is final at once", "[io][http]") {
  std::atomic<int> n{0};
  LoopbackHttpServer server([&](HttpExchange& ex) {
    ++n;
    ex.status = ex.path.find("bad") != std::string::npos ? 400 : 500;
    ex.reply = ex.status == 400 ? "bad request" : "overloaded";
  });
  try {
    symp::io::http_send_with_retry(request_to(server), fast(4));
    FAIL("a 500 was taken");
  } catch (const HttpError& e) {
    CHECK(e.status == 500);
    CHECK_THAT(e.what(),
               Catch::Contains("HTTP 500: overloaded") && Catch::Contains("gave up after 4 attempts"));
  }
  CHECK(n == 4);
  n = 0;
  auto bad = request_to(server);
  bad.url = server.url() + "/bad";
  try {
    symp::io::http_send_with_retry(bad, fast(4));
    FAIL("a 400 was taken");
  } catch (const HttpError& e) {
    CHECK(e.status == 400);
    CHECK_FALSE(e.retryable);
  }
  CHECK(n == 1);
}
