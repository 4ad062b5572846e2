#include "symp/io/http.h"

#include <curl/curl.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "symp/core/log.h"

namespace symp::io {
namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t write_body(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

bool retryable_status(long status) {
  return status == 408 || status == 429 || status >= 500;
}

}  // namespace

HttpRequest json_post(const std::string& url, const std::string& body, const std::string& api_key,
                      double timeout_s) {
  HttpRequest request;
  request.url = url;
  request.body = body;
  request.timeout_s = timeout_s;
  request.headers = {"Content-Type: application/json"};
  if (!api_key.empty()) request.headers.push_back("Authorization: Bearer " + api_key);
  return request;
}

HttpResponse http_send(const HttpRequest& request) {
  global_init();
  CURL* curl = curl_easy_init();
  if (!curl) throw HttpError("cannot create an HTTP handle", 0, false);
  HttpResponse response;
  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout_s * 1000));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout_s * 1000));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode rc = curl_easy_perform(curl);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
    char* ct = nullptr;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &ct);
    if (ct) response.content_type = ct;
    curl_off_t retry_after = -1;
    if (curl_easy_getinfo(curl, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after >= 0)
      response.retry_after_s = static_cast<double>(retry_after);
  }
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  if (rc != CURLE_OK) {
    throw HttpError(fmt::format("{} {}: {}", request.method, request.url, curl_easy_strerror(rc)), 0, true);
  }
  return response;
}

HttpResponse http_send_with_retry(const HttpRequest& request, const RetryPolicy& policy) {
  thread_local std::mt19937 jitter_rng{std::random_device{}()};
  std::string last_error;
  long last_status = 0;
  for (int attempt = 1; attempt <= std::max(1, policy.max_attempts); ++attempt) {
    bool retry = false;
    double retry_after = -1;
    try {
      auto response = http_send(request);
      if (response.status >= 200 && response.status < 300) return response;
      last_status = response.status;
      retry_after = response.retry_after_s;
      last_error = fmt::format("{} {}: HTTP {}: {}", request.method, request.url, response.status,
                               response.body.substr(0, 300));
      retry = retryable_status(response.status);
    } catch (const HttpError& e) {
      last_status = e.status;
      last_error = e.what();
      retry = e.retryable;
    }
    if (!retry) throw HttpError(last_error, last_status, false);
    if (attempt == policy.max_attempts) break;
    double delay = std::min(policy.max_delay_s, policy.base_delay_s * std::pow(2.0, attempt - 1));
    delay *= std::uniform_real_distribution<double>(0.75, 1.25)(jitter_rng);
    if (retry_after > delay) delay = std::min(retry_after, policy.max_delay_s);
    log_debug("http", "attempt {} failed ({}); retrying in {:.2f} s", attempt, last_error, delay);
    std::this_thread::sleep_for(std::chrono::duration<double>(delay));
  }
  throw HttpError(fmt::format("{} (gave up after {} attempts)", last_error, policy.max_attempts), last_status,
                  false);
}

std::string api_key_from(const std::string& explicit_key, const std::string& env_name) {
  if (!explicit_key.empty()) return explicit_key;
  if (const char* env = std::getenv(env_name.c_str())) return env;
  return "";
}

}  // namespace symp::io
