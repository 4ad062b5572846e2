#pragma once
// `symp infer`: user speech + an affect condition -> a spoken reply, with a base model and any number of
// LoRA adapters ("systems"), each reply a WAV plus one line of responses.jsonl (ready for eval-prosody and
// the judge). No torch in this header.
//
//   symp::infer::InferOptions o;  o.model_dir = "base"; o.adapters = {"lora=run/adapter"}; ...
//   symp::infer::run_infer(o);
#include <cstdint>
#include <string>
#include <vector>

#include "symp/affect/condition.h"

namespace symp::infer {

struct SamplingOptions {
  double temperature = 0.2;   // PAPER.md section 4's default; <= 0 means greedy
  double top_p = 0.8;         // nucleus sampling mass
  int max_new_tokens = 2000;  // generation stops here if no <|user|> came first
  void validate() const;
};

struct InferOptions {
  std::string model_dir;              // base model folder (config.json + safetensors, ChatGLM or HF layout)
  std::vector<std::string> adapters;  // PEFT adapter folders, each "DIR" or "NAME=DIR": one system each
  bool include_base = false;          // also answer with the base model alone (system "base")
  std::string base_name = "base";     // system name of the base model
  std::string tokenizer_dir;          // tokenize fit's model folder (text tokenizer + embedded codec)
  std::string codec = "embedded";     // speech codec kind (see symp/codec/codec.h)
  std::string codec_encoder_dir;      // codec folders when they are not tokenizer_dir (GLM-4-Voice)
  std::string codec_decoder_dir;

  std::vector<std::string> audio;  // input WAV files or folders of them
  std::string manifest;            // or a corpus manifest / responses file: query audio per record
  std::string partition;           // with manifest: keep this partition only ("eval", "train"; "" = all)
  std::string split;               // with manifest: keep this split only ("neutral", "emotional"; "" = all)
  int limit = 0;                   // at most this many distinct inputs (0 = all)

  std::string prompt_style = "sympatheia";  // how the prompt states the condition: sympatheia (VA),
                                            // emotion-text (the paper's text baseline), plain (no condition:
                                            // the Emotional setting), glm4voice (the base's own chat prompt)
  std::vector<std::string> styles;          // per system, "NAME=STYLE" (overrides prompt_style for NAME)
  bool stream = false;                      // decode each reply with the codec's streaming decoder
  std::string setting;                      // the evaluation setting each reply records for the judge:
                                            // "" = the manifest record's split; or neutral, emotional,
                                            // commoneval (real spoken questions, e.g. from --audio)

  affect::ConditionOptions condition;  // one condition (or none = N/A) ...
  std::string cues;                    // ... or sensor cues per input (the sensing experiment): a JSONL of
                                       //     {"query_id", "modality", "taxonomy", "probs": {label: p},
                                       //     "emotion"}; each input with cues is answered once per cue (its
                                       //     VA through the affect core) and once without (N/A), and every
                                       //     reply records the cue's `emotion` (what it observed) to judge by
  bool all_emotions = false;           // ... or each of the 12 anchors (the neutral-split protocol)
  bool reference_conditions = false;   // ... or the reference's 19: 12 anchors, happy->sad and
                                       //     anxious->relaxed at t = 0.25/0.5/0.75, and N/A
  std::vector<double> t_sweep;         // ... or --interpolate A,B at each of these t
  SamplingOptions sampling;
  int batch = 1;               // replies of one input and system generated side by side (Engine::replies):
                               // the 12 anchors' replies to a query share each forward pass with 12
  std::string device = "cpu";  // "cpu" or "cuda[:N]"
  std::string dtype = "f32";   // "f32" or "bf16"
  uint64_t seed = 42;     // sampling seeds per reply from (seed, system, input, condition); VA noise from
                          // (seed, input, condition), so every system answers the same noisy condition
  std::string out_dir;    // WAVs under <system>/, responses.jsonl, summary.json
  void validate() const;  // UsageError naming the field
};

struct InferSummary {
  int64_t replies = 0, skipped_existing = 0;
  double tokens_per_second = 0;  // generated tokens / generation seconds, all replies
  double real_time_factor = 0;   // (generation + decoding seconds) / seconds of reply audio
  double audio_seconds = 0;
};

// Answers every input under every condition with every system. Resumable: replies already in
// <out>/responses.jsonl with their WAV (or without audio) are kept and skipped; records whose WAV is gone
// are dropped from the file and redone.
InferSummary run_infer(const InferOptions& options);

}  // namespace symp::infer
