// The judge's per-item record: its field names, its reader and its writer.
#include "symp/records/judge_item.h"

#include "symp/records/fields.h"

namespace symp::records {

JudgeItemRecord parse_judge_item(const io::Json& j, const std::string& where) {
  const Fields f(j, where);
  f.schema_version(1);
  JudgeItemRecord r;
  r.system = f.str("system");
  r.id = f.id("id");
  r.setting = f.str_or("setting", "");
  r.emotion = f.str_or("emotion", "");
  r.valence = f.opt_num("valence").value_or(0.0);
  r.arousal = f.opt_num("arousal").value_or(0.0);
  r.rubric = f.str_or("rubric", "");
  for (int64_t x : f.opt_integers("ratings").value_or(std::vector<int64_t>{}))
    r.ratings.push_back(static_cast<int>(x));
  r.replies = f.opt_strings("replies").value_or(std::vector<std::string>{});
  r.unparsed_replies = static_cast<int>(f.opt_integer("unparsed_replies").value_or(0));
  r.failed_samples = static_cast<int>(f.opt_integer("failed_samples").value_or(0));
  r.score = f.opt_num("score");
  r.error = f.str_or("error", "");
  r.extra =
      f.unknown({kSchemaVersionField, "system", "id", "setting", "emotion", "valence", "arousal", "rubric",
                 "ratings", "replies", "unparsed_replies", "failed_samples", "score", "error"});
  return r;
}

io::Json to_json(const JudgeItemRecord& r) {
  io::Json j{{"system", r.system},
             {"id", r.id},
             {"setting", r.setting},
             {"emotion", r.emotion},
             {"valence", r.valence},
             {"arousal", r.arousal},
             {"rubric", r.rubric},
             {"ratings", r.ratings},
             {"replies", r.replies},
             {"unparsed_replies", r.unparsed_replies},
             {"failed_samples", r.failed_samples},
             {"score", or_null(r.score)}};
  if (!r.error.empty()) j["error"] = r.error;
  merge_unknown(j, r.extra);
  return j;
}

io::Json to_json(const ProxyItemRecord& r) {
  io::Json j{{"judge", "PROXY"},     {"system", r.system},   {"id", r.id},
             {"setting", r.setting}, {"emotion", r.emotion}, {"score", or_null(r.score)}};
  if (!r.predicted_emotion.empty()) j["predicted_emotion"] = r.predicted_emotion;
  if (!r.error.empty()) j["error"] = r.error;
  return j;
}

std::vector<JudgeItemRecord> read_judge_items(const std::string& path) {
  std::vector<JudgeItemRecord> out;
  io::for_each_jsonl(path, [&](const io::Json& j, size_t line) {
    out.push_back(parse_judge_item(j, path + ":" + std::to_string(line)));
  });
  return out;
}

}  // namespace symp::records
