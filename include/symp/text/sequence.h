#pragma once
// Training sequences in Sympatheia's format (PAPER.md section 2), one per corpus record:
//   <|system|>\n{system}\n<|user|>\n{query audio}\n<|assistant|>\n{response text}\n{response audio}<|user|>
// with audio written `<|audio_N|>`, the system line from symp::affect::system_prompt(), the condition
// replaced by N/A for a seeded third of the emotional-split training records, and, as an option,
// GLM-4-Voice's interleaved layout (13 text tokens, then 26 audio tokens, repeated).
#include "symp/affect/affect.h"
#include "symp/text/sequence_tokenizer.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace symp::text {

enum class SequenceLayout {
  Reference,    // response text, then all response audio (the paper's reference layout)
  Interleaved,  // response text and audio alternating in chunks (GLM-4-Voice's streaming layout)
};
// "reference" | "interleaved"; UsageError otherwise.
SequenceLayout parse_layout(const std::string& name);
std::string layout_name(SequenceLayout layout);

// What condition the records carry: Paper (the VA of the record, N/A for na_fraction of the emotional
// training records) or None (every record N/A: a base model that never sees the condition).
enum class ConditionMode { Paper, None };
// "paper" | "none"; UsageError naming --condition-mode otherwise.
ConditionMode parse_condition_mode(const std::string& name);
std::string condition_mode_name(ConditionMode mode);

struct SequenceOptions {
  SequenceLayout layout = SequenceLayout::Reference;  // record layout
  int interleave_text = 13;      // interleaved layout: text tokens per chunk (GLM-4-Voice: 13)
  int interleave_audio = 26;     // interleaved layout: audio tokens per chunk (GLM-4-Voice: 26)
  double na_fraction = 1.0 / 3;  // share of emotional-split training records whose condition is N/A
  uint64_t seed = 42;            // which records get N/A
  int max_length = 2048;         // longer sequences are reported (never cut)
  ConditionMode condition_mode = ConditionMode::Paper;
  void validate() const;  // UsageError naming the field
};

// One record with its audio already encoded.
struct SequenceInput {
  std::string id;
  std::optional<affect::VA> condition;  // nullopt: N/A
  std::optional<std::string> system;    // replaces the system line built from `condition` (prompt styles)
  std::vector<int64_t> query_codes;     // codec ids of the user's speech
  std::string response_text;
  std::vector<int64_t> response_codes;  // codec ids of the reply's speech
};

struct EncodedSequence {
  std::string text;                // the record as text (no tokenizer prefix)
  std::vector<int64_t> input_ids;  // tokenizer prefix + ids of `text`
  int64_t assistant_start = 0;     // index in input_ids of the first id after "<|assistant|>\n"
};

// The reference layout's text of one record, byte for byte.
std::string reference_text(const SequenceInput& record);
// Builds the record in the chosen layout; the ids up to assistant_start are the inference prompt.
EncodedSequence build_sequence(const SequenceInput& record, const ChatTokenizer& tokenizer,
                               const SequenceOptions& options);

// ---- Inference prompts ----

// How an inference prompt states (or leaves out) the user's emotion.
enum class PromptStyle {
  Sympatheia,   // the VA condition: "Please respond in English. User emotion (valence=.., arousal=..)"
  EmotionText,  // the paper's text baseline: "Please respond in English. The user is feeling {emotion}."
  Plain,        // no condition at all: "Please respond in English." (the Emotional setting)
  Glm4Voice,    // GLM-4-Voice's own chat prompt for the untouched base (interleaved 13 text / 26 audio)
};
// "sympatheia" | "emotion-text" | "plain" | "glm4voice"; UsageError otherwise.
PromptStyle parse_prompt_style(const std::string& name);
std::string prompt_style_name(PromptStyle style);

// GLM-4-Voice's system prompt for speech input (PAPER.md section 2; the trailing space is part of it).
extern const char* const kGlm4VoiceSystem;

// The system line of a style. `emotion` is the anchor named in the text baseline ("" for N/A).
std::string style_system_line(PromptStyle style, const std::optional<affect::VA>& condition,
                              const std::string& emotion);

struct InferencePrompt {
  std::string text;          // the prompt as text (no tokenizer prefix)
  std::vector<int64_t> ids;  // tokenizer prefix + ids of `text`
  std::string system;        // the system line used
};
// The prompt a model continues: Sympatheia, EmotionText and Plain are the training layout's prompt (up to
// and including "<|assistant|>\n") with their system line; Glm4Voice is
//   <|system|>\n{kGlm4VoiceSystem}<|user|>\n<|begin_of_audio|>{audio}<|end_of_audio|><|assistant|>streaming_transcription\n
InferencePrompt build_prompt(PromptStyle style, const std::optional<affect::VA>& condition,
                             const std::string& emotion, const std::vector<int64_t>& query_codes,
                             const ChatTokenizer& tokenizer);

// Picks round(fraction x n) of `ids` with a seeded shuffle (ids are sorted first, so the choice does not
// depend on their order).
std::set<std::string> choose_na_records(std::vector<std::string> ids, double fraction, uint64_t seed);

// ---- A whole corpus ----

// Audio file -> codec ids.
using AudioEncoder = std::function<std::vector<int64_t>(const std::string& path)>;
// Audio files -> codec ids, one list per file in order. Called from one thread, with the audio of up to
// CorpusEncodeOptions::batch_records records at a time; a codec that batches on its own (WhisperVQ) gets
// them all at once.
using BatchAudioEncoder =
    std::function<std::vector<std::vector<int64_t>>(const std::vector<std::string>& paths)>;
// A batch encoder that runs `encode` over the files on `threads` threads (first error rethrown, naming
// the file).
BatchAudioEncoder parallel_audio_encoder(AudioEncoder encode, int threads);

struct CorpusEncodeOptions {
  std::string corpus_dir;    // folder with manifest.jsonl (gen-data's output)
  std::string out_dir;       // encoded_train.jsonl, encoded_eval.jsonl, sequence_lengths.{json,png}
  SequenceOptions sequence;  // layout, N/A share, maximum length
  int threads = 2;           // records encoded in parallel
  int batch_records = 16;    // records whose audio goes to the encoder at once (and are saved together)
  std::string encoder_id;    // names the tokenizer and codec; a resumed run with another one starts over
  void validate() const;
};

// The progress file of an unfinished encode: the records done so far, so a killed run continues.
inline constexpr const char* kEncodeProgressFile = ".encode_progress.jsonl";

struct CorpusEncodeSummary {
  int64_t train = 0, eval = 0;               // records written per partition
  int64_t na_records = 0;                    // training records with condition N/A
  int64_t emotional_train = 0;               // emotional-split training records (the N/A pool)
  std::vector<std::string> over_max_length;  // ids of sequences longer than max_length
  std::vector<int64_t> lengths;              // per record, in manifest order
};

// Reads <corpus>/manifest.jsonl, encodes each record's audio, builds its sequence and writes the
// encoded files and a length summary. InputError naming the manifest line and record for a record
// without audio, unreadable audio or a bad field. Resumable: finished records go to
// <out>/.encode_progress.jsonl batch by batch; a rerun with the same manifest, options and encoder_id
// keeps them, and the files it writes equal an uninterrupted run's byte for byte. The progress file is
// removed once the outputs are written.
CorpusEncodeSummary encode_corpus(const CorpusEncodeOptions& options, const ChatTokenizer& tokenizer,
                                  const BatchAudioEncoder& encode_audio);

}  // namespace symp::text
