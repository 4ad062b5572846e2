#pragma once
// A reply record: one line of infer's responses.jsonl. infer writes it; eval-prosody, transcribe, judge and
// the reports read it, and they also read replies other tools wrote (and gen-data manifests, whose
// records are replies too). The reader accepts these aliases, first present wins:
//   response_audio | audio | wav | audio_path  the reply's audio (relative to the file's folder)
//   response_text | text                       the model's own text of the reply
//   response_duration | duration               seconds of reply audio
//   system | checkpoint | adapter              the system the reply belongs to
//   reference_text | reference                 a reference reply for the general-ability metrics
// Everything else by its own name. Only `id` is required (a string or an integer). A number field
// (durations, token counts, VA, timings) or `query_id` present with the wrong type is an error naming the
// file, line and field; a text field holding something other than a string counts as absent, as the
// readers of other tools' files always treated it.
#include "symp/io/jsonl.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace symp::records {

struct ResponseRecord {
  std::string id;        // SYSTEM__QUERY__CONDITION in infer's files
  std::string key;       // infer's resume key
  std::string system;    // base or the adapter's name
  std::string adapter;   // the adapter's folder ("" for the base)
  std::string query_id;  // the input this reply answers
  std::string input;     // the input's audio path
  std::string query_text;
  std::string condition;         // the condition's name: an anchor, "NA", an interpolation, "v+0.50_a-0.20"
  std::string condition_source;  // emotion, va, interpolate, none, ...
  std::string emotion;           // target anchor ("" = null: a condition that is not an anchor)
  std::string target_emotion;    // other tools' name for it
  std::string cue_modality;      // sensing: the cue's modality ("" = null)
  std::string prompt, prompt_style;
  std::string setting;           // "neutral" / "emotional" ("" = null)
  std::string split, partition;  // when the replies are a gen-data manifest
  std::string query_emotion;     // emotion in the user's voice ("" = null)
  std::string reference_text;    // ("" = null)
  std::string response_text;
  std::string response_audio;  // relative to the file's folder ("" = null: no audio)
  std::optional<double> response_duration;
  std::optional<int64_t> prompt_tokens, text_tokens, audio_tokens;
  std::string stopped;     // eos, user, observation, max_new_tokens
  std::string stop_token;  // ("" = null)
  std::optional<double> generation_seconds, decode_seconds, tokens_per_second, first_audio_seconds;
  std::optional<double> requested_valence, requested_arousal;  // asked for, before VA noise
  std::optional<double> valence, arousal;                      // used (null: N/A)
  std::string transcript;                                      // ASR text (transcribe)
  io::Json extra = io::Json::object();
};

ResponseRecord parse_response_record(const io::Json& j, const std::string& where);
// infer's record: every field above it writes, nulls included (transcript and the aliases are not written).
io::Json to_json(const ResponseRecord& r);
// tolerate_torn_tail: as io::for_each_jsonl (a file another process may be appending to).
void for_each_response_record(const std::string& path,
                              const std::function<void(const ResponseRecord&, size_t line)>& fn,
                              bool tolerate_torn_tail = false);
// The name of the field that holds a record's audio (response_audio or an alias) and its value, or {"", ""}:
// for tools that pass the rest of the record through untouched (transcribe).
std::pair<std::string, std::string> response_audio_field(const io::Json& j);
// Sets the transcript of a record passed through as JSON (null: no audio to transcribe).
void set_transcript(io::Json& j, const std::optional<std::string>& transcript);

}  // namespace symp::records
