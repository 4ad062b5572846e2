// The reply record: its field names (and the aliases of other tools' files), its reader and its writer.
#include "symp/records/response.h"

#include "symp/records/fields.h"

namespace symp::records {

namespace {
const std::initializer_list<const char*> audio_names = {"response_audio", "audio", "wav", "audio_path"};
}

ResponseRecord parse_response_record(const io::Json& j, const std::string& where) {
  const Fields f(j, where);
  f.schema_version(1);
  ResponseRecord r;
  r.id = f.id("id");
  r.key = f.first({"key"});
  r.system = f.first({"system", "checkpoint", "adapter"});
  r.adapter = f.first({"adapter"});
  r.query_id = f.opt_id("query_id").value_or("");
  r.input = f.first({"input"});
  r.query_text = f.first({"query_text"});
  r.condition = f.first({"condition"});
  r.condition_source = f.first({"condition_source"});
  r.emotion = f.first({"emotion"});
  r.target_emotion = f.first({"target_emotion"});
  r.cue_modality = f.first({"cue_modality"});
  r.prompt = f.first({"prompt"});
  r.prompt_style = f.first({"prompt_style"});
  r.setting = f.first({"setting"});
  r.split = f.first({"split"});
  r.partition = f.first({"partition"});
  r.query_emotion = f.first({"query_emotion"});
  r.reference_text = f.first({"reference_text", "reference"});
  r.response_text = f.first({"response_text", "text"});
  r.response_audio = f.first(audio_names);
  r.response_duration = f.has("response_duration") ? f.opt_num("response_duration") : f.opt_num("duration");
  r.prompt_tokens = f.opt_integer("prompt_tokens");
  r.text_tokens = f.opt_integer("text_tokens");
  r.audio_tokens = f.opt_integer("audio_tokens");
  r.stopped = f.first({"stopped"});
  r.stop_token = f.first({"stop_token"});
  r.generation_seconds = f.opt_num("generation_seconds");
  r.decode_seconds = f.opt_num("decode_seconds");
  r.tokens_per_second = f.opt_num("tokens_per_second");
  r.first_audio_seconds = f.opt_num("first_audio_seconds");
  r.requested_valence = f.opt_num("requested_valence");
  r.requested_arousal = f.opt_num("requested_arousal");
  r.valence = f.opt_num("valence");
  r.arousal = f.opt_num("arousal");
  r.transcript = f.first({"transcript"});
  r.extra = f.unknown({kSchemaVersionField,
                       "id",
                       "key",
                       "system",
                       "checkpoint",
                       "adapter",
                       "query_id",
                       "input",
                       "query_text",
                       "condition",
                       "condition_source",
                       "emotion",
                       "target_emotion",
                       "cue_modality",
                       "prompt",
                       "prompt_style",
                       "setting",
                       "split",
                       "partition",
                       "query_emotion",
                       "reference_text",
                       "reference",
                       "response_text",
                       "text",
                       "response_audio",
                       "audio",
                       "wav",
                       "audio_path",
                       "response_duration",
                       "duration",
                       "prompt_tokens",
                       "text_tokens",
                       "audio_tokens",
                       "stopped",
                       "stop_token",
                       "generation_seconds",
                       "decode_seconds",
                       "tokens_per_second",
                       "first_audio_seconds",
                       "requested_valence",
                       "requested_arousal",
                       "valence",
                       "arousal",
                       "transcript"});
  return r;
}

io::Json to_json(const ResponseRecord& r) {
  io::Json j = {{"key", r.key},
                {"id", r.id},
                {"system", r.system},
                {"adapter", r.adapter},
                {"query_id", r.query_id},
                {"input", r.input},
                {"query_text", r.query_text},
                {"condition", r.condition},
                {"condition_source", r.condition_source},
                {"emotion", or_null(r.emotion)},
                {"cue_modality", or_null(r.cue_modality)},
                {"prompt", r.prompt},
                {"prompt_style", r.prompt_style},
                {"setting", or_null(r.setting)},
                {"query_emotion", or_null(r.query_emotion)},
                {"reference_text", or_null(r.reference_text)},
                {"response_text", r.response_text},
                {"response_audio", or_null(r.response_audio)},
                {"response_duration", or_null(r.response_duration)},
                {"prompt_tokens", or_null(r.prompt_tokens)},
                {"text_tokens", or_null(r.text_tokens)},
                {"audio_tokens", or_null(r.audio_tokens)},
                {"stopped", r.stopped},
                {"stop_token", or_null(r.stop_token)},
                {"generation_seconds", or_null(r.generation_seconds)},
                {"decode_seconds", or_null(r.decode_seconds)},
                {"tokens_per_second", or_null(r.tokens_per_second)},
                {"valence", or_null(r.valence)},
                {"arousal", or_null(r.arousal)}};
  if (r.first_audio_seconds) j["first_audio_seconds"] = *r.first_audio_seconds;
  if (r.requested_valence) j["requested_valence"] = *r.requested_valence;
  if (r.requested_arousal) j["requested_arousal"] = *r.requested_arousal;
  if (!r.transcript.empty()) j["transcript"] = r.transcript;
  merge_unknown(j, r.extra);
  return j;
}

void for_each_response_record(const std::string& path,
                              const std::function<void(const ResponseRecord&, size_t line)>& fn,
                              bool tolerate_torn_tail) {
  io::for_each_jsonl(
      path,
      [&](const io::Json& j, size_t line) {
        fn(parse_response_record(j, path + ":" + std::to_string(line)), line);
      },
      tolerate_torn_tail);
}

std::pair<std::string, std::string> response_audio_field(const io::Json& j) {
  for (const char* f : audio_names) {
    auto it = j.find(f);
    if (it != j.end() && it->is_string() && !it->get<std::string>().empty())
      return {f, it->get<std::string>()};
  }
  return {"", ""};
}

void set_transcript(io::Json& j, const std::optional<std::string>& transcript) {
  j["transcript"] = transcript ? io::Json(*transcript) : io::Json(nullptr);
}

}  // namespace symp::records
