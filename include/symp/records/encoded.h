#pragma once
// The encoded training record: one line of tokenize encode's encoded_{train,eval}.jsonl. tokenize writes
// it; train-lora, probe and the reports read it through this type.
#include "symp/io/jsonl.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace symp::records {

struct EncodedRecord {
  std::vector<int64_t> input_ids;  // required: tokenizer prefix + the record's text as ids (>= 2)
  std::string id;                  // the manifest record's id ("" when absent: readers use the line number)
  std::string text;                // the record as text, without the tokenizer prefix
  std::optional<double> valence, arousal;         // the condition; null when it is N/A
  std::string condition;                          // "va" or "na"
  std::optional<int64_t> assistant_start;         // index of the first id of the reply
  std::optional<std::vector<int64_t>> loss_mask;  // per-id 0/1 (other producers; wins over assistant_start)
  std::optional<int64_t> length;                  // input_ids.size()
  std::string split, partition, emotion;          // from the manifest
  std::optional<int64_t> query_tokens, response_tokens;  // speech ids of the query and the reply
  io::Json extra = io::Json::object();
};

// Parses one record: input_ids required (an array of at least 2 integers); the others optional, each
// checked for its type; assistant_start and loss_mask must fit input_ids.
EncodedRecord parse_encoded_record(const io::Json& j, const std::string& where);
io::Json to_json(const EncodedRecord& r);
void for_each_encoded_record(const std::string& path,
                             const std::function<void(const EncodedRecord&, size_t line)>& fn);

}  // namespace symp::records
