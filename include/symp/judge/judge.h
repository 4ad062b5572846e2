#pragma once
// `symp judge`: everything the paper's tables report about replies, for several systems in one run.
//   - the audio LLM judge (audio_judge.h), when a judge endpoint is given;
//   - an offline PROXY judge (proxy.h), when a corpus manifest is given: named as a proxy in its outputs;
//   - diversity across target emotions, lexical always, semantic when an encoder is given (similarity.h);
//   - general ability: ROUGE-L and BERTScore F1 against references, ASR-WER (similarity.h).
// Writes to `out_dir`: judge_items.jsonl (one line per judged reply), judge_summary.json (per system and
// setting), proxy_items.jsonl and proxy_summary.json, similarity.json, general.json, table.md (the paper's
// table shape) and judge.json (all of it).
#include <string>
#include <vector>

#include "symp/judge/audio_judge.h"
#include "symp/text/bertscore.h"
#include "symp/text/embedder.h"

namespace symp::judge {

struct JudgeOptions {
  std::vector<std::string> responses;       // responses.jsonl files, each "PATH" or "SYSTEM=PATH"
  std::string out_dir;                      // where the results go
  std::string default_setting = "neutral";  // for records without a setting/split field
  bool audio_judge = true;                  // run the audio LLM judge (needs a server)
  AudioJudgeOptions audio;                  // the judge endpoint and its sampling
  std::string proxy_corpus;                 // gen-data manifest: adds the offline PROXY judge (proxy.h)
  double similarity_min_seconds = 10.0;     // transcripts of shorter replies leave the similarity (the
                                            // reference's filter; 0 keeps every reply)
  void validate() const;
};

struct JudgeEncoders {
  text::TokenEncoder* bertscore = nullptr;          // BERTScore (semantic similarity and general ability)
  text::TokenEncoder* general_bertscore = nullptr;  // BERTScore for general ability only, when it differs
                                                    // (the reference: bert-base-uncased there, distilbert
                                                    // for similarity); null: `bertscore`
  text::Embedder* embedder = nullptr;               // sentence cosine, when no BERTScore encoder is given
};

// Runs every part the inputs allow and returns the combined results (also written to judge.json).
io::Json run_judge(const JudgeOptions& options, const JudgeEncoders& encoders);

// The paper-shaped markdown table from run_judge's result.
std::string format_table(const io::Json& results);

}  // namespace symp::judge
