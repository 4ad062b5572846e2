#pragma once
// `symp serve`: the assistant as a server. The same engine as `symp infer` (symp/infer/engine.h) behind
// OpenAI's chat-completions API with audio in and out, streamed as server-sent events, plus symp's `affect`
// condition. Requests run in a bounded pool; past it and a short queue the answer is 429 with Retry-After.
// No torch in this header.
//
//   symp::serve::ServeOptions o;  o.engine.model_dir = "base";  o.engine.adapters = {"lora=run/adapter"};
//   symp::serve::run_serve(o);   // prints "listening on http://127.0.0.1:8080", returns after SIGTERM
#include <cstddef>
#include <functional>
#include <string>

#include "symp/infer/engine.h"
#include "symp/serve/api.h"

namespace symp::serve {

struct ServeOptions {
  infer::EngineOptions engine;  // the systems, tokenizer, codec and device
  std::string host = "127.0.0.1";
  int port = 8080;                 // 0: any free port (the printed line says which)
  int max_concurrency = 1;         // replies generated at once
  int max_queue = 4;               // requests waiting for a slot beyond those; more get 429
  double request_timeout_s = 300;  // a reply still running after this ends with 504 (or an error event)
  double queue_timeout_s = 30;     // a request waiting longer than this for a slot gets 429
  std::string api_key_env;         // when set: the environment variable holding the bearer key
  size_t max_body_bytes = 32u << 20;
  Limits limits;                    // audio size and length, max tokens
  infer::SamplingOptions sampling;  // defaults for requests that do not say (PAPER.md section 4)
  uint64_t seed = 42;               // requests without a seed draw one from a generator seeded with this
  void validate() const;            // UsageError naming the option
};

// Serves until SIGTERM or SIGINT (then stops accepting, finishes what is in flight and returns).
// `on_listening` (when given) is called with the bound port once requests are accepted; otherwise the line
// "listening on http://HOST:PORT" goes to standard output.
void run_serve(const ServeOptions& options, const std::function<void(int port)>& on_listening = {});

}  // namespace symp::serve
