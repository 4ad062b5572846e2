// Sympatheia training sequences: the reference layout, the interleaved option and the N/A choice.
#include "symp/text/sequence.h"

#include "symp/core/error.h"
#include "symp/core/rng.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace symp::text {

namespace {

std::string audio_tags(const std::vector<int64_t>& codes) {
  std::string out;
  out.reserve(codes.size() * 14);
  for (int64_t c : codes) out += "<|audio_" + std::to_string(c) + "|>";
  return out;
}

// Everything up to and including "<|assistant|>\n": the inference prompt.
std::string prompt_text(const SequenceInput& record) {
  return "<|system|>\n" + (record.system ? *record.system : affect::system_prompt(record.condition)) +
         "\n<|user|>\n" + audio_tags(record.query_codes) + "\n<|assistant|>\n";
}

// The part of affect::system_prompt() every style shares.
constexpr const char* kRespondInEnglish = "Please respond in English.";

}  // namespace

const char* const kGlm4VoiceSystem =
    "User will provide you with a speech instruction. Do it step by step. First, think about the "
    "instruction and respond in a interleaved manner, with 13 text token followed by 26 audio tokens. ";

PromptStyle parse_prompt_style(const std::string& name) {
  if (name == "sympatheia") return PromptStyle::Sympatheia;
  if (name == "emotion-text") return PromptStyle::EmotionText;
  if (name == "plain") return PromptStyle::Plain;
  if (name == "glm4voice") return PromptStyle::Glm4Voice;
  throw UsageError("prompt style must be sympatheia, emotion-text, plain or glm4voice, got \"" + name + "\"");
}

std::string prompt_style_name(PromptStyle style) {
  switch (style) {
    case PromptStyle::Sympatheia:
      return "sympatheia";
    case PromptStyle::EmotionText:
      return "emotion-text";
    case PromptStyle::Plain:
      return "plain";
    case PromptStyle::Glm4Voice:
      return "glm4voice";
  }
  return "?";
}

std::string style_system_line(PromptStyle style, const std::optional<affect::VA>& condition,
                              const std::string& emotion) {
  switch (style) {
    case PromptStyle::Sympatheia:
      return affect::system_prompt(condition);
    case PromptStyle::EmotionText:
      // Without a condition the baseline has nothing to state: the plain instruction.
      return emotion.empty() ? kRespondInEnglish
                             : std::string(kRespondInEnglish) + " The user is feeling " + emotion + ".";
    case PromptStyle::Plain:
      return kRespondInEnglish;
    case PromptStyle::Glm4Voice:
      return kGlm4VoiceSystem;
  }
  return "";
}

InferencePrompt build_prompt(PromptStyle style, const std::optional<affect::VA>& condition,
                             const std::string& emotion, const std::vector<int64_t>& query_codes,
                             const ChatTokenizer& tokenizer) {
  InferencePrompt out;
  out.system = style_system_line(style, condition, emotion);
  if (style == PromptStyle::Glm4Voice) {
    out.text = "<|system|>\n" + out.system + "<|user|>\n<|begin_of_audio|>" + audio_tags(query_codes) +
               "<|end_of_audio|><|assistant|>streaming_transcription\n";
  } else {
    SequenceInput record;
    record.condition = condition;
    record.system = out.system;
    record.query_codes = query_codes;
    out.text = prompt_text(record);
  }
  out.ids = tokenizer.prefix_ids();
  const auto body = tokenizer.encode(out.text);
  out.ids.insert(out.ids.end(), body.begin(), body.end());
  return out;
}

SequenceLayout parse_layout(const std::string& name) {
  if (name == "reference") return SequenceLayout::Reference;
  if (name == "interleaved") return SequenceLayout::Interleaved;
  throw UsageError("layout must be \"reference\" or \"interleaved\", got \"" + name + "\"");
}

std::string layout_name(SequenceLayout layout) {
  return layout == SequenceLayout::Reference ? "reference" : "interleaved";
}

ConditionMode parse_condition_mode(const std::string& name) {
  if (name == "paper") return ConditionMode::Paper;
  if (name == "none") return ConditionMode::None;
  throw UsageError("--condition-mode: \"paper\" or \"none\", got \"" + name + "\"");
}

std::string condition_mode_name(ConditionMode mode) {
  return mode == ConditionMode::Paper ? "paper" : "none";
}

void SequenceOptions::validate() const {
  if (interleave_text < 1)
    throw UsageError(fmt::format("interleave_text must be >= 1, got {}", interleave_text));
  if (interleave_audio < 1)
    throw UsageError(fmt::format("interleave_audio must be >= 1, got {}", interleave_audio));
  if (!(na_fraction >= 0.0 && na_fraction <= 1.0))
    throw UsageError(fmt::format("na_fraction must be in [0, 1], got {}", na_fraction));
  if (max_length < 1) throw UsageError(fmt::format("max_length must be >= 1, got {}", max_length));
}

std::string reference_text(const SequenceInput& record) {
  return prompt_text(record) + record.response_text + "\n" + audio_tags(record.response_codes) + "<|user|>";
}

EncodedSequence build_sequence(const SequenceInput& record, const ChatTokenizer& tokenizer,
                               const SequenceOptions& options) {
  EncodedSequence out;
  const std::string prompt = prompt_text(record);
  out.input_ids = tokenizer.prefix_ids();
  const std::vector<int64_t> prompt_ids = tokenizer.encode(prompt);
  out.input_ids.insert(out.input_ids.end(), prompt_ids.begin(), prompt_ids.end());
  out.assistant_start = static_cast<int64_t>(out.input_ids.size());

  if (options.layout == SequenceLayout::Reference) {
    // Encoded in two parts so the prompt's ids are exactly the inference prompt's.
    const std::string rest = record.response_text + "\n" + audio_tags(record.response_codes) + "<|user|>";
    const std::vector<int64_t> rest_ids = tokenizer.encode(rest);
    out.input_ids.insert(out.input_ids.end(), rest_ids.begin(), rest_ids.end());
    out.text = prompt + rest;
    return out;
  }

  const std::vector<int64_t> text_ids = tokenizer.encode(record.response_text);
  size_t t = 0, a = 0;
  while (t < text_ids.size() || a < record.response_codes.size()) {
    for (int k = 0; k < options.interleave_text && t < text_ids.size(); ++k)
      out.input_ids.push_back(text_ids[t++]);
    for (int k = 0; k < options.interleave_audio && a < record.response_codes.size(); ++k)
      out.input_ids.push_back(tokenizer.audio_id(record.response_codes[a++]));
  }
  out.input_ids.push_back(tokenizer.special_id("<|user|>"));
  const size_t prefix = tokenizer.prefix_ids().size();
  out.text = tokenizer.decode(std::vector<int64_t>(out.input_ids.begin() + prefix, out.input_ids.end()));
  return out;
}

std::set<std::string> choose_na_records(std::vector<std::string> ids, double fraction, uint64_t seed) {
  std::sort(ids.begin(), ids.end());
  Rng rng(seed);
  rng.shuffle(ids);
  const size_t take = static_cast<size_t>(std::llround(fraction * ids.size()));
  return std::set<std::string>(ids.begin(), ids.begin() + std::min(take, ids.size()));
}

}  // namespace symp::text
