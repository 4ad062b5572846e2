#include "symp/judge/rubric.h"

#include <cctype>
#include <cstdio>

#include "symp/core/error.h"
#include "symp/core/fs.h"

namespace symp::judge {
namespace {

std::string fill(std::string text, const std::string& key, const std::string& value) {
  for (size_t pos = text.find(key); pos != std::string::npos; pos = text.find(key, pos + value.size())) {
    text.replace(pos, key.size(), value);
  }
  return text;
}

std::string two_decimals(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", x);
  return buf;
}

bool word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

}  // namespace

Setting parse_setting(const std::string& name, const std::string& what) {
  if (name == "neutral") return Setting::Neutral;
  if (name == "emotional") return Setting::Emotional;
  if (name == "commoneval") return Setting::CommonEval;
  throw UsageError(what + ": '" + name + "' is not a setting (neutral, emotional, commoneval)");
}

std::string setting_name(Setting setting) {
  return setting == Setting::Neutral ? "neutral" : setting == Setting::Emotional ? "emotional" : "commoneval";
}

Rubrics Rubrics::load(const std::string& dir) {
  auto path = [&](const char* name) {
    return dir.empty() ? data_path(std::string("judge/") + name) : fs::path(dir) / name;
  };
  Rubrics r;
  r.emotional = read_text_file(path("emotional.txt"));
  r.neutral = read_text_file(path("neutral.txt"));
  r.helpfulness = read_text_file(path("helpfulness.txt"));
  r.commoneval = read_text_file(path("commoneval.txt"));
  r.user = read_text_file(path("user.txt"));
  return r;
}

std::string Rubrics::rubric_name(Setting setting, const std::string& emotion) {
  if (setting == Setting::CommonEval) return "commoneval";
  if (emotion == "neutral") return "helpfulness";
  return setting_name(setting);
}

std::string Rubrics::system_prompt(Setting setting, const std::string& emotion, double valence,
                                   double arousal) const {
  const std::string name = rubric_name(setting, emotion);
  const std::string& text = name == "helpfulness"  ? helpfulness
                            : name == "neutral"    ? neutral
                            : name == "commoneval" ? commoneval
                                                   : emotional;
  return fill(fill(fill(text, "{emotion}", emotion), "{valence}", two_decimals(valence)), "{arousal}",
              two_decimals(arousal));
}

std::optional<int> parse_rating(const std::string& reply) {
  // First pass: "[1-5]\s*\|".
  for (size_t i = 0; i < reply.size(); ++i) {
    if (reply[i] < '1' || reply[i] > '5') continue;
    size_t j = i + 1;
    while (j < reply.size() && std::isspace(static_cast<unsigned char>(reply[j]))) ++j;
    if (j >= reply.size() || reply[j] != '|') continue;
    // "\s*.+" after the bar: some character that is not a line break, after any whitespace.
    for (size_t k = j + 1; k < reply.size(); ++k)
      if (reply[k] != '\n' && reply[k] != '\r' && !std::isspace(static_cast<unsigned char>(reply[k])))
        return reply[i] - '0';
  }
  // Second pass: a lone digit 1-5 ("\b[1-5]\b").
  for (size_t i = 0; i < reply.size(); ++i) {
    if (reply[i] < '1' || reply[i] > '5') continue;
    bool left = i == 0 || !word_char(reply[i - 1]);
    bool right = i + 1 == reply.size() || !word_char(reply[i + 1]);
    if (left && right) return reply[i] - '0';
  }
  return std::nullopt;
}

}  // namespace symp::judge
