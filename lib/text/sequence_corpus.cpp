// A whole corpus to training sequences: manifest in, encoded_{train,eval}.jsonl and a length summary out.
#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/core/progress.h"
#include "symp/io/jsonl.h"
#include "symp/io/plot.h"
#include "symp/text/sequence.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <numeric>
#include <thread>

namespace symp::text {

namespace {

struct ManifestRecord {
  std::string context;  // "manifest.jsonl:LINE: record ID"
  std::string id, split, partition, emotion, response_text, query_audio, response_audio;
  affect::VA va;
};

ManifestRecord parse_record(const io::Json& j, const std::string& where, const fs::path& corpus) {
  ManifestRecord r;
  r.id = io::require_string(j, "id", where);
  r.context = where + ": record " + r.id;
  return with_context(r.context, [&] {
    r.split = io::require_string(j, "split", "manifest");
    r.partition = io::require_string(j, "partition", "manifest");
    if (r.split != "emotional" && r.split != "neutral")
      throw InputError("field 'split' must be \"emotional\" or \"neutral\", got \"" + r.split + "\"");
    if (r.partition != "train" && r.partition != "eval")
      throw InputError("field 'partition' must be \"train\" or \"eval\", got \"" + r.partition + "\"");
    r.emotion = j.value("emotion", std::string());
    r.response_text = io::require_string(j, "response_text", "manifest");
    r.va = affect::clamp_va(io::require_number(j, "valence", "manifest"),
                            io::require_number(j, "arousal", "manifest"), "record VA");
    for (const char* field : {"query_audio", "response_audio"}) {
      if (!j.contains(field) || !j[field].is_string() || j[field].get<std::string>().empty())
        throw InputError(std::string("record has no audio (field '") + field + "' missing or empty)");
      const fs::path p = j[field].get<std::string>();
      (std::string(field) == "query_audio" ? r.query_audio : r.response_audio) =
          (p.is_absolute() ? p : corpus / p).string();
    }
    return r;
  });
}

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
  sequence.validate();
}

CorpusEncodeSummary encode_corpus(const CorpusEncodeOptions& options, const ChatTokenizer& tokenizer,
                                  const AudioEncoder& encode_audio) {
  options.validate();
  const fs::path corpus = options.corpus_dir;
  const std::string manifest = (corpus / "manifest.jsonl").string();
  std::vector<ManifestRecord> records;
  io::for_each_jsonl(manifest, [&](const io::Json& j, size_t line) {
    records.push_back(parse_record(j, manifest + ":" + std::to_string(line), corpus));
  });
  if (records.empty()) throw InputError(manifest + ": no records");

  CorpusEncodeSummary summary;
  std::vector<std::string> pool;
  for (const auto& r : records)
    if (r.split == "emotional" && r.partition == "train") pool.push_back(r.id);
  summary.emotional_train = static_cast<int64_t>(pool.size());
  const std::set<std::string> na =
      choose_na_records(pool, options.sequence.na_fraction, options.sequence.seed);

  std::vector<io::Json> encoded(records.size());
  std::atomic<size_t> next{0};
  std::mutex error_mutex;
  std::exception_ptr first_error;
  Progress bar("tokenize", static_cast<int64_t>(records.size()), "rec");
  auto worker = [&] {
    for (size_t i = next++; i < records.size(); i = next++) {
      try {
        const ManifestRecord& r = records[i];
        SequenceInput in;
        in.id = r.id;
        const bool is_na = options.sequence.condition_mode == "none" || (r.partition == "train" && na.count(r.id) > 0);
        if (!is_na) in.condition = r.va;
        in.response_text = r.response_text;
        in.query_codes = with_context(r.context + ": query_audio " + r.query_audio,
                                      [&] { return encode_audio(r.query_audio); });
        in.response_codes = with_context(r.context + ": response_audio " + r.response_audio,
                                         [&] { return encode_audio(r.response_audio); });
        const EncodedSequence seq =
            with_context(r.context, [&] { return build_sequence(in, tokenizer, options.sequence); });
        io::Json j = {{"id", r.id},
                      {"text", seq.text},
                      {"valence", is_na ? io::Json(nullptr) : io::Json(in.condition->valence)},
                      {"arousal", is_na ? io::Json(nullptr) : io::Json(in.condition->arousal)},
                      {"condition", is_na ? "na" : "va"},
                      {"input_ids", seq.input_ids},
                      {"assistant_start", seq.assistant_start},
                      {"length", seq.input_ids.size()},
                      {"split", r.split},
                      {"partition", r.partition},
                      {"emotion", r.emotion},
                      {"query_tokens", in.query_codes.size()},
                      {"response_tokens", in.response_codes.size()}};
        encoded[i] = std::move(j);
      } catch (...) {
        std::lock_guard<std::mutex> lock(error_mutex);
        if (!first_error) first_error = std::current_exception();
        next = records.size();
      }
      bar.advance();
    }
  };
  std::vector<std::thread> pool_threads;
  for (int t = 0; t < options.threads; ++t) pool_threads.emplace_back(worker);
  for (auto& t : pool_threads) t.join();
  bar.finish();
  if (first_error) std::rethrow_exception(first_error);

  std::vector<io::Json> train, eval;
  for (size_t i = 0; i < records.size(); ++i) {
    const int64_t length = encoded[i]["length"].get<int64_t>();
    summary.lengths.push_back(length);
    if (length > options.sequence.max_length) summary.over_max_length.push_back(records[i].id);
    if (encoded[i]["condition"] == "na") ++summary.na_records;
    (records[i].partition == "train" ? train : eval).push_back(std::move(encoded[i]));
  }
  summary.train = static_cast<int64_t>(train.size());
  summary.eval = static_cast<int64_t>(eval.size());
  ensure_dir(options.out_dir);
  const fs::path out = options.out_dir;
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
  log_info("tokenize", "{} train + {} eval sequences; {} of {} emotional training records set to N/A",
           summary.train, summary.eval, summary.na_records, summary.emotional_train);
  return summary;
}

}  // namespace symp::text
