// tokenize fit / encode / roundtrip over a corpus, with the embedded codec and SentencePiece tokenizer.
#include "symp/tokenize/tokenize.h"

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/core/progress.h"
#include "symp/core/rng.h"
#include "symp/core/worker_pool.h"
#include "symp/io/audio.h"
#include "symp/io/csv.h"
#include "symp/io/jsonl.h"
#include "symp/prosody/features.h"
#include "symp/records/manifest.h"
#include "symp/speech/glm4voice.h"
#include "symp/text/glm_tokenizer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

namespace symp::tokenize {

using codec::EmbeddedCodec;
using codec::EmbeddedCodecModel;
using codec::fit_embedded_codec;
using codec::kEmbeddedCodecFile;
using codec::spearman;
using speech::Glm4VoiceCodec;
using speech::Glm4VoiceOptions;

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

void TokenizeFitOptions::validate() const {
  if (corpus_dir.empty()) throw UsageError("--corpus: a corpus folder is required");
  if (out_dir.empty()) throw UsageError("--out: a model folder is required");
  codec.validate();
  text.validate();
}

void tokenize_fit(const TokenizeFitOptions& options) {
  options.validate();
  const std::string manifest = records::manifest_path(options.corpus_dir);
  std::vector<std::string> audio;
  std::vector<std::string> texts;
  std::set<std::string> systems = {affect::system_prompt(std::nullopt)};
  records::for_each_manifest_record(manifest, [&](const records::ManifestRecord& r, size_t) {
    using F = records::ManifestField;
    records::require(r, {F::Partition});
    if (r.partition != "train") return;
    records::require(r, {F::Audio, F::QueryText, F::ResponseText, F::Va});
    audio.push_back(records::resolve_audio(manifest, r.query_audio, r.where + ": field 'query_audio'"));
    audio.push_back(records::resolve_audio(manifest, r.response_audio, r.where + ": field 'response_audio'"));
    texts.push_back(r.query_text);
    texts.push_back(r.response_text);
    systems.insert(affect::system_prompt(affect::clamp_va(*r.valence, *r.arousal, r.where)));
  });
  if (audio.empty()) throw InputError(manifest + ": no training records to fit on");
  texts.insert(texts.end(), systems.begin(), systems.end());

  ensure_dir(options.out_dir);
  const auto start = Clock::now();
  const EmbeddedCodecModel model = fit_embedded_codec(audio, options.codec);
  model.save((fs::path(options.out_dir) / kEmbeddedCodecFile).string());
  log_info("tokenize", "codec: {} ids ({:.1f} s)", model.config.vocab_size(),
           std::chrono::duration<double>(Clock::now() - start).count());
  text::SpmTokenizer::train(texts, model.config.vocab_size(), options.text, options.out_dir);
}

void TokenizeEncodeOptions::validate() const {
  if (codec == "embedded") {
    if (model_dir.empty()) throw UsageError("--model: a model folder from `symp tokenize fit` is required");
    if (!speech_tokenizer_dir.empty() || !text_tokenizer_dir.empty())
      throw UsageError("--speech-tokenizer / --text-tokenizer go with --codec glm4voice");
  } else if (codec == "glm4voice") {
    if (speech_tokenizer_dir.empty())
      throw UsageError("--speech-tokenizer: --codec glm4voice needs a glm-4-voice-tokenizer folder");
    if (text_tokenizer_dir.empty())
      throw UsageError("--text-tokenizer: --codec glm4voice needs a glm-4-voice-9b folder");
    if (!model_dir.empty())
      throw UsageError("--model is the embedded codec's folder; not with --codec glm4voice");
  } else {
    throw UsageError("--codec: embedded or glm4voice, got '" + codec + "'");
  }
  corpus.validate();
}

namespace {

// One audio file at `rate`, named in any error.
std::vector<float> read_speech(const std::string& path, int rate) {
  return with_context(path, [&] {
    io::Audio audio = io::read_audio(path, rate);
    if (audio.samples.empty()) throw InputError("audio is empty");
    return std::move(audio.samples);
  });
}

text::CorpusEncodeSummary encode_glm4voice(const TokenizeEncodeOptions& options) {
  const auto tokenizer = text::GlmTokenizer::load(options.text_tokenizer_dir);
  if (tokenizer.audio_codes() == 0)
    throw InputError(options.text_tokenizer_dir +
                     "/tokenizer_config.json: no <|audio_N|> added tokens: not a GLM-4-Voice text tokenizer");
  Glm4VoiceOptions codec_options;
  codec_options.tokenizer_dir = options.speech_tokenizer_dir;
  codec_options.device = options.device;
  auto codec = Glm4VoiceCodec::open(codec_options);
  if (codec->vocab_size() > tokenizer.audio_codes())
    throw InputError(fmt::format(
        "{}: the speech tokenizer's codebook has {} codes but {}/tokenizer_config.json has only {} audio "
        "tokens (<|audio_0|> to <|audio_{}|>): the two folders do not belong together",
        options.speech_tokenizer_dir, codec->vocab_size(), options.text_tokenizer_dir,
        tokenizer.audio_codes(), tokenizer.audio_codes() - 1));
  log_info("tokenize", "{}; GLM-4 text tokenizer, {} ids ({} audio)", codec->describe(),
           tokenizer.vocab_size(), tokenizer.audio_codes());
  const int rate = codec->sample_rate();
  text::CorpusEncodeOptions corpus = options.corpus;
  corpus.encoder_id = fmt::format("glm4voice {} | {} ({} ids)", codec->describe(), options.text_tokenizer_dir,
                                  tokenizer.vocab_size());
  // WhisperVQ batches the files of a few records, similar lengths together, on all torch threads.
  auto encode_batch = [&](const std::vector<std::string>& paths) {
    std::vector<std::vector<float>> wavs;
    for (const auto& p : paths) wavs.push_back(read_speech(p, rate));
    return codec->encode_batch(wavs);
  };
  return text::encode_corpus(corpus, tokenizer, encode_batch);
}

}  // namespace

text::CorpusEncodeSummary tokenize_encode(const TokenizeEncodeOptions& options) {
  options.validate();
  if (options.codec == "glm4voice") return encode_glm4voice(options);
  const auto codec = EmbeddedCodec::load(options.model_dir);
  const auto tokenizer = text::SpmTokenizer::load(options.model_dir);
  if (tokenizer.audio_codes() != codec->vocab_size())
    throw InputError(
        fmt::format("{}: the tokenizer has {} audio ids but the codec {} codes; refit the model folder",
                    options.model_dir, tokenizer.audio_codes(), codec->vocab_size()));
  const int rate = codec->sample_rate();
  text::CorpusEncodeOptions corpus = options.corpus;
  // The model files' bytes: a refitted folder is another encoder.
  const std::string model_bytes =
      read_text_file(fs::path(options.model_dir) / kEmbeddedCodecFile) +
      read_text_file(fs::path(options.model_dir) / text::SpmTokenizer::kConfigFile);
  corpus.encoder_id = fmt::format("embedded {:016x}", stable_hash(model_bytes.data(), model_bytes.size()));
  auto encode_audio = [&](const std::string& path) { return codec->encode(read_speech(path, rate)); };
  return text::encode_corpus(corpus, tokenizer, text::parallel_audio_encoder(encode_audio, corpus.threads));
}

void RoundtripOptions::validate() const {
  if (model_dir.empty()) throw UsageError("--model: a model folder from `symp tokenize fit` is required");
  if (audio.empty() == corpus.empty())
    throw UsageError("--audio or --corpus: give one of them (files and folders, or a gen-data corpus)");
  if (!corpus.empty() && partition != "train" && partition != "eval")
    throw UsageError("--partition: train or eval, got '" + partition + "'");
  if (out_dir.empty()) throw UsageError("--out: an output folder is required");
  if (threads < 1) throw UsageError(fmt::format("threads must be >= 1, got {}", threads));
}

namespace {

struct RoundtripFile {
  fs::path in;
  fs::path out;  // relative to the output folder
};

// The files of --audio (folders: their .wav files, sorted), written back under their file names.
std::vector<RoundtripFile> audio_inputs(const std::vector<std::string>& audio) {
  std::vector<RoundtripFile> files;
  std::set<std::string> names;
  auto add = [&](const fs::path& p) {
    if (!names.insert(p.filename().string()).second)
      throw UsageError("--audio: two inputs are named " + p.filename().string() +
                       "; outputs keep the input names");
    files.push_back({p, p.filename()});
  };
  for (const auto& f : io::expand_audio_paths(audio)) add(f);
  return files;
}

// The query and response audio of one partition of a gen-data corpus, each file once, in manifest order,
// written back under its manifest path.
std::vector<RoundtripFile> corpus_inputs(const std::string& corpus, const std::string& partition) {
  const fs::path dir = corpus;
  const std::string manifest = records::manifest_path(corpus);
  std::vector<RoundtripFile> files;
  std::set<std::string> seen;
  records::for_each_manifest_record(manifest, [&](const records::ManifestRecord& r, size_t) {
    records::require(r, {records::ManifestField::Partition});
    if (r.partition != partition) return;
    records::require(r, {records::ManifestField::Audio});
    for (const std::string* rel : {&r.query_audio, &r.response_audio}) {
      const fs::path p(*rel);
      const bool escapes = p.is_absolute() ||
                           std::any_of(p.begin(), p.end(), [](const fs::path& part) { return part == ".."; });
      if (escapes)
        throw InputError(
            fmt::format("{}: audio '{}' must be a path inside the corpus (outputs are written "
                        "under it)",
                        r.where, *rel));
      if (seen.insert(*rel).second) files.push_back({dir / *rel, *rel});
    }
  });
  if (files.empty()) throw InputError(manifest + ": no record in partition '" + partition + "'");
  return files;
}

}  // namespace

RoundtripSummary tokenize_roundtrip(const RoundtripOptions& options) {
  options.validate();
  const auto codec = EmbeddedCodec::load(options.model_dir);
  const std::vector<RoundtripFile> files =
      options.corpus.empty() ? audio_inputs(options.audio) : corpus_inputs(options.corpus, options.partition);
  ensure_dir(options.out_dir);
  for (const auto& f : files) ensure_dir(fs::path(options.out_dir) / f.out.parent_path());
  // eval-prosody's measures, independent of the codec's analysis; no transcript, so the rate is nuclei.
  prosody::FeatureOptions measure;
  measure.rate = prosody::RateMode::Nuclei;

  struct Row {
    prosody::Features in, out;
    int64_t tokens = 0;
    double encode_s = 0, decode_s = 0;
  };
  std::vector<Row> rows(files.size());
  Progress bar("roundtrip", static_cast<int64_t>(files.size()), "file");
  parallel_for(files.size(), options.threads, [&](size_t i) {
    with_context(files[i].in.string(), [&] {
      const io::Audio audio = io::read_audio(files[i].in.string(), codec->sample_rate());
      const auto t0 = Clock::now();
      const std::vector<int64_t> ids = codec->encode(audio.samples);
      const auto t1 = Clock::now();
      io::Audio decoded{codec->decode(ids), codec->output_sample_rate()};
      const auto t2 = Clock::now();
      io::write_wav((fs::path(options.out_dir) / files[i].out).string(), decoded);
      Row& r = rows[i];
      r.tokens = static_cast<int64_t>(ids.size());
      r.encode_s = std::chrono::duration<double>(t1 - t0).count();
      r.decode_s = std::chrono::duration<double>(t2 - t1).count();
      r.in = prosody::compute_features(audio, measure);
      r.out = prosody::compute_features(decoded, measure);
    });
    bar.advance();
  });
  bar.finish();

  RoundtripSummary s;
  s.files = static_cast<int64_t>(files.size());
  std::vector<double> f0_in, f0_out, e_in, e_out, r_in, r_out, f0_err;
  double enc = 0, dec = 0;
  std::string csv =
      "file,duration,tokens,f0_mean_in,f0_mean_out,energy_mean_in,energy_mean_out,rate_in,rate_out\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    s.audio_seconds += r.in.duration;
    enc += r.encode_s;
    dec += r.decode_s;
    csv += fmt::format("{},{:.3f},{},{:.2f},{:.2f},{:.5f},{:.5f},{:.3f},{:.3f}\n",
                       files[i].out.generic_string(), r.in.duration, r.tokens, r.in.f0_mean, r.out.f0_mean,
                       r.in.energy_mean, r.out.energy_mean, r.in.rate, r.out.rate);
    e_in.push_back(r.in.energy_mean);
    e_out.push_back(r.out.energy_mean);
    r_in.push_back(r.in.rate);
    r_out.push_back(r.out.rate);
    if (std::isfinite(r.in.f0_mean) && std::isfinite(r.out.f0_mean)) {
      f0_in.push_back(r.in.f0_mean);
      f0_out.push_back(r.out.f0_mean);
      f0_err.push_back(std::abs(r.out.f0_mean / r.in.f0_mean - 1.0));
    }
  }
  std::sort(f0_err.begin(), f0_err.end());
  s.encode_x_realtime = enc > 0 ? s.audio_seconds / enc : 0.0;
  s.decode_x_realtime = dec > 0 ? s.audio_seconds / dec : 0.0;
  s.f0_spearman = spearman(f0_in, f0_out);
  s.energy_spearman = spearman(e_in, e_out);
  s.rate_spearman = spearman(r_in, r_out);
  s.f0_median_error = f0_err.empty() ? std::nan("") : f0_err[f0_err.size() / 2];
  write_file_atomic(fs::path(options.out_dir) / "roundtrip.csv", csv);
  auto num = [](double v) { return std::isfinite(v) ? io::Json(v) : io::Json(nullptr); };
  io::write_json_atomic(
      (fs::path(options.out_dir) / "roundtrip.json").string(),
      {{"files", s.files},
       {"audio_seconds", s.audio_seconds},
       {"codec", codec->describe()},
       {"encode_x_realtime", num(s.encode_x_realtime)},
       {"decode_x_realtime", num(s.decode_x_realtime)},
       {"f0_mean_spearman", num(s.f0_spearman)},
       {"energy_mean_spearman", num(s.energy_spearman)},
       {"rate_spearman", num(s.rate_spearman)},
       {"f0_mean_median_error", num(s.f0_median_error)},
       {"corpus", options.corpus.empty() ? io::Json(nullptr) : io::Json(options.corpus)},
       {"partition", options.corpus.empty() ? io::Json(nullptr) : io::Json(options.partition)},
       {"measures",
        "eval-prosody's (symp/prosody): F0 mean of Praat's autocorrelation pitch (75-600 "
        "Hz, voiced frames); energy: RMS 2048/512; rate: syllable nuclei (de Jong & "
        "Wempe) per second"}});
  log_info("roundtrip",
           "{} files, {:.1f} s: F0 rho {:.3f}, energy rho {:.3f}, rate rho {:.3f}, median F0 error {:.1f} %; "
           "encode {:.0f}x, decode {:.0f}x real time",
           s.files, s.audio_seconds, s.f0_spearman, s.energy_spearman, s.rate_spearman,
           100 * s.f0_median_error, s.encode_x_realtime, s.decode_x_realtime);
  return s;
}

}  // namespace symp::tokenize
