#pragma once
// Replies to evaluate, read from infer's responses.jsonl (or any JSONL with the same fields), one file
// or several, each belonging to one system (a model, an adapter, a checkpoint).
//
// Records are read through symp/records/response.h (its aliases of other tools' field names included); what
// the judge makes of them (first one present wins):
//   id                                   required (string or number)
//   response_audio | audio | wav | audio_path   the reply's audio, relative to the file's folder
//   emotion | condition                  target emotion (neutral setting) or the user's (emotional);
//                                        without either, the anchor nearest to (valence, arousal)
//   valence, arousal                     the VA the reply was asked for; else the emotion's anchor
//                                        (condition "NA" without either: no target, see no_target)
//   setting | split                      "neutral" or "emotional" (else the command's default)
//   query_emotion                        emotional setting: the emotion in the user's voice, judged against
//                                        instead of emotion/condition (infer --split emotional writes it)
//   system | checkpoint | adapter        else the name given with the file, else its folder's name
//   transcript                           ASR text of the reply audio (for similarity and WER)
//   response_duration | duration         seconds of reply audio (the similarity filters on transcripts)
//   response_text | text                 the model's own text of the reply
//   query_id | input | query_text        what groups the replies to one query across target emotions
//   reference_text | reference           a reference reply for the general-ability metrics
#include <optional>
#include <string>
#include <vector>

#include "symp/judge/rubric.h"

namespace symp::judge {

struct Response {
  std::string where;  // "file:line", for messages
  std::string system;
  std::string id;
  std::string audio;  // absolute or as given; empty when the record has none
  std::string emotion;
  double valence = 0.0;
  double arousal = 0.0;
  Setting setting = Setting::Neutral;
  std::string transcript;
  double duration = -1;  // seconds of reply audio; -1 when the record does not say
  std::string text;
  std::string query;
  std::string reference;
  bool no_target = false;  // the N/A condition: kept for general ability, left out of judge and similarity

  // The text similarity works on: the transcript when there is one, else the model's own text.
  const std::string& spoken_text() const { return transcript.empty() ? text : transcript; }
};

// "NAME=PATH" or "PATH". The name, when given, overrides records' `system` fields.
struct ResponseSource {
  std::string system;
  std::string path;
  static ResponseSource parse(const std::string& spec);
};

std::vector<Response> read_responses(const std::vector<std::string>& specs, Setting default_setting);

// The systems in order of first appearance.
std::vector<std::string> systems_of(const std::vector<Response>& responses);

}  // namespace symp::judge
