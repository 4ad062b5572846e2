// symp tokenize fit | encode | roundtrip: the embedded speech codec and text tokenizer, and the training
// sequences in Sympatheia's layout (PAPER.md section 2). Binds options to symp::tokenize::Tokenize*Options.
#include "command.h"
#include "symp/tokenize/tokenize.h"

#include <algorithm>
#include <memory>
#include <thread>

namespace {

int workers(int threads) {
  return threads > 0 ? threads : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

symp::cli::Runner setup_fit(CLI::App& app) {
  auto o = std::make_shared<symp::tokenize::TokenizeFitOptions>();
  auto& c = o->codec.config;
  app.add_option("--corpus", o->corpus_dir, "Corpus folder with manifest.jsonl (gen-data output)")
      ->required();
  app.add_option("--out", o->out_dir, "Model folder to write (codec.json, text.model, tokenizer.json)")
      ->required();
  app.add_option("--envelope-codes", c.envelope_codes, "Codec: spectral envelope codes")
      ->capture_default_str();
  app.add_option("--pitch-levels", c.pitch_levels, "Codec: pitch levels incl. unvoiced")
      ->capture_default_str();
  app.add_option("--energy-levels", c.energy_levels, "Codec: energy levels")->capture_default_str();
  app.add_option("--shape-weight", c.shape_weight, "Codec: weight of the energy contour in the envelope code")
      ->capture_default_str();
  app.add_option("--pitch-floor", c.pitch_floor_hz, "Codec: pitch floor (Hz)")->capture_default_str();
  app.add_option("--pitch-ceiling", c.pitch_ceiling_hz, "Codec: pitch ceiling (Hz)")->capture_default_str();
  app.add_option("--max-files", o->codec.max_files,
                 "Codec: audio files analysed for the codebooks (seeded sample)")
      ->capture_default_str();
  app.add_option("--text-vocab", o->text.vocab_size, "Text tokenizer: SentencePiece vocabulary size")
      ->capture_default_str();
  app.add_option("--text-model-type", o->text.model_type, "Text tokenizer: unigram or bpe")
      ->capture_default_str();
  app.add_flag(
      "--condition-pieces,!--no-condition-pieces", o->text.condition_pieces,
      "Text tokenizer: one piece per two-decimal value in [-1, 1], so the VA condition's numbers are "
      "one id each (default on; the prompt text is unchanged)");
  return [o, &app](const symp::cli::GlobalOptions& g) {
    o->codec.seed = o->text.seed = g.seed;
    o->codec.threads = o->text.threads = workers(g.threads);
    o->validate();
    symp::cli::save_effective_config(app, o->out_dir);
    symp::tokenize::tokenize_fit(*o);
    return 0;
  };
}

symp::cli::Runner setup_encode(CLI::App& app) {
  auto o = std::make_shared<symp::tokenize::TokenizeEncodeOptions>();
  auto layout = std::make_shared<std::string>("reference");
  auto condition_mode = std::make_shared<std::string>("paper");
  auto& s = o->corpus.sequence;
  app.add_option("--corpus", o->corpus.corpus_dir, "Corpus folder with manifest.jsonl")->required();
  app.add_option("--out", o->corpus.out_dir, "Output folder for encoded_{train,eval}.jsonl")->required();
  app.add_option(
         "--codec", o->codec,
         "embedded: the codec and SentencePiece tokenizer of --model; glm4voice: GLM-4-Voice's WhisperVQ "
         "(--speech-tokenizer) and GLM-4 text tokenizer (--text-tokenizer)")
      ->capture_default_str();
  app.add_option("--model", o->model_dir, "Embedded codec: model folder from `symp tokenize fit`");
  app.add_option(
      "--speech-tokenizer", o->speech_tokenizer_dir,
      "glm4voice: glm-4-voice-tokenizer folder (config.json, preprocessor_config.json, safetensors)");
  app.add_option(
      "--text-tokenizer", o->text_tokenizer_dir,
      "glm4voice: glm-4-voice-9b folder (tokenizer.model, tokenizer_config.json with <|audio_N|>)");
  app.add_option("--device", o->device, "glm4voice: device WhisperVQ runs on (cpu, cuda, cuda:N)")
      ->capture_default_str();
  app.add_option("--batch-records", o->corpus.batch_records,
                 "Records whose audio is encoded together (and saved together for a resumed run)")
      ->capture_default_str();
  app.add_option("--layout", *layout, "Record layout: reference (text, then audio) or interleaved (13/26)")
      ->capture_default_str();
  app.add_option("--interleave-text", s.interleave_text, "Interleaved layout: text tokens per chunk")
      ->capture_default_str();
  app.add_option("--interleave-audio", s.interleave_audio, "Interleaved layout: audio tokens per chunk")
      ->capture_default_str();
  app.add_option("--na-fraction", s.na_fraction, "Share of emotional-split training records set to N/A")
      ->capture_default_str();
  app.add_option("--condition-mode", *condition_mode,
                 "paper: VA condition with N/A for --na-fraction; none: every record N/A (a base without the "
                 "condition)")
      ->capture_default_str();
  app.add_option("--max-length", s.max_length, "Longer sequences are reported (never cut)")
      ->capture_default_str();
  return [o, layout, condition_mode, &app](const symp::cli::GlobalOptions& g) {
    o->corpus.sequence.layout = symp::text::parse_layout(*layout);
    o->corpus.sequence.condition_mode = symp::text::parse_condition_mode(*condition_mode);
    o->corpus.sequence.seed = g.seed;
    o->corpus.threads = workers(g.threads);
    o->validate();
    symp::cli::save_effective_config(app, o->corpus.out_dir);
    symp::tokenize::tokenize_encode(*o);
    return 0;
  };
}

symp::cli::Runner setup_roundtrip(CLI::App& app) {
  auto o = std::make_shared<symp::tokenize::RoundtripOptions>();
  app.add_option("--model", o->model_dir, "Model folder from `symp tokenize fit`")->required();
  auto* audio = app.add_option("--audio", o->audio, "Audio files or folders of .wav files");
  auto* corpus =
      app.add_option("--corpus", o->corpus,
                     "Or a gen-data corpus: its --partition's query and response audio (each file once)");
  audio->excludes(corpus);
  app.add_option("--partition", o->partition,
                 "With --corpus: train or eval (eval: files the codec's fit never analysed)")
      ->capture_default_str();
  app.add_option("--out", o->out_dir,
                 "Output folder: decoded WAVs under the input names (a corpus's under their manifest paths), "
                 "roundtrip.csv/json")
      ->required();
  return [o, &app](const symp::cli::GlobalOptions& g) {
    o->threads = workers(g.threads);
    o->validate();
    symp::cli::save_effective_config(app, o->out_dir);
    symp::tokenize::tokenize_roundtrip(*o);
    return 0;
  };
}

}  // namespace

SYMP_SUBCOMMAND(tokenize_fit, "tokenize", "fit", 1, "Train the embedded speech codec and the text tokenizer",
                setup_fit)
SYMP_SUBCOMMAND(tokenize_encode, "tokenize", "encode", 2, "Encode a corpus into training sequences",
                setup_encode)
SYMP_SUBCOMMAND(tokenize_roundtrip, "tokenize", "roundtrip", 3,
                "Re-synthesise audio through the embedded codec and measure what survives", setup_roundtrip)
