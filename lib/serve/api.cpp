#include "symp/serve/api.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "symp/affect/fusion.h"
#include "symp/core/error.h"
#include "symp/core/rng.h"
#include "symp/io/base64.h"

namespace symp::serve {
namespace {

using io::Json;

std::string type_name(const Json& j) {
  return j.is_null()      ? "null"
         : j.is_boolean() ? "a boolean"
         : j.is_number()  ? "a number"
         : j.is_string()  ? "a string"
         : j.is_array()   ? "an array"
                          : "an object";
}

const Json& expect(const Json& parent, const char* key, bool (Json::*is)() const noexcept, const char* what,
                   const std::string& param) {
  const auto& v = parent.at(key);
  if (!(v.*is)())
    throw bad_request(param, fmt::format("expected {}, got {}", what, type_name(v)), "invalid_type");
  return v;
}

double number_in(const Json& parent, const char* key, double lo, double hi, const std::string& param) {
  const auto& v = expect(parent, key, &Json::is_number, "a number", param);
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi)
    throw bad_request(param, fmt::format("must be a number in [{}, {}], got {}", lo, hi, v.dump()));
  return x;
}

std::string string_of(const Json& parent, const char* key, const std::string& param) {
  return expect(parent, key, &Json::is_string, "a string", param).get<std::string>();
}

// The shortest decimal that reads back as the same double (what symp affect's --va parses).
std::string exact(double x) {
  return fmt::format("{}", x);
}

}  // namespace

ApiError bad_request(const std::string& param, const std::string& message, const std::string& code) {
  return ApiError(400, "invalid_request_error", param, code,
                  param.empty() ? message : param + ": " + message);
}

io::Json error_object(const ApiError& e) {
  return {{"error",
           {{"message", e.what()},
            {"type", e.type},
            {"param", e.param.empty() ? Json(nullptr) : Json(e.param)},
            {"code", e.code.empty() ? Json(nullptr) : Json(e.code)}}}};
}

affect::ConditionOptions parse_affect(const io::Json& a, const std::string& param) {
  if (!a.is_object()) throw bad_request(param, "expected an object, got " + type_name(a), "invalid_type");
  static const char* const known[] = {"valence", "arousal",  "emotion", "interpolate",
                                      "t",       "taxonomy", "probs",   "none"};
  for (const auto& [key, value] : a.items()) {
    bool ok = false;
    for (const char* k : known) ok = ok || key == k;
    if (!ok)
      throw bad_request(
          param + "." + key,
          "unknown field (give valence + arousal, emotion, interpolate + t, taxonomy + probs, or "
          "none)",
          "unknown_parameter");
  }
  affect::ConditionOptions c;
  int sources = 0;
  if (a.contains("valence") || a.contains("arousal")) {
    ++sources;
    if (!a.contains("valence"))
      throw bad_request(param + ".valence", "required with arousal", "missing_required_parameter");
    if (!a.contains("arousal"))
      throw bad_request(param + ".arousal", "required with valence", "missing_required_parameter");
    const double v = number_in(a, "valence", -1, 1, param + ".valence");
    const double ar = number_in(a, "arousal", -1, 1, param + ".arousal");
    c.va = exact(v) + "," + exact(ar);
  }
  if (a.contains("emotion")) {
    ++sources;
    c.emotion = string_of(a, "emotion", param + ".emotion");
    try {
      c.emotion = affect::AnchorSet::builtin().find(c.emotion).name;
    } catch (const Error& e) {
      throw bad_request(param + ".emotion", e.what(), "unknown_emotion");
    }
  }
  if (a.contains("interpolate")) {
    ++sources;
    const auto& pair =
        expect(a, "interpolate", &Json::is_array, "an array of two emotions", param + ".interpolate");
    if (pair.size() != 2) throw bad_request(param + ".interpolate", "expected two emotions");
    std::string names[2];
    for (size_t i = 0; i < 2; ++i) {
      const std::string p = fmt::format("{}.interpolate[{}]", param, i);
      if (!pair[i].is_string()) throw bad_request(p, "expected an emotion name", "invalid_type");
      try {
        names[i] = affect::AnchorSet::builtin().find(pair[i].get<std::string>()).name;
      } catch (const Error& e) {
        throw bad_request(p, e.what(), "unknown_emotion");
      }
    }
    c.interpolate = names[0] + "," + names[1];
    if (!a.contains("t"))
      throw bad_request(param + ".t", "required with interpolate", "missing_required_parameter");
    c.t = number_in(a, "t", 0, 1, param + ".t");
  } else if (a.contains("t")) {
    throw bad_request(param + ".t", "only meaningful with interpolate");
  }
  if (a.contains("taxonomy") || a.contains("probs")) {
    ++sources;
    if (!a.contains("taxonomy"))
      throw bad_request(param + ".taxonomy", "required with probs", "missing_required_parameter");
    if (!a.contains("probs"))
      throw bad_request(param + ".probs", "required with taxonomy", "missing_required_parameter");
    c.taxonomy = string_of(a, "taxonomy", param + ".taxonomy");
    bool builtin = false;
    for (const auto& name : affect::builtin_taxonomies()) builtin = builtin || name == c.taxonomy;
    if (!builtin) {
      std::string names;
      for (const auto& name : affect::builtin_taxonomies()) names += (names.empty() ? "" : ", ") + name;
      throw bad_request(param + ".taxonomy",
                        "unknown taxonomy '" + c.taxonomy + "' (this server knows " + names + ")",
                        "unknown_taxonomy");
    }
    const auto& probs =
        expect(a, "probs", &Json::is_object, "an object of label: probability", param + ".probs");
    if (probs.empty()) throw bad_request(param + ".probs", "no probabilities");
    for (const auto& [label, p] : probs.items()) {
      if (label.find_first_of(",=") != std::string::npos)
        throw bad_request(param + ".probs." + label, "a label cannot hold ',' or '='");
      const double x = number_in(probs, label.c_str(), 0, 1, param + ".probs." + label);
      c.probs += (c.probs.empty() ? "" : ",") + label + "=" + exact(x);
    }
  }
  if (a.contains("none")) {
    const auto& none = expect(a, "none", &Json::is_boolean, "true", param + ".none");
    if (!none.get<bool>())
      throw bad_request(param + ".none", "only true is meaningful (leave affect out instead)");
    ++sources;
    c.none = true;
  }
  if (sources == 0)
    throw bad_request(param,
                      "empty: give valence + arousal, emotion, interpolate + t, taxonomy + probs, or none");
  if (sources > 1)
    throw bad_request(
        param, "give one condition: valence + arousal, emotion, interpolate + t, taxonomy + probs, or none");
  // Anything left that symp affect would refuse (a label the taxonomy lacks, probabilities that sum to 0).
  try {
    Rng rng(0);
    affect::resolve_condition(c, rng);
  } catch (const Error& e) {
    throw bad_request(param, e.what());
  }
  return c;
}

io::Json describe_condition(const affect::Condition& c, const std::string& prompt) {
  Json out = {{"source", affect::condition_source_name(c.source)}, {"label", c.label}, {"prompt", prompt}};
  if (c.used) {
    out["valence"] = c.used->valence;
    out["arousal"] = c.used->arousal;
    out["emotion"] = affect::AnchorSet::builtin().nearest(*c.used).name;
  } else {
    out["valence"] = nullptr;
    out["arousal"] = nullptr;
    out["emotion"] = nullptr;
  }
  return out;
}

ChatRequest parse_chat_request(const std::string& body, const Limits& limits) {
  if (io::json_too_deep(body)) throw bad_request("", "the JSON body nests too deeply", "invalid_json");
  Json j;
  try {
    j = Json::parse(body);
  } catch (const std::exception& e) {
    throw bad_request("", std::string("the body is not valid JSON: ") + e.what(), "invalid_json");
  }
  if (!j.is_object()) throw bad_request("", "the body must be a JSON object", "invalid_type");
  ChatRequest r;
  try {
    if (j.contains("model") && !j["model"].is_null()) r.model = string_of(j, "model", "model");
    if (!j.contains("messages")) throw bad_request("messages", "required", "missing_required_parameter");
    const auto& messages = expect(j, "messages", &Json::is_array, "an array", "messages");
    // The last user message is what the model answers (earlier turns are not part of the prompt layout).
    std::optional<size_t> last_user;
    for (size_t i = 0; i < messages.size(); ++i) {
      const std::string p = fmt::format("messages[{}]", i);
      if (!messages[i].is_object()) throw bad_request(p, "expected an object", "invalid_type");
      if (!messages[i].contains("role"))
        throw bad_request(p + ".role", "required", "missing_required_parameter");
      const auto role = string_of(messages[i], "role", p + ".role");
      if (role != "user" && role != "system" && role != "assistant" && role != "developer")
        throw bad_request(p + ".role", "unknown role '" + role + "'");
      if (role == "user") last_user = i;
    }
    if (!last_user) throw bad_request("messages", "no user message", "missing_required_parameter");
    const std::string mp = fmt::format("messages[{}]", *last_user);
    const auto& msg = messages[*last_user];
    if (!msg.contains("content"))
      throw bad_request(mp + ".content", "required", "missing_required_parameter");
    const auto& content = msg["content"];
    if (content.is_string()) {
      r.text = content.get<std::string>();
    } else if (content.is_array()) {
      for (size_t k = 0; k < content.size(); ++k) {
        const std::string pp = fmt::format("{}.content[{}]", mp, k);
        const auto& part = content[k];
        if (!part.is_object()) throw bad_request(pp, "expected a content part object", "invalid_type");
        if (!part.contains("type")) throw bad_request(pp + ".type", "required", "missing_required_parameter");
        const auto type = string_of(part, "type", pp + ".type");
        if (type == "text") {
          if (!part.contains("text"))
            throw bad_request(pp + ".text", "required", "missing_required_parameter");
          r.text += (r.text.empty() ? "" : "\n") + string_of(part, "text", pp + ".text");
        } else if (type == "input_audio") {
          if (!r.audio.empty()) throw bad_request(pp, "one input_audio part per message");
          if (!part.contains("input_audio"))
            throw bad_request(pp + ".input_audio", "required", "missing_required_parameter");
          const auto& ia = expect(part, "input_audio", &Json::is_object, "an object", pp + ".input_audio");
          if (!ia.contains("data"))
            throw bad_request(pp + ".input_audio.data", "required", "missing_required_parameter");
          const auto data = string_of(ia, "data", pp + ".input_audio.data");
          if (data.size() / 4 * 3 > limits.max_audio_bytes + 3)
            throw bad_request(pp + ".input_audio.data",
                              fmt::format("audio of {} bytes is over this server's limit of {}",
                                          data.size() / 4 * 3, limits.max_audio_bytes),
                              "audio_too_large");
          if (ia.contains("format")) {
            const auto format = string_of(ia, "format", pp + ".input_audio.format");
            if (format != "wav" && format != "flac" && format != "ogg")
              throw bad_request(pp + ".input_audio.format",
                                "'" + format + "': this server reads wav, flac or ogg", "unsupported_format");
          }
          try {
            r.audio = io::base64_decode(data, pp + ".input_audio.data");
          } catch (const Error& e) {
            throw bad_request(pp + ".input_audio.data", e.what(), "invalid_base64");
          }
          if (r.audio.empty()) throw bad_request(pp + ".input_audio.data", "empty audio");
          r.audio_param = pp + ".input_audio.data";
        } else {
          throw bad_request(pp + ".type", "'" + type + "': this server takes text and input_audio parts",
                            "unsupported_content_type");
        }
      }
    } else {
      throw bad_request(mp + ".content", "expected a string or an array of parts, got " + type_name(content),
                        "invalid_type");
    }
    if (r.audio.empty() && r.text.empty())
      throw bad_request(mp + ".content", "nothing to answer: give an input_audio part or text");

    if (j.contains("modalities") && !j["modalities"].is_null()) {
      const auto& mods = expect(j, "modalities", &Json::is_array, "an array", "modalities");
      bool text = false;
      r.want_audio = false;
      for (size_t k = 0; k < mods.size(); ++k) {
        const std::string p = fmt::format("modalities[{}]", k);
        if (!mods[k].is_string()) throw bad_request(p, "expected \"text\" or \"audio\"", "invalid_type");
        const auto m = mods[k].get<std::string>();
        if (m == "text")
          text = true;
        else if (m == "audio")
          r.want_audio = true;
        else
          throw bad_request(p, "'" + m + "': expected \"text\" or \"audio\"");
      }
      if (!text && !r.want_audio) throw bad_request("modalities", "empty");
    }
    if (j.contains("audio") && !j["audio"].is_null()) {
      const auto& audio = expect(j, "audio", &Json::is_object, "an object", "audio");
      if (audio.contains("format")) {
        r.audio_format = string_of(audio, "format", "audio.format");
        if (r.audio_format != "wav" && r.audio_format != "pcm16")
          throw bad_request("audio.format", "'" + r.audio_format + "': this server gives wav or pcm16",
                            "unsupported_format");
      }
      if (audio.contains("voice") && !audio["voice"].is_string())
        throw bad_request("audio.voice", "expected a string", "invalid_type");
    }
    if (j.contains("stream") && !j["stream"].is_null())
      r.stream = expect(j, "stream", &Json::is_boolean, "a boolean", "stream").get<bool>();
    if (j.contains("affect") && !j["affect"].is_null()) r.affect = parse_affect(j["affect"], "affect");
    if (j.contains("temperature") && !j["temperature"].is_null())
      r.temperature = number_in(j, "temperature", 0, 2, "temperature");
    if (j.contains("top_p") && !j["top_p"].is_null()) {
      r.top_p = number_in(j, "top_p", 0, 1, "top_p");
      if (*r.top_p <= 0) throw bad_request("top_p", "must be > 0");
    }
    for (const char* key : {"max_completion_tokens", "max_tokens"}) {
      if (!j.contains(key) || j[key].is_null() || r.max_tokens) continue;
      const auto& v = j[key];
      if (!v.is_number_integer() || v.get<double>() < 1 || v.get<double>() > limits.max_tokens)
        throw bad_request(key,
                          fmt::format("must be an integer in [1, {}], got {}", limits.max_tokens, v.dump()));
      r.max_tokens = static_cast<int>(v.get<int64_t>());
    }
    if (j.contains("seed") && !j["seed"].is_null()) {
      const auto& v = j["seed"];
      if (v.is_number_unsigned())
        r.seed = v.get<uint64_t>();
      else if (v.is_number_integer())
        r.seed = static_cast<uint64_t>(v.get<int64_t>());
      else
        throw bad_request("seed", "expected an integer, got " + v.dump(), "invalid_type");
    }
    if (j.contains("n") && !j["n"].is_null() && !(j["n"].is_number_integer() && j["n"].get<int64_t>() == 1))
      throw bad_request("n", "this server gives one choice (n = 1)");
  } catch (const ApiError&) {
    throw;
  } catch (const std::exception& e) {  // a JSON accessor refused: still the client's request
    throw bad_request("", e.what());
  }
  return r;
}

}  // namespace symp::serve
