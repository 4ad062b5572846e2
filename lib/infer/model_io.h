#pragma once
// What infer and probe share to open their inputs (internal to lib/infer): the chat tokenizer of a folder
// and the device named on the command line.
#include <memory>
#include <string>

#include "symp/nn/torch_pch.h"
#include "symp/text/sequence_tokenizer.h"

namespace symp::infer {

// tokenize fit's folder (tokenizer.json: SentencePiece + the embedded codec) or a GLM-4 tokenizer folder
// (tokenizer_config.json); InputError naming the folder otherwise.
std::unique_ptr<text::ChatTokenizer> open_tokenizer(const std::string& dir);

// "cpu", "cuda", "cuda:N"; UsageError for an unknown name or CUDA where there is none.
torch::Device parse_device(const std::string& name);

}  // namespace symp::infer
