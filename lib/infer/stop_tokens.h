#pragma once
// The ids that end a generated reply, for `symp infer` (private to lib/infer).
#include <cstdint>
#include <map>
#include <string>

#include "symp/text/sequence_tokenizer.h"

namespace symp::infer {

// Ids that end a reply, with their names: <|user|> and <|observation|> (the chat format's turn ends; the
// first is required) and the end-of-text ids the model folder's generation_config.json (eos_token_id, a
// number or a list) and the tokenizer folder's tokenizer_config.json (eos_token) name. InputError naming
// the file for a malformed field.
std::map<int64_t, std::string> stop_tokens(const std::string& model_dir, const std::string& tokenizer_dir,
                                           const text::ChatTokenizer& tokenizer);

}  // namespace symp::infer
