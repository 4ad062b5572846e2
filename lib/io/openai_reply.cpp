#include "symp/io/openai_reply.h"

#include <nlohmann/json.hpp>

namespace symp::io {

using Json = nlohmann::json;

std::optional<std::string> chat_completion_text(const std::string& body) {
  const Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;  // a discarded parse is not an object either
  const auto choices = j.find("choices");
  if (choices == j.end() || !choices->is_array() || choices->empty()) return std::nullopt;
  const Json& choice = choices->front();
  if (!choice.is_object()) return std::nullopt;
  const auto message = choice.find("message");
  if (message == choice.end() || !message->is_object()) return std::nullopt;
  const auto content = message->find("content");
  if (content == message->end()) return std::nullopt;
  if (content->is_string()) return content->get<std::string>();
  if (!content->is_array()) return std::nullopt;
  std::string text;
  for (const Json& part : *content) {
    if (!part.is_object()) continue;
    const auto type = part.find("type");
    const auto part_text = part.find("text");
    if (type == part.end() || *type != "text" || part_text == part.end() || !part_text->is_string()) continue;
    text += part_text->get<std::string>();
  }
  return text;
}

std::optional<std::string> transcription_text(const std::string& body) {
  const Json j = Json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return std::nullopt;
  const auto text = j.find("text");
  if (text == j.end() || !text->is_string()) return std::nullopt;
  return text->get<std::string>();
}

}  // namespace symp::io
