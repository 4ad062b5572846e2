// A whole corpus to training sequences: manifest in, encoded_{train,eval}.jsonl and a length summary out.
#include "symp/affect/affect.h"
#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/core/progress.h"
#include "symp/core/rng.h"
#include "symp/core/worker_pool.h"
#include "symp/io/jsonl.h"
#include "symp/io/plot.h"
#include "symp/records/encoded.h"
#include "symp/records/manifest.h"
#include "symp/text/sequence.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace symp::text {

namespace {

// A manifest record with its audio paths resolved against the corpus folder, named for errors.
struct CorpusRecord {
  records::ManifestRecord m;
  std::string query_audio, response_audio;
  const std::string& id() const { return m.id; }
  const std::string& context() const { return m.where; }  // "manifest.jsonl:LINE: record ID"
};

double quantile(std::vector<int64_t> v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  return static_cast<double>(v[static_cast<size_t>(q * (v.size() - 1))]);
}

}  // namespace

void CorpusEncodeOptions::validate() const {
  if (corpus_dir.empty()) throw UsageError("--corpus: a corpus folder is required");
  if (out_dir.empty()) throw UsageError("--out: an output folder is required");
  if (threads < 1) throw UsageError(fmt::format("threads must be >= 1, got {}", threads));
  if (batch_records < 1) throw UsageError(fmt::format("batch_records must be >= 1, got {}", batch_records));
  sequence.validate();
}

BatchAudioEncoder parallel_audio_encoder(AudioEncoder encode, int threads) {
  return [encode = std::move(encode), threads](const std::vector<std::string>& paths) {
    std::vector<std::vector<int64_t>> out(paths.size());
    parallel_for(paths.size(), std::max(1, threads), [&](size_t i) { out[i] = encode(paths[i]); });
    return out;
  };
}

namespace {

// What a resumed run must share with the one that wrote the progress file: the manifest's bytes, the
// sequence options and the encoder. Anything else changed means the saved records are not this run's.
std::string encode_fingerprint(const CorpusEncodeOptions& o, const std::string& manifest) {
  const std::string bytes = read_text_file(manifest);
  const auto& s = o.sequence;
  return fmt::format("manifest {:016x} layout {} text {} audio {} na {} seed {} mode {} encoder {}",
                     stable_hash(bytes.data(), bytes.size()), layout_name(s.layout), s.interleave_text,
                     s.interleave_audio, s.na_fraction, s.seed, condition_mode_name(s.condition_mode),
                     o.encoder_id);
}

// Records kept from an earlier, interrupted run (index in the manifest -> encoded record).
std::map<size_t, records::EncodedRecord> resume_progress(const std::string& path,
                                                         const std::string& fingerprint, size_t records) {
  std::map<size_t, records::EncodedRecord> done;
  if (!fs::exists(path)) return done;
  const auto lines = io::read_jsonl(path, /*tolerate_torn_tail=*/true);
  if (lines.empty() || lines.front().value("fingerprint", "") != fingerprint) {
    log_warn("tokenize", "{}: written by a run with another manifest, options or encoder; starting over",
             path);
    fs::remove(path);
    return done;
  }
  for (size_t k = 1; k < lines.size(); ++k) {
    const size_t i = lines[k].at("index").get<size_t>();
    if (i < records)
      done[i] = records::parse_encoded_record(lines[k].at("record"), path + ": record " + std::to_string(i));
  }
  return done;
}

}  // namespace

CorpusEncodeSummary encode_corpus(const CorpusEncodeOptions& options, const ChatTokenizer& tokenizer,
                                  const BatchAudioEncoder& encode_audio) {
  options.validate();
  const fs::path corpus = options.corpus_dir;
  const std::string manifest = records::manifest_path(options.corpus_dir);
  std::vector<CorpusRecord> records;
  records::for_each_manifest_record(manifest, [&](const records::ManifestRecord& m, size_t) {
    using F = records::ManifestField;
    records::require(m, {F::Split, F::Partition, F::Va, F::ResponseText, F::Audio});
    records.push_back(
        {m, records::resolve_audio(manifest, m.query_audio, m.where + ": field 'query_audio'"),
         records::resolve_audio(manifest, m.response_audio, m.where + ": field 'response_audio'")});
  });
  if (records.empty()) throw InputError(manifest + ": no records");
  // A missing file is named with its record before any audio is encoded.
  for (const auto& r : records) {
    for (const auto* audio : {&r.query_audio, &r.response_audio}) {
      if (!fs::is_regular_file(*audio))
        throw InputError(r.context() + ": " + (audio == &r.query_audio ? "query_audio " : "response_audio ") +
                         *audio + ": no such file");
    }
  }

  CorpusEncodeSummary summary;
  std::vector<std::string> pool;
  for (const auto& r : records)
    if (r.m.split == "emotional" && r.m.partition == "train") pool.push_back(r.id());
  summary.emotional_train = static_cast<int64_t>(pool.size());
  const std::set<std::string> na =
      choose_na_records(pool, options.sequence.na_fraction, options.sequence.seed);

  ensure_dir(options.out_dir);
  const fs::path out = options.out_dir;
  const std::string progress_path = (out / kEncodeProgressFile).string();
  const std::string fingerprint = encode_fingerprint(options, manifest);
  std::vector<records::EncodedRecord> encoded(records.size());
  std::vector<size_t> todo;
  {
    auto kept = resume_progress(progress_path, fingerprint, records.size());
    for (size_t i = 0; i < records.size(); ++i) {
      if (kept.count(i)) {
        encoded[i] = std::move(kept[i]);
      } else {
        todo.push_back(i);
      }
    }
    if (!kept.empty())
      log_info("tokenize", "{}: resuming, {} of {} records already encoded", progress_path, kept.size(),
               records.size());
  }
  const bool fresh = !fs::exists(progress_path);
  // Flushed per record, not fsync'd: a SIGKILL cannot lose what the kernel holds (as gen-data's manifest).
  io::JsonlAppender progress(progress_path, /*sync_each=*/false);
  if (fresh) progress.append({{"fingerprint", fingerprint}});

  Progress bar("tokenize", static_cast<int64_t>(records.size()), "rec");
  bar.set_initial(static_cast<int64_t>(records.size() - todo.size()));
  const size_t batch = static_cast<size_t>(options.batch_records);
  for (size_t from = 0; from < todo.size(); from += batch) {
    const size_t to = std::min(todo.size(), from + batch);
    std::vector<std::string> paths;
    for (size_t k = from; k < to; ++k) {
      paths.push_back(records[todo[k]].query_audio);
      paths.push_back(records[todo[k]].response_audio);
    }
    std::vector<std::vector<int64_t>> codes;
    try {
      codes = encode_audio(paths);
    } catch (const Error& e) {
      // Name the record whose file the error names (the encoders name the file), else the whole batch.
      const std::string what = e.what();
      for (size_t k = from; k < to; ++k) {
        const auto& r = records[todo[k]];
        if (what.find(r.query_audio) != std::string::npos || what.find(r.response_audio) != std::string::npos)
          e.rethrow_with_context(r.context());
      }
      e.rethrow_with_context(
          fmt::format("records {} to {}", records[todo[from]].id(), records[todo[to - 1]].id()));
    }
    if (codes.size() != paths.size())
      throw RuntimeError(
          fmt::format("audio encoder returned {} results for {} files", codes.size(), paths.size()));
    for (size_t k = from; k < to; ++k) {
      const size_t i = todo[k];
      const CorpusRecord& r = records[i];
      SequenceInput in;
      in.id = r.id();
      const bool is_na = options.sequence.condition_mode == ConditionMode::None ||
                         (r.m.partition == "train" && na.count(r.id()) > 0);
      if (!is_na) in.condition = affect::clamp_va(*r.m.valence, *r.m.arousal, "record VA");
      in.response_text = r.m.response_text;
      in.query_codes = codes[2 * (k - from)];
      in.response_codes = codes[2 * (k - from) + 1];
      for (const auto* c : {&in.query_codes, &in.response_codes}) {
        if (c->empty())
          throw InputError(r.context() + ": " + (c == &in.query_codes ? r.query_audio : r.response_audio) +
                           ": the audio gave no speech tokens (empty or too short)");
      }
      const EncodedSequence seq =
          with_context(r.context(), [&] { return build_sequence(in, tokenizer, options.sequence); });
      records::EncodedRecord& e = encoded[i];
      e.id = r.id();
      e.text = seq.text;
      if (!is_na) e.valence = in.condition->valence, e.arousal = in.condition->arousal;
      e.condition = is_na ? "na" : "va";
      e.input_ids = seq.input_ids;
      e.assistant_start = seq.assistant_start;
      e.length = static_cast<int64_t>(seq.input_ids.size());
      e.split = r.m.split;
      e.partition = r.m.partition;
      e.emotion = r.m.emotion;
      e.query_tokens = static_cast<int64_t>(in.query_codes.size());
      e.response_tokens = static_cast<int64_t>(in.response_codes.size());
      progress.append({{"index", i}, {"record", records::to_json(e)}});
      bar.advance();
    }
  }
  bar.finish();

  std::vector<io::Json> train, eval;
  for (size_t i = 0; i < records.size(); ++i) {
    const int64_t length = static_cast<int64_t>(encoded[i].input_ids.size());
    summary.lengths.push_back(length);
    if (length > options.sequence.max_length) summary.over_max_length.push_back(records[i].id());
    if (encoded[i].condition == "na") ++summary.na_records;
    (records[i].m.partition == "train" ? train : eval).push_back(records::to_json(encoded[i]));
  }
  summary.train = static_cast<int64_t>(train.size());
  summary.eval = static_cast<int64_t>(eval.size());
  io::write_jsonl_atomic((out / "encoded_train.jsonl").string(), train);
  io::write_jsonl_atomic((out / "encoded_eval.jsonl").string(), eval);

  const auto& L = summary.lengths;
  io::Json lengths = {
      {"records", L.size()},
      {"layout", layout_name(options.sequence.layout)},
      {"min", *std::min_element(L.begin(), L.end())},
      {"max", *std::max_element(L.begin(), L.end())},
      {"mean", double(std::accumulate(L.begin(), L.end(), int64_t{0})) / L.size()},
      {"p50", quantile(L, 0.5)},
      {"p90", quantile(L, 0.9)},
      {"p99", quantile(L, 0.99)},
      {"max_length", options.sequence.max_length},
      {"over_max_length", summary.over_max_length},
      {"na_records", summary.na_records},
      {"emotional_train_records", summary.emotional_train},
      {"na_share", summary.emotional_train ? double(summary.na_records) / summary.emotional_train : 0.0}};
  io::write_json_atomic((out / "sequence_lengths.json").string(), lengths);
  io::histogram_png((out / "sequence_lengths.png").string(), std::vector<double>(L.begin(), L.end()), 40,
                    "Sequence lengths (" + layout_name(options.sequence.layout) + " layout)", "tokens");
  if (!summary.over_max_length.empty())
    log_warn("tokenize", "{} of {} sequences are longer than --max-length {} (kept whole; first: {})",
             summary.over_max_length.size(), L.size(), options.sequence.max_length,
             summary.over_max_length.front());
  fs::remove(progress_path);
  if (options.sequence.condition_mode == ConditionMode::None)
    log_info("tokenize",
             "{} train + {} eval sequences, every one with 'User emotion N/A' (--condition-mode none)",
             summary.train, summary.eval);
  else
    log_info("tokenize", "{} train + {} eval sequences; {} of {} emotional training records set to N/A",
             summary.train, summary.eval, summary.na_records, summary.emotional_train);
  return summary;
}

}  // namespace symp::text
