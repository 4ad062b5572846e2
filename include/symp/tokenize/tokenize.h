#pragma once
// `symp tokenize fit | encode | roundtrip`: the embedded codec and the SentencePiece tokenizer applied to
// a gen-data corpus. One library function per subcommand; tools/symp/cmd_tokenize.cpp only binds options.
#include "symp/codec/embedded_codec.h"
#include "symp/text/sentencepiece.h"
#include "symp/text/sequence.h"

#include <string>
#include <vector>

namespace symp::tokenize {

struct TokenizeFitOptions {
  std::string corpus_dir;                // gen-data output with manifest.jsonl
  std::string out_dir;                   // model folder: codec.json, text.model, tokenizer.json
  codec::EmbeddedCodecFitOptions codec;  // codec analysis settings, codebook sizes, file sample
  text::SpmTrainOptions text;            // SentencePiece settings
  void validate() const;
};

// Trains the codec on the training partition's audio (query and response) and the text tokenizer on
// its text (queries, responses and the system lines), and writes both to out_dir.
void tokenize_fit(const TokenizeFitOptions& options);

struct TokenizeEncodeOptions {
  std::string codec = "embedded";    // "embedded" (model_dir) or "glm4voice" (the two folders below)
  std::string model_dir;             // embedded: from tokenize_fit
  std::string speech_tokenizer_dir;  // glm4voice: a glm-4-voice-tokenizer folder (WhisperVQ)
  std::string text_tokenizer_dir;    // glm4voice: a glm-4-voice-9b folder (tokenizer.model + config)
  std::string device = "cpu";        // glm4voice: torch device WhisperVQ runs on ("cpu", "cuda[:N]")
  text::CorpusEncodeOptions corpus;  // corpus, output folder, layout, N/A share, max length, threads
  void validate() const;
};

// Encodes every record of the corpus: with the model folder's embedded codec and SentencePiece tokenizer,
// or with GLM-4-Voice's WhisperVQ (16 kHz, soxr-resampled, batched) and GLM-4 text tokenizer, through the
// same sequence builder. Resumable (text::encode_corpus).
text::CorpusEncodeSummary tokenize_encode(const TokenizeEncodeOptions& options);

struct RoundtripOptions {
  std::string model_dir;           // from tokenize_fit
  std::vector<std::string> audio;  // files, or folders whose .wav files are taken (sorted)
  std::string corpus;  // or: a gen-data corpus, whose `partition` query and response audio is taken
  std::string partition =
      "eval";             // with `corpus`: the partition (eval: files the codec's fit never analysed)
  std::string out_dir;    // decoded WAVs under the input names, roundtrip.csv, roundtrip.json
  int threads = 2;        // files in parallel
  void validate() const;  // exactly one of `audio` and `corpus`
};

struct RoundtripSummary {
  int64_t files = 0;
  double audio_seconds = 0.0;
  double encode_x_realtime = 0.0, decode_x_realtime = 0.0;  // per thread
  double f0_spearman = 0.0, energy_spearman = 0.0, rate_spearman = 0.0;
  double f0_median_error = 0.0;  // median |F0 out / F0 in - 1|
};

// Encodes and decodes each file, writes it under the same name (a corpus's files under their manifest
// paths), and measures what survived with eval-prosody's measures (symp/prosody/features.h: Praat's
// autocorrelation F0, RMS energy, syllable-nuclei rate), which share no code with the codec's own analysis.
RoundtripSummary tokenize_roundtrip(const RoundtripOptions& options);

}  // namespace symp::tokenize
