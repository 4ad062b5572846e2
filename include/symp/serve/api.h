#pragma once
// `symp serve`'s request side, without a network or a model: OpenAI's chat-completion request with audio
// parts and symp's `affect` condition parsed into plain structs, and OpenAI's error object. Every refusal
// is an ApiError that names the field (`param`), so a client sees what to fix; the parser never throws
// anything else (the fuzz target `serve_request` holds it to that).
//
//   auto req = symp::serve::parse_chat_request(body, limits);   // ApiError on a bad request
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>

#include "symp/affect/condition.h"
#include "symp/io/jsonl.h"

namespace symp::serve {

// A refusal as OpenAI's API words it: HTTP status, error type, the offending parameter, a code.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string type, std::string param, std::string code, const std::string& message)
      : std::runtime_error(message),
        status(status),
        type(std::move(type)),
        param(std::move(param)),
        code(std::move(code)) {}
  int status;
  std::string type;   // invalid_request_error, authentication_error, rate_limit_error, server_error
  std::string param;  // "messages[1].content[0].input_audio.data", "affect.valence", ... ("" = none)
  std::string code;   // "invalid_value", "model_not_found", ... ("" = none)
};

// A 400 invalid_request_error about `param`.
ApiError bad_request(const std::string& param, const std::string& message,
                     const std::string& code = "invalid_value");

// {"error": {"message", "type", "param", "code"}} (param and code null when empty).
io::Json error_object(const ApiError& error);

struct Limits {
  size_t max_audio_bytes = 16u << 20;  // decoded input audio
  double max_audio_seconds = 60;       // its length
  int max_tokens = 4096;               // the most new tokens a request may ask for
};

struct ChatRequest {
  std::string model;                 // a system name ("" = the server's first)
  std::string text;                  // the last user message's text parts, joined with "\n"
  std::string audio;                 // its input_audio, decoded (empty: none)
  std::string audio_param;           // where that audio was, for errors about its content
  bool want_audio = true;            // modalities includes "audio" (default when modalities is absent)
  std::string audio_format = "wav";  // the reply's audio: "wav" or "pcm16"
  bool stream = false;
  affect::ConditionOptions affect;  // none set: N/A
  std::optional<double> temperature, top_p;
  std::optional<int> max_tokens;  // max_completion_tokens or max_tokens
  std::optional<uint64_t> seed;
};

// Parses a /v1/chat/completions body. ApiError 400 naming the field for: malformed JSON, no messages, no
// user message, a part of an unknown type, bad base64, audio over the limit, an `affect` symp affect
// would refuse (more than one source, an unknown emotion or taxonomy, VA outside [-1, 1], t outside
// [0, 1]), a sampling value out of range.
ChatRequest parse_chat_request(const std::string& body, const Limits& limits);

// The `affect` object, exactly what `symp affect` accepts: {"valence": v, "arousal": a}, {"emotion": e},
// {"interpolate": [a, b], "t": t}, {"taxonomy": name, "probs": {label: p}}, {"none": true}. Taxonomies are
// the built-in ones only (a request never names a file on the server). ApiError 400 naming `param`.field.
// The returned options resolve without error (checked here).
affect::ConditionOptions parse_affect(const io::Json& affect, const std::string& param);

// What the reply echoes: {"valence", "arousal", "emotion" (nearest anchor), "label", "source", "prompt"}
// (valence, arousal and emotion null for N/A).
io::Json describe_condition(const affect::Condition& condition, const std::string& prompt);

}  // namespace symp::serve
