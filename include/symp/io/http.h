#pragma once
// HTTP client (libcurl) for OpenAI-compatible servers: text generation, speech synthesis, audio judges.
// Transport failures, timeouts, 429 and 5xx are retried with exponential backoff and jitter.
#include <string>
#include <vector>

#include "symp/core/error.h"

namespace symp::io {

struct HttpRequest {
  std::string method = "POST";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;
  double timeout_s = 120.0;  // whole-request limit
  double connect_timeout_s = 10.0;
};

// A JSON POST to an OpenAI-compatible endpoint: Content-Type, and the key as a bearer token when not empty.
HttpRequest json_post(const std::string& url, const std::string& body, const std::string& api_key,
                      double timeout_s);

struct HttpResponse {
  long status = 0;
  std::string body;
  std::string content_type;
  double retry_after_s = -1;  // the server's Retry-After (seconds or an HTTP date), -1 when it sent none
};

// An HTTP failure: transport (status 0: refused, timed out, reset) or a non-2xx status.
struct HttpError : RuntimeError {
  HttpError(const std::string& message, long status, bool retryable)
      : RuntimeError(message), status(status), retryable(retryable) {}
  long status;
  bool retryable;
};

// One attempt. Returns any response with a status; throws HttpError(status 0) on transport failure.
HttpResponse http_send(const HttpRequest& request);

struct RetryPolicy {
  int max_attempts = 5;       // including the first
  double base_delay_s = 1.0;  // delay before retry k is base * 2^(k-1), capped, with +-25% jitter
  double max_delay_s = 30.0;
};

// Sends with retries on transport errors (refused, timed out, a reply cut short), 408, 429 and 5xx. A
// server's Retry-After is honoured up to max_delay_s: the wait is the longer of it and the backoff. Returns a
// 2xx response; throws HttpError (with the last status and the body's first 300 bytes) when attempts run out
// or the status is final.
HttpResponse http_send_with_retry(const HttpRequest& request, const RetryPolicy& policy = {});

// Reads an API key from `explicit_key` or else the environment variable `env_name`; never logged.
std::string api_key_from(const std::string& explicit_key, const std::string& env_name);

}  // namespace symp::io
