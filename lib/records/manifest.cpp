// The gen-data manifest record: its field names, its reader and its writer.
#include "symp/records/manifest.h"

#include "symp/affect/affect.h"
#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/records/fields.h"

#include <atomic>

namespace symp::records {

ManifestRecord parse_manifest_record(const io::Json& j, const std::string& where) {
  ManifestRecord r;
  r.id = Fields(j, where).id("id");
  r.where = where + ": record " + r.id;
  const Fields f(j, r.where);
  f.schema_version(1);
  r.split = f.str_or("split", "");
  if (!r.split.empty() && r.split != "emotional" && r.split != "neutral")
    f.fail("split", "must be \"emotional\" or \"neutral\", got \"" + r.split + "\"");
  r.partition = f.str_or("partition", "");
  if (!r.partition.empty() && r.partition != "train" && r.partition != "eval")
    f.fail("partition", "must be \"train\" or \"eval\", got \"" + r.partition + "\"");
  r.valence = f.opt_num("valence");
  r.arousal = f.opt_num("arousal");
  if (r.valence && r.arousal)
    affect::make_va(*r.valence, *r.arousal, r.where + ": fields 'valence'/'arousal'");
  r.response_text = f.str_or("response_text", "");
  r.query_audio = f.str_or("query_audio", "");
  r.response_audio = f.str_or("response_audio", "");
  r.query_id = f.opt_id("query_id").value_or("");
  r.emotion = f.str_or("emotion", "");
  r.query_emotion = f.str_or("query_emotion", "");
  r.query_text = f.str_or("query_text", "");
  r.speaker = f.str_or("speaker", "");
  r.response_speaker = f.str_or("response_speaker", "");
  r.query_duration = f.opt_num("query_duration");
  r.response_duration = f.opt_num("response_duration");
  r.extra =
      f.unknown({kSchemaVersionField, "id", "split", "partition", "query_id", "emotion", "valence", "arousal",
                 "query_emotion", "query_text", "response_text", "query_audio", "response_audio", "speaker",
                 "response_speaker", "query_duration", "response_duration"});
  return r;
}

void require(const ManifestRecord& r, std::initializer_list<ManifestField> fields) {
  auto missing = [&](const char* field, const std::string& why = "missing") {
    throw InputError(r.where + ": field '" + field + "': " + why);
  };
  for (ManifestField field : fields) {
    switch (field) {
      case ManifestField::Split:
        if (r.split.empty()) missing("split");
        break;
      case ManifestField::Partition:
        if (r.partition.empty()) missing("partition");
        break;
      case ManifestField::Va:
        if (!r.valence) missing("valence");
        if (!r.arousal) missing("arousal");
        break;
      case ManifestField::ResponseText:
        if (r.response_text.empty()) missing("response_text", "missing or empty");
        break;
      case ManifestField::QueryText:
        if (r.query_text.empty()) missing("query_text", "missing or empty");
        break;
      case ManifestField::QueryAudio:
        if (r.query_audio.empty()) missing("query_audio", "the record has no audio (missing or empty)");
        break;
      case ManifestField::Audio:
        if (r.query_audio.empty()) missing("query_audio", "the record has no audio (missing or empty)");
        if (r.response_audio.empty()) missing("response_audio", "the record has no audio (missing or empty)");
        break;
      case ManifestField::Emotion:
        if (r.emotion.empty()) missing("emotion");
        break;
    }
  }
}

io::Json to_json(const ManifestRecord& r) {
  io::Json j = {{"id", r.id}};
  auto optional = [&](const char* field, const std::string& v) {
    if (!v.empty()) j[field] = v;
  };
  optional("split", r.split);
  optional("partition", r.partition);
  if (r.valence) j["valence"] = *r.valence;
  if (r.arousal) j["arousal"] = *r.arousal;
  optional("response_text", r.response_text);
  optional("query_audio", r.query_audio);
  optional("response_audio", r.response_audio);
  optional("query_id", r.query_id);
  optional("emotion", r.emotion);
  optional("query_emotion", r.query_emotion);
  optional("query_text", r.query_text);
  optional("speaker", r.speaker);
  optional("response_speaker", r.response_speaker);
  if (r.query_duration) j["query_duration"] = *r.query_duration;
  if (r.response_duration) j["response_duration"] = *r.response_duration;
  merge_unknown(j, r.extra);
  return j;
}

std::string manifest_path(const std::string& corpus_dir) {
  return (fs::path(corpus_dir) / "manifest.jsonl").string();
}

void for_each_manifest_record(const std::string& path,
                              const std::function<void(const ManifestRecord&, size_t line)>& fn) {
  io::for_each_jsonl(path, [&](const io::Json& j, size_t line) {
    fn(parse_manifest_record(j, path + ":" + std::to_string(line)), line);
  });
}

namespace {
std::atomic<bool> g_allow_outside_paths{false};
}  // namespace

void allow_outside_paths(bool allow) {
  g_allow_outside_paths = allow;
}
bool outside_paths_allowed() {
  return g_allow_outside_paths;
}

std::string resolve_audio(const std::string& file, const std::string& audio, const std::string& where) {
  const fs::path p(audio);
  const fs::path normal = p.lexically_normal();
  const bool climbs = !normal.empty() && *normal.begin() == "..";
  if ((p.is_absolute() || climbs) && !outside_paths_allowed()) {
    throw InputError(
        where + ": audio path '" + audio + "' leaves the folder of " + file +
        (p.is_absolute() ? " (an absolute path)" : " (it climbs out with '..')") +
        "; run with --allow-outside-paths (or SYMP_ALLOW_OUTSIDE_PATHS=1) if you trust the file");
  }
  return p.is_absolute() ? p.string() : (fs::path(file).parent_path() / p).string();
}

}  // namespace symp::records
