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

struct SequenceOptions {
  SequenceLayout layout = SequenceLayout::Reference;  // record layout
  int interleave_text = 13;              // interleaved layout: text tokens per chunk (GLM-4-Voice: 13)
  int interleave_audio = 26;             // interleaved layout: audio tokens per chunk (GLM-4-Voice: 26)
  double na_fraction = 1.0 / 3;          // share of emotional-split training records whose condition is N/A
  uint64_t seed = 42;                    // which records get N/A
  int max_length = 2048;                 // longer sequences are reported (never cut)
  std::string condition_mode = "paper";  // "paper" (VA, N/A for na_fraction) or "none": every record N/A,
                                         // for a base model that never sees the condition
  void validate() const;                 // UsageError naming the field
};

// One record with its audio already encoded.
struct SequenceInput {
  std::string id;
  std::optional<affect::VA> condition;  // nullopt: N/A
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

// Picks round(fraction x n) of `ids` with a seeded shuffle (ids are sorted first, so the choice does not
// depend on their order).
std::set<std::string> choose_na_records(std::vector<std::string> ids, double fraction, uint64_t seed);

// ---- A whole corpus ----

// Audio file -> codec ids. Called concurrently when CorpusEncodeOptions::threads > 1.
using AudioEncoder = std::function<std::vector<int64_t>(const std::string& path)>;

struct CorpusEncodeOptions {
  std::string corpus_dir;    // folder with manifest.jsonl (gen-data's output)
  std::string out_dir;       // encoded_train.jsonl, encoded_eval.jsonl, sequence_lengths.{json,png}
  SequenceOptions sequence;  // layout, N/A share, maximum length
  int threads = 2;           // records encoded in parallel
  void validate() const;
};

struct CorpusEncodeSummary {
  int64_t train = 0, eval = 0;               // records written per partition
  int64_t na_records = 0;                    // training records with condition N/A
  int64_t emotional_train = 0;               // emotional-split training records (the N/A pool)
  std::vector<std::string> over_max_length;  // ids of sequences longer than max_length
  std::vector<int64_t> lengths;              // per record, in manifest order
};

// Reads <corpus>/manifest.jsonl, encodes each record's audio, builds its sequence and writes the
// encoded files and a length summary. InputError naming the manifest line and record for a record
// without audio, unreadable audio or a bad field.
CorpusEncodeSummary encode_corpus(const CorpusEncodeOptions& options, const ChatTokenizer& tokenizer,
                                  const AudioEncoder& encode_audio);

}  // namespace symp::text
