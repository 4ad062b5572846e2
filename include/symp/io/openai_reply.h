#pragma once
// The parts symp reads of an OpenAI-compatible server's JSON replies, in one place for every client (text
// generation, the audio judge, transcription). Each returns nullopt for a body that is not the reply it
// expects (not JSON, a different shape, a wrong type) and never throws: the caller decides whether that
// is a retry, a per-item failure or an error.
#include <optional>
#include <string>

namespace symp::io {

// choices[0].message.content of a chat completion: a string, or a list of parts whose "text" parts
// ({"type": "text", "text": "..."}) are joined; other part types are skipped.
std::optional<std::string> chat_completion_text(const std::string& body);

// The "text" field of an /audio/transcriptions reply (response_format "json").
std::optional<std::string> transcription_text(const std::string& body);

}  // namespace symp::io
