// The encoded training record: its field names, its reader and its writer.
#include "symp/records/encoded.h"

#include "symp/records/fields.h"

namespace symp::records {

EncodedRecord parse_encoded_record(const io::Json& j, const std::string& where) {
  const Fields f(j, where);
  f.schema_version(1);
  EncodedRecord r;
  r.input_ids = f.integers("input_ids");
  if (r.input_ids.size() < 2) f.fail("input_ids", "expected an array of at least 2 token ids");
  r.id = f.opt_id("id").value_or("");
  r.text = f.str_or("text", "");
  r.valence = f.opt_num("valence");
  r.arousal = f.opt_num("arousal");
  r.condition = f.str_or("condition", "");
  r.assistant_start = f.opt_integer("assistant_start");
  if (r.assistant_start &&
      (*r.assistant_start < 1 || *r.assistant_start >= static_cast<int64_t>(r.input_ids.size())))
    f.fail("assistant_start", std::to_string(*r.assistant_start) + " is not a token index");
  r.loss_mask = f.opt_integers("loss_mask");
  if (r.loss_mask && r.loss_mask->size() != r.input_ids.size())
    f.fail("loss_mask", "expected " + std::to_string(r.input_ids.size()) + " values of 0 or 1");
  r.length = f.opt_integer("length");
  r.split = f.str_or("split", "");
  r.partition = f.str_or("partition", "");
  r.emotion = f.str_or("emotion", "");
  r.query_tokens = f.opt_integer("query_tokens");
  r.response_tokens = f.opt_integer("response_tokens");
  r.extra = f.unknown({kSchemaVersionField, "input_ids", "id", "text", "valence", "arousal", "condition",
                       "assistant_start", "loss_mask", "length", "split", "partition", "emotion",
                       "query_tokens", "response_tokens"});
  return r;
}

io::Json to_json(const EncodedRecord& r) {
  io::Json j = {{"id", r.id},
                {"text", r.text},
                {"valence", or_null(r.valence)},
                {"arousal", or_null(r.arousal)},
                {"condition", r.condition},
                {"input_ids", r.input_ids},
                {"split", r.split},
                {"partition", r.partition},
                {"emotion", r.emotion}};
  if (r.assistant_start) j["assistant_start"] = *r.assistant_start;
  if (r.loss_mask) j["loss_mask"] = *r.loss_mask;
  if (r.length) j["length"] = *r.length;
  if (r.query_tokens) j["query_tokens"] = *r.query_tokens;
  if (r.response_tokens) j["response_tokens"] = *r.response_tokens;
  merge_unknown(j, r.extra);
  return j;
}

void for_each_encoded_record(const std::string& path,
                             const std::function<void(const EncodedRecord&, size_t line)>& fn) {
  io::for_each_jsonl(path, [&](const io::Json& j, size_t line) {
    fn(parse_encoded_record(j, path + ":" + std::to_string(line)), line);
  });
}

}  // namespace symp::records
