// gen-data orchestration: plan (or reload the plan), synthesise what the manifest lacks, clean up,
// write the datasheet.
#include "symp/data/gen_data.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "symp/affect/affect.h"
#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/core/progress.h"
#include "symp/data/datasheet.h"
#include "symp/data/dedup.h"
#include "symp/data/espeak_tts.h"
#include "symp/data/openai_backends.h"
#include "symp/data/speech_backend.h"
#include "symp/data/templates.h"
#include "symp/io/jsonl.h"
#include "symp/records/manifest.h"

#include "gen_data_units.h"

namespace symp::data {
namespace {

using Json = nlohmann::json;

std::string query_audio_rel(const PlannedQuery& q) {
  return "audio/queries/" + q.id + ".wav";
}
std::string response_audio_rel(const PlannedRecord& r) {
  return "audio/responses/" + r.id + ".wav";
}

// Writes 16-bit PCM WAV under a temporary name and renames it into place (write_file_atomic): a killed
// process leaves either the complete file or a .tmp.* leftover, never a truncated WAV; a failed write
// leaves neither. Without `durable` there is no fsync (io::write_wav syncs every file, which costs ~25 ms
// each here: 15 minutes for 36,000 files); a SIGKILL cannot lose data the kernel already holds, only a
// power cut can.
void write_audio(const std::string& path, const io::Audio& audio, bool durable) {
  if (durable) {
    io::write_wav(path, audio);
    return;
  }
  const auto n = static_cast<uint32_t>(audio.samples.size());
  std::string bytes;
  bytes.reserve(44 + size_t{n} * 2);
  auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) bytes.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  };
  auto u16 = [&](uint16_t v) {
    bytes.push_back(static_cast<char>(v & 0xff));
    bytes.push_back(static_cast<char>(v >> 8));
  };
  const auto rate = static_cast<uint32_t>(audio.sample_rate);
  bytes += "RIFF";
  u32(36 + n * 2);
  bytes += "WAVEfmt ";
  u32(16);
  u16(1);  // PCM
  u16(1);  // mono
  u32(rate);
  u32(rate * 2);
  u16(2);
  u16(16);
  bytes += "data";
  u32(n * 2);
  for (float x : audio.samples) {
    const float c = std::isfinite(x) ? std::clamp(x, -1.0f, 1.0f) : 0.0f;
    u16(static_cast<uint16_t>(static_cast<int16_t>(std::lround(c * 32767.0f))));
  }
  write_file_atomic(path, bytes, /*durable=*/false);
}

}  // namespace

namespace detail {

UnitResult synthesize_unit(const Context& ctx, SpeechBackend& tts, size_t qi,
                           const std::vector<size_t>& records, bool reuse_query_audio) {
  const PlannedQuery& q = ctx.plan.queries[qi];
  UnitResult out;
  out.query = qi;
  const std::string qpath = ctx.options.out_dir + "/" + query_audio_rel(q);
  bool have_query = false;
  if (reuse_query_audio && fs::exists(qpath)) {
    try {
      out.query_duration = io::probe_audio(qpath).duration();
      have_query = out.query_duration > 0.0;
    } catch (const Error&) {
      have_query = false;
    }
  }
  if (!have_query) {
    const auto style = ctx.style.query_style(q.emotion, ctx.anchors.find(q.emotion).va, q.speaker);
    const io::Audio audio = tts.synthesize(q.text, style);
    write_audio(qpath, audio, ctx.options.durable_audio);
    out.query_duration = audio.duration();
  }
  for (size_t ri : records) {
    const PlannedRecord& r = ctx.plan.records[ri];
    const io::Audio audio = tts.synthesize(r.text, ctx.style.response_style(r.emotion, r.speaker));
    write_audio(ctx.options.out_dir + "/" + response_audio_rel(r), audio, ctx.options.durable_audio);
    out.responses.emplace_back(ri, audio.duration());
  }
  return out;
}

}  // namespace detail

namespace {

using detail::Context;
using detail::UnitResult;
using detail::Work;

records::ManifestRecord make_record(const Context& ctx, const PlannedRecord& r, double query_duration,
                                    double response_duration) {
  const PlannedQuery& q = ctx.plan.queries[r.query];
  const affect::VA va = ctx.anchors.find(r.emotion).va;
  records::ManifestRecord m;
  m.id = r.id;
  m.split = q.split;
  m.partition = q.partition;
  m.query_id = q.id;
  m.emotion = r.emotion;
  m.valence = va.valence;
  m.arousal = va.arousal;
  m.query_emotion = q.emotion;
  m.query_text = q.text;
  m.response_text = r.text;
  m.query_audio = query_audio_rel(q);
  m.response_audio = response_audio_rel(r);
  m.speaker = q.speaker;
  m.response_speaker = r.speaker;
  m.query_duration = query_duration;
  m.response_duration = response_duration;
  return m;
}

io::RetryPolicy retry_policy(const GenDataOptions& o) {
  io::RetryPolicy p;
  p.max_attempts = o.max_attempts;
  p.base_delay_s = o.retry_base_delay_s;
  return p;
}

Json settings_of(const GenDataOptions& o, const std::vector<std::string>& emotions,
                 const std::string& embedder) {
  Json s = {{"per_emotion", o.per_emotion},
            {"neutral_queries", o.neutral_queries},
            {"emotions", emotions},
            {"text_backend", o.text_backend},
            {"tts_backend", o.tts_backend},
            {"dedup_threshold", o.dedup_threshold},
            {"train_fraction", o.train_fraction},
            {"oversample", o.oversample},
            {"neutral_oversample", o.neutral_oversample},
            {"seed", o.seed},
            {"embedder", embedder}};
  // Server, model and sampling settings (never the key): a plan made with another model is another corpus.
  if (o.text_backend == "openai") {
    const auto t = resolve_text_options(o.llm);
    s["llm"] = {{"base_url", t.base_url},
                {"model", t.model},
                {"query_temperature", t.query_temperature},
                {"response_temperature", t.response_temperature},
                {"query_thinking", t.query_thinking},
                {"response_thinking", t.response_thinking},
                {"max_tokens", t.max_tokens}};
  }
  if (o.tts_backend == "openai") {
    const auto t = resolve_speech_options(o.tts, resolve_text_options(o.llm));
    s["tts"] = {{"base_url", t.base_url}, {"model", t.model}};
  }
  return s;
}

// Removes files under audio/ that no manifest record names: leftovers of interrupted writes
// (.tmp.*) and audio whose record never made it into the manifest.
int64_t remove_orphans(const std::string& out_dir, const std::set<std::string>& referenced) {
  int64_t removed = 0;
  for (const char* sub : {"audio/queries", "audio/responses"}) {
    const fs::path dir = fs::path(out_dir) / sub;
    if (!fs::exists(dir)) continue;
    for (const auto& entry : fs::directory_iterator(dir)) {
      const std::string rel = std::string(sub) + "/" + entry.path().filename().string();
      if (referenced.count(rel) == 0) {
        fs::remove(entry.path());
        ++removed;
      }
    }
  }
  return removed;
}

}  // namespace

void GenDataOptions::validate() const {
  if (out_dir.empty()) throw UsageError("gen-data: --out is required");
  if (per_emotion < 0) throw UsageError(fmt::format("gen-data: --per-emotion {} must be >= 0", per_emotion));
  if (neutral_queries < 0)
    throw UsageError(fmt::format("gen-data: --neutral-queries {} must be >= 0", neutral_queries));
  if (per_emotion == 0 && neutral_queries == 0)
    throw UsageError("gen-data: --per-emotion and --neutral-queries are both 0: nothing to generate");
  if (text_backend != "template" && text_backend != "openai")
    throw UsageError(
        fmt::format("gen-data: --text-backend '{}' is not one of: template, openai", text_backend));
  if (tts_backend != "espeak" && tts_backend != "openai")
    throw UsageError(fmt::format("gen-data: --tts-backend '{}' is not one of: espeak, openai", tts_backend));
  if (concurrency < 1) throw UsageError(fmt::format("gen-data: --concurrency {} must be >= 1", concurrency));
  if (max_attempts < 1)
    throw UsageError(fmt::format("gen-data: --max-attempts {} must be >= 1", max_attempts));
  if (!(request_timeout_s > 0.0))
    throw UsageError(fmt::format("gen-data: --request-timeout {} must be > 0", request_timeout_s));
  if (!(dedup_threshold > 0.0 && dedup_threshold <= 1.0))
    throw UsageError(fmt::format("gen-data: --dedup-threshold {} must lie in (0, 1]", dedup_threshold));
  if (!(train_fraction >= 0.0 && train_fraction <= 1.0))
    throw UsageError(fmt::format("gen-data: --train-fraction {} must lie in [0, 1]", train_fraction));
  if (!(oversample >= 1.0))
    throw UsageError(fmt::format("gen-data: --oversample {} must be >= 1", oversample));
  if (!(neutral_oversample >= 1.0))
    throw UsageError(fmt::format("gen-data: --neutral-oversample {} must be >= 1", neutral_oversample));
  if (workers < 0) throw UsageError(fmt::format("gen-data: --workers {} must be >= 0", workers));
  const auto& anchors = affect::AnchorSet::builtin();
  for (const auto& e : emotions)
    if (!anchors.contains(e)) throw UsageError(fmt::format("gen-data: --emotions: '{}' is not an anchor", e));
}

GenDataSummary run_gen_data(const GenDataOptions& options, symp::text::Embedder* embedder) {
  options.validate();
  const auto start = std::chrono::steady_clock::now();
  const auto& anchors = affect::AnchorSet::builtin();
  std::vector<std::string> emotions = options.emotions;
  if (emotions.empty())
    for (const auto& a : anchors.all()) emotions.push_back(a.name);
  const std::string grammar_dir =
      options.grammar_dir.empty() ? data_path("gen").string() : options.grammar_dir;
  const TtsStyleTable style = TtsStyleTable::load(grammar_dir + "/tts_style.json");
  ensure_dir(options.out_dir);

  HashedNgramEmbedder default_embedder;
  symp::text::Embedder& dedup_embedder = embedder != nullptr ? *embedder : default_embedder;
  const Json settings = settings_of(options, emotions, dedup_embedder.describe());

  // The plan: made once, then reloaded on every rerun (the texts are what make a resume exact).
  const std::string plan_path = options.out_dir + "/plan.json";
  CorpusPlan plan;
  std::string text_description = "template";
  if (fs::exists(plan_path)) {
    const Json stored = io::read_json(plan_path);
    if (stored.value("settings", Json()) != settings)
      throw UsageError(
          fmt::format("gen-data: {} holds a corpus planned with other settings ({}); use another --out or "
                      "the same options",
                      options.out_dir, stored.value("settings", Json()).dump()));
    plan = with_context(plan_path, [&] { return CorpusPlan::from_json(stored.at("plan")); });
    text_description = stored.value("text_backend", text_description);
    log_info("gen-data", "resuming: {} queries and {} records planned in {}", plan.queries.size(),
             plan.records.size(), plan_path);
  } else {
    PlanOptions po;
    po.emotions = emotions;
    po.per_emotion = options.per_emotion;
    po.neutral_queries = options.neutral_queries;
    po.dedup_threshold = options.dedup_threshold;
    po.oversample = options.oversample;
    po.neutral_oversample = options.neutral_oversample;
    po.train_fraction = options.train_fraction;
    po.seed = options.seed;
    if (options.tts_backend == "openai") {
      po.query_voices = {style.openai_query_voice};
      po.response_voices = {style.openai_response_voice};
    } else {
      po.query_voices = style.espeak_query_voices;
      po.response_voices = style.espeak_response_voices;
    }
    TemplateGrammar grammar = TemplateGrammar::load(grammar_dir, emotions);
    std::unique_ptr<TextBackend> text;
    if (options.text_backend == "openai") {
      std::map<std::string, EmotionGuidance> guidance;
      const io::Json strategies = io::read_json(grammar_dir + "/responses.json").at("strategies");
      for (auto it = strategies.begin(); it != strategies.end(); ++it)
        guidance[it.key()] = {it.value().value("goal", ""), it.value().value("avoid", "")};
      text = std::make_unique<OpenAiTextBackend>(
          resolve_text_options(options.llm), ChatPrompts::load(grammar_dir + "/prompts"), grammar.topics,
          guidance, grammar.sentiment_words, options.concurrency, retry_policy(options),
          options.request_timeout_s, options.out_dir + "/texts.jsonl");
    } else {
      text = std::make_unique<TemplateTextBackend>(grammar);
    }
    text_description = text->describe();
    plan = make_plan(po, grammar.topics, *text, dedup_embedder);
    if (!plan.failed_items.empty())
      throw RuntimeError(
          fmt::format("gen-data: {} responses could not be generated (first: {}); nothing was "
                      "synthesised: rerun the same command to retry (texts already made are "
                      "kept in {}/texts.jsonl)",
                      plan.failed_items.size(), plan.failed_items.front(), options.out_dir));
    io::write_json_atomic(
        plan_path, {{"settings", settings}, {"text_backend", text_description}, {"plan", plan.to_json()}});
  }

  // What is already done: the manifest's records (a torn last line is cut by the appender).
  const std::string manifest_path = records::manifest_path(options.out_dir);
  std::map<std::string, size_t> record_index;
  for (size_t i = 0; i < plan.records.size(); ++i) record_index[plan.records[i].id] = i;
  std::vector<bool> done(plan.records.size(), false);
  int64_t already = 0;
  if (fs::exists(manifest_path)) {
    io::for_each_jsonl(
        manifest_path,
        [&](const Json& rec, size_t line) {
          const std::string id =
              records::parse_manifest_record(rec, fmt::format("{}:{}", manifest_path, line)).id;
          const auto it = record_index.find(id);
          if (it == record_index.end())
            throw InputError(fmt::format("{}:{}: record '{}' is not in the plan", manifest_path, line, id));
          if (done[it->second])
            throw InputError(fmt::format("{}:{}: duplicate record '{}'", manifest_path, line, id));
          done[it->second] = true;
          ++already;
        },
        /*tolerate_torn_tail=*/true);
  }

  Work work;
  {
    std::map<size_t, std::vector<size_t>> pending, all;
    for (size_t i = 0; i < plan.records.size(); ++i) {
      all[plan.records[i].query].push_back(i);
      if (!done[i]) pending[plan.records[i].query].push_back(i);
    }
    for (auto& [qi, recs] : pending) {
      work.queries.push_back(qi);
      work.records_of.push_back(std::move(recs));
      work.all_of.push_back(all[qi]);
    }
  }

  const Context ctx{options, plan, style, anchors};
  ensure_dir(options.out_dir + "/audio/queries");
  ensure_dir(options.out_dir + "/audio/responses");
  int64_t made = 0;
  std::vector<std::string> speech_failures;
  {
    // fflush per record: a SIGKILL cannot lose a record the kernel already has (fsync would only add
    // protection against power loss, at a large cost for 18,000 records).
    io::JsonlAppender manifest(manifest_path, /*sync_each=*/false);
    Progress bar("gen-data speech", static_cast<int64_t>(plan.records.size()), "rec");
    bar.set_initial(already);
    auto on_done = [&](const UnitResult& u) {
      for (const auto& [ri, d] : u.responses) {
        if (done[ri]) continue;  // spoken again only to keep the engine's history the same
        done[ri] = true;
        manifest.append(records::to_json(make_record(ctx, plan.records[ri], u.query_duration, d)));
        ++made;
        bar.advance();
      }
    };
    int n = options.workers > 0 ? options.workers
                                : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    if (options.tts_backend == "openai") n = options.concurrency;
    n = static_cast<int>(std::min<size_t>(static_cast<size_t>(n), std::max<size_t>(1, work.queries.size())));
    if (!work.queries.empty()) {
      log_info("gen-data", "synthesising {} records ({} already done), {} at a time",
               plan.records.size() - static_cast<size_t>(already), already, n);
      if (options.tts_backend == "openai") {
        OpenAiSpeechBackend tts(resolve_speech_options(options.tts, resolve_text_options(options.llm)),
                                retry_policy(options), options.request_timeout_s);
        speech_failures = detail::run_threaded(ctx, work, n, tts, on_done);
      } else {
        detail::run_forked(ctx, work, n, on_done);
      }
    }
    bar.finish();
  }

  // Check the finished manifest against the plan and the files, then clean up and describe.
  std::vector<records::ManifestRecord> written;
  records::for_each_manifest_record(manifest_path,
                                    [&](const records::ManifestRecord& r, size_t) { written.push_back(r); });
  // Workers finish in any order and the manifest is appended as they do (so a killed run keeps what it
  // made); once complete it is rewritten in plan order, so a seed gives the same file on every run.
  {
    std::map<std::string, size_t> plan_index;
    for (size_t i = 0; i < plan.records.size(); ++i) plan_index[plan.records[i].id] = i;
    auto position = [&](const records::ManifestRecord& r) {
      const auto it = plan_index.find(r.id);
      return it == plan_index.end() ? plan.records.size() : it->second;
    };
    auto before = [&](const records::ManifestRecord& a, const records::ManifestRecord& b) {
      return position(a) < position(b);
    };
    if (!std::is_sorted(written.begin(), written.end(), before)) {
      std::stable_sort(written.begin(), written.end(), before);
      std::vector<Json> lines;
      for (const auto& r : written) lines.push_back(records::to_json(r));
      io::write_jsonl_atomic(manifest_path, lines);
    }
  }
  std::set<std::string> ids, referenced;
  double seconds = 0.0;
  std::set<std::string> seen_queries;
  for (const auto& r : written) {
    if (!ids.insert(r.id).second)
      throw RuntimeError(fmt::format("{}: duplicate id '{}'", manifest_path, r.id));
    for (const std::string* rel : {&r.query_audio, &r.response_audio}) {
      if (!fs::exists(options.out_dir + "/" + *rel))
        throw RuntimeError(fmt::format("{}: record '{}': {} is missing", manifest_path, r.id, *rel));
      referenced.insert(*rel);
    }
    seconds += r.response_duration.value_or(0.0);
    if (seen_queries.insert(r.query_key()).second) seconds += r.query_duration.value_or(0.0);
  }
  if (speech_failures.empty() && written.size() != plan.records.size())
    throw RuntimeError(
        fmt::format("{}: {} records, the plan has {}", manifest_path, written.size(), plan.records.size()));
  const int64_t orphans = remove_orphans(options.out_dir, referenced);
  if (orphans > 0) log_info("gen-data", "removed {} audio files no record refers to", orphans);

  const std::string speech_description =
      options.tts_backend == "openai"
          ? fmt::format("openai audio/speech ({}), style instructions from {}/tts_style.json",
                        resolve_speech_options(options.tts, resolve_text_options(options.llm)).model,
                        grammar_dir)
          : fmt::format("espeak-ng in-process (libespeak-ng), VA mapping {}/tts_style.json", grammar_dir);
  const Json backends = {
      {"text", text_description}, {"speech", speech_description}, {"dedup_embedder", plan.dedup.embedder}};
  CorpusPlan described = plan;
  for (const auto& f : speech_failures) described.failed_items.push_back(f);
  write_datasheet(options.out_dir, written, described, settings, backends);
  if (!speech_failures.empty())
    throw RuntimeError(
        fmt::format("gen-data: speech failed for {} queries (first: {}); the corpus in {} is "
                    "incomplete: rerun the same command to retry them",
                    speech_failures.size(), speech_failures.front(), options.out_dir));

  GenDataSummary summary;
  summary.records = static_cast<int64_t>(written.size());
  summary.synthesized = made;
  summary.audio_hours = seconds / 3600.0;
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  log_info("gen-data",
           "{} records ({} made now), {:.2f} h of audio, in {:.1f} s; datasheet in {}/datasheet.md",
           summary.records, summary.synthesized, summary.audio_hours, summary.seconds, options.out_dir);
  return summary;
}

}  // namespace symp::data
