#pragma once
// The gen-data manifest: one record per (query, reply) in CORPUS/manifest.jsonl. gen-data writes it;
// tokenize (fit, encode, roundtrip), infer, the datasheet, eval-prosody, the judge's proxy and the
// quickstart report read it, all through this one type.
//
// To add a field: a member here, its name in lib/records/manifest.cpp (read and written there), and the
// stage that fills it (lib/data/gen_data.cpp). Readers that do not use it need no change.
#include "symp/io/jsonl.h"

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>

namespace symp::records {

struct ManifestRecord {
  std::string where;  // "FILE:LINE: record ID", for errors (not a field)
  std::string id;     // required: unique in the corpus
  // gen-data writes every field below; other producers may leave some out ("" / nullopt). A stage asks for
  // the ones it needs with require().
  std::string split;                       // "emotional" or "neutral"
  std::string partition;                   // "train" or "eval"
  std::optional<double> valence, arousal;  // the reply's target condition, in [-1, 1]
  std::string response_text;
  std::string query_audio, response_audio;  // relative to the corpus folder (or absolute)
  std::string query_id;       // the query this reply answers (the neutral split repeats one query 12 times)
  std::string emotion;        // the reply's target anchor
  std::string query_emotion;  // the emotion in the query's voice ("neutral" in the neutral split)
  std::string query_text;
  std::string speaker, response_speaker;                    // espeak-ng voices (or the TTS server's)
  std::optional<double> query_duration, response_duration;  // seconds
  io::Json extra = io::Json::object();                      // fields this type does not know, kept

  // query_id, else id: the query an input stands for.
  const std::string& query_key() const { return query_id.empty() ? id : query_id; }
};

enum class ManifestField { Split, Partition, Va, ResponseText, QueryText, QueryAudio, Audio, Emotion };
// InputError "WHERE: field 'F': missing" for the first of `fields` the record lacks (Audio: query_audio and
// response_audio, "the record has no audio"; Va: valence and arousal).
void require(const ManifestRecord& r, std::initializer_list<ManifestField> fields);

// Parses one record: `id` required; every other field checked for its type when present, split and
// partition for their values, VA for [-1, 1] ("WHERE: field 'F': ...").
ManifestRecord parse_manifest_record(const io::Json& j, const std::string& where);
io::Json to_json(const ManifestRecord& r);

// The manifest of a corpus folder: CORPUS/manifest.jsonl.
std::string manifest_path(const std::string& corpus_dir);
// fn(record, line) for each record of a manifest file, in order.
void for_each_manifest_record(const std::string& path,
                              const std::function<void(const ManifestRecord&, size_t line)>& fn);
// A record's audio path (query_audio, response_audio or an alias) as a path to open: relative to the folder
// of the file that holds the record. A path that leaves that folder (absolute, or climbing out with "..")
// is refused with an InputError "WHERE: audio path 'P' leaves the folder of FILE ...", unless the user let
// it through (allow_outside_paths: `symp --allow-outside-paths`, or SYMP_ALLOW_OUTSIDE_PATHS=1). The
// check is on the path as written; a symbolic link inside the folder is followed wherever it points.
std::string resolve_audio(const std::string& file, const std::string& audio, const std::string& where);
// Whether resolve_audio lets absolute paths and ".." through; off unless the user asks (process-wide).
void allow_outside_paths(bool allow);
bool outside_paths_allowed();

}  // namespace symp::records
