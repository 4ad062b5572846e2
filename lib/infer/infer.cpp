#include "symp/infer/infer.h"

#include "symp/infer/engine.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/core/progress.h"
#include "symp/core/rng.h"
#include "symp/io/audio.h"
#include "symp/io/jsonl.h"
#include "symp/records/manifest.h"
#include "symp/records/response.h"
#include "symp/text/sequence.h"

namespace symp::infer {
namespace {

using io::Json;
struct Input {
  std::string id;          // query id (manifest) or file stem
  std::string audio_path;  // absolute or relative to the working folder
  std::string text;        // the query's text when the manifest has it
  std::string split;       // the manifest record's split ("neutral", "emotional"; "" for plain files)
  std::string emotion;     // the emotion in the user's voice (emotional split), else ""
  std::map<std::string, std::string> references;  // the corpus's reply per target emotion (general ability)
};

struct Target {
  affect::ConditionOptions options;  // how to resolve it (noise included)
  std::string name;                  // for file names and the `condition` field
  std::string emotion;               // target anchor when the condition names one
  std::string modality;              // sensing experiment: the cue's modality ("" = not a cue reply)
};

std::string sanitize(const std::string& s) {
  std::string out;
  for (char c : s) out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.') ? c : '_';
  return out;
}

std::vector<Input> collect_inputs(const InferOptions& o) {
  std::vector<Input> inputs;
  std::set<std::string> seen;
  std::map<std::string, std::map<std::string, std::string>> references;  // query id -> emotion -> reply
  if (!o.manifest.empty()) {
    records::for_each_manifest_record(o.manifest, [&](const records::ManifestRecord& r, size_t) {
      if (!o.partition.empty() && r.partition != o.partition) return;
      if (!o.split.empty() && r.split != o.split) return;
      Input in;
      in.id = r.query_key();
      if (!r.emotion.empty()) references[in.id][r.emotion] = r.response_text;
      if (!seen.insert(in.id).second) return;  // one input per query (the neutral split repeats it 12 times)
      records::require(r, {records::ManifestField::QueryAudio});
      in.audio_path = records::resolve_audio(o.manifest, r.query_audio, r.where + ": field 'query_audio'");
      in.text = r.query_text;
      in.split = r.split;
      if (in.split == "emotional") in.emotion = r.emotion;
      inputs.push_back(std::move(in));
    });
    for (auto& in : inputs) in.references = references[in.id];
  }
  for (const auto& f : io::expand_audio_paths(o.audio)) {
    Input in{fs::path(f).stem().string(), f, "", "", "", {}};
    if (seen.insert(in.id).second) inputs.push_back(in);
  }
  if (o.limit > 0 && static_cast<int>(inputs.size()) > o.limit) inputs.resize(static_cast<size_t>(o.limit));
  if (inputs.empty())
    throw InputError("infer: no inputs (check --audio, --manifest, --partition and --split)");
  return inputs;
}

// The anchor called `name`; UsageError naming the option and listing the anchors when there is none.
const affect::Anchor& check_emotion(const std::string& name, const std::string& option) {
  try {
    return affect::AnchorSet::builtin().find(name);
  } catch (const InputError& e) {
    throw UsageError(option + ": " + e.what());
  }
}

std::vector<Target> collect_targets(const InferOptions& o) {
  std::vector<Target> targets;
  auto with_noise = [&](affect::ConditionOptions c) {
    c.noise_sigma = o.condition.noise_sigma;
    return c;
  };
  const auto& anchors = affect::AnchorSet::builtin();
  auto add_anchor = [&](const affect::Anchor& a) {
    affect::ConditionOptions c;
    c.emotion = a.name;
    targets.push_back({with_noise(c), a.name, a.name, ""});
  };
  auto add_interp = [&](const std::string& pair, double t) {
    affect::ConditionOptions c;
    c.interpolate = pair;
    c.t = t;
    auto comma = pair.find(',');
    targets.push_back({with_noise(c),
                       fmt::format("{}-{}_t{:.2f}", pair.substr(0, comma), pair.substr(comma + 1), t), "",
                       ""});
  };
  if (o.reference_conditions) {
    for (const auto& a : anchors.all()) add_anchor(a);
    for (double t : {0.25, 0.5, 0.75}) add_interp("happy,sad", t);
    for (double t : {0.25, 0.5, 0.75}) add_interp("anxious,relaxed", t);
    affect::ConditionOptions none;
    none.none = true;
    targets.push_back({none, "NA", "", ""});
  } else if (o.all_emotions) {
    for (const auto& a : anchors.all()) add_anchor(a);
  } else if (!o.t_sweep.empty()) {
    for (double t : o.t_sweep) add_interp(o.condition.interpolate, t);
  } else {
    Target t{o.condition, "", "", ""};
    using affect::ConditionSource;
    const auto source = o.condition.source();
    if (source == ConditionSource::Emotion) t.emotion = check_emotion(o.condition.emotion, "--emotion").name;
    t.name = source == ConditionSource::Emotion ? t.emotion
             : source == ConditionSource::None  ? "NA"
             : source == ConditionSource::Va    ? "va_" + o.condition.va
             : source == ConditionSource::Interpolate
                 ? fmt::format("{}_t{:.2f}", o.condition.interpolate, o.condition.t)
                 : o.condition.taxonomy;
    t.name = sanitize(t.name);
    targets.push_back(t);
  }
  // Resolve each condition once now: an unknown emotion in --interpolate or a bad --probs fails here,
  // before any model is loaded, not at the first reply.
  Rng probe(0);
  for (const auto& t : targets) affect::resolve_condition(t.options, probe);
  return targets;
}

// The sensing experiment's targets per input id: one per cue (taxonomy + probabilities) and one without.
// The observed emotion of the cues is what every reply to that input is judged by.
std::map<std::string, std::vector<Target>> collect_cue_targets(const std::string& path) {
  std::map<std::string, std::vector<Target>> out;
  std::map<std::string, std::string> observed;
  io::for_each_jsonl(path, [&](const Json& r, size_t line) {
    const std::string ctx = fmt::format("{}:{}", path, line);
    const std::string query = io::require_string(r, "query_id", ctx);
    Target t;
    t.modality = io::require_string(r, "modality", ctx);
    t.options.taxonomy = io::require_string(r, "taxonomy", ctx);
    const auto& probs = io::require_field(r, "probs", ctx);
    if (!probs.is_object() || probs.empty())
      throw InputError(ctx + ": field 'probs': expected an object of label: probability");
    for (const auto& [label, p] : probs.items()) {
      if (!p.is_number()) throw InputError(ctx + ": field 'probs." + label + "': not a number");
      t.options.probs +=
          (t.options.probs.empty() ? "" : ",") + label + "=" + fmt::format("{}", p.get<double>());
    }
    t.emotion = check_emotion(io::require_string(r, "emotion", ctx), ctx + ": field 'emotion'").name;
    if (observed.count(query) && observed[query] != t.emotion)
      throw InputError(ctx + ": query " + query + " has cues observing two emotions (" + observed[query] +
                       ", " + t.emotion + ")");
    observed[query] = t.emotion;
    t.name = "cue_" + sanitize(t.modality);
    for (const auto& other : out[query])
      if (other.name == t.name)
        throw InputError(ctx + ": query " + query + " has two '" + t.modality + "' cues");
    with_context(ctx, [&] {
      Rng probe(0);
      return affect::resolve_condition(t.options, probe);
    });
    out[query].push_back(t);
  });
  for (auto& [query, targets] : out) {
    Target none;
    none.options.none = true;
    none.name = "NA";
    none.emotion = observed[query];
    targets.push_back(none);
  }
  if (out.empty()) throw InputError(path + ": no cues");
  return out;
}

// Replies of an earlier run in `responses_path` that are finished: their WAV is on disk, or they held no
// audio (response_audio null). The file is rewritten with those records only, one per key (the last), so
// a reply redone now (its WAV was deleted) does not leave a stale line for eval-prosody and the judge.
std::set<std::string> kept_replies(const std::string& responses_path, const std::string& out_dir) {
  std::set<std::string> done;
  if (!fs::exists(responses_path)) return done;
  const auto records = io::read_jsonl(responses_path, /*tolerate_torn_tail=*/true);
  std::vector<Json> kept;
  for (size_t k = records.size(); k-- > 0;) {
    const auto reply =
        records::parse_response_record(records[k], fmt::format("{}:{}", responses_path, k + 1));
    const bool finished =
        reply.response_audio.empty() || fs::exists(fs::path(out_dir) / reply.response_audio);
    if (reply.key.empty() || !finished || !done.insert(reply.key).second) continue;
    kept.push_back(records[k]);
  }
  std::reverse(kept.begin(), kept.end());
  if (kept.size() != records.size()) {
    log_info("infer", "{}: {} of {} records kept; the rest (WAV missing, or repeated) are redone",
             responses_path, kept.size(), records.size());
    io::write_jsonl_atomic(responses_path, kept);
  }
  return done;
}

}  // namespace

void SamplingOptions::validate() const {
  if (!std::isfinite(temperature)) throw UsageError("--temperature: must be finite");
  if (!(top_p > 0 && top_p <= 1)) throw UsageError(fmt::format("--top-p: must be in (0, 1], got {}", top_p));
  if (max_new_tokens <= 0)
    throw UsageError(fmt::format("--max-new-tokens: must be > 0, got {}", max_new_tokens));
}

void InferOptions::validate() const {
  if (model_dir.empty()) throw UsageError("--model: required");
  if (tokenizer_dir.empty()) throw UsageError("--tokenizer: required");
  if (out_dir.empty()) throw UsageError("--out: required");
  with_context("--prompt-style", [&] { return text::parse_prompt_style(prompt_style); });
  if (!setting.empty() && setting != "neutral" && setting != "emotional" && setting != "commoneval")
    throw UsageError("--setting: neutral, emotional or commoneval, got '" + setting + "'");
  if (audio.empty() && manifest.empty()) throw UsageError("give --audio FILE... or --manifest FILE");
  if (dtype != "f32" && dtype != "bf16") throw UsageError("--dtype: f32 or bf16, got '" + dtype + "'");
  if (limit < 0) throw UsageError("--limit: must be >= 0");
  if (batch < 1) throw UsageError(fmt::format("--batch: must be >= 1, got {}", batch));
  if (batch > 1 && stream) throw UsageError("--stream decodes one reply at a time: not with --batch > 1");
  const int modes = int(all_emotions) + int(reference_conditions) + int(!t_sweep.empty());
  if (modes > 1) throw UsageError("choose one of --all-emotions, --reference-conditions, --t-sweep");
  if (!cues.empty() &&
      (modes > 0 || condition.source() != affect::ConditionSource::None || condition.noise_sigma != 0))
    throw UsageError("--cues gives each input its own conditions: not with another condition option");
  if (modes == 1 && condition.source() != affect::ConditionSource::None && t_sweep.empty()) {
    throw UsageError(
        "--all-emotions / --reference-conditions replace --emotion, --va, --interpolate and --probs");
  }
  if (!t_sweep.empty()) {
    if (condition.interpolate.empty()) throw UsageError("--t-sweep needs --interpolate A,B");
    for (double t : t_sweep) {
      if (!(t >= 0 && t <= 1)) throw UsageError(fmt::format("--t-sweep: {} is outside [0, 1]", t));
    }
  } else {
    condition.validate();
  }
  sampling.validate();
}

InferSummary run_infer(const InferOptions& o) {
  o.validate();
  const auto inputs = collect_inputs(o);
  const auto targets = o.cues.empty() ? collect_targets(o) : std::vector<Target>{};
  const auto cue_targets =
      o.cues.empty() ? std::map<std::string, std::vector<Target>>{} : collect_cue_targets(o.cues);
  auto targets_of = [&](const Input& in) -> const std::vector<Target>& {
    static const std::vector<Target> none;
    if (o.cues.empty()) return targets;
    const auto it = cue_targets.find(in.id);
    return it == cue_targets.end() ? none : it->second;
  };
  size_t replies_planned = 0;
  for (const auto& in : inputs) replies_planned += targets_of(in).size();
  if (replies_planned == 0) throw InputError("infer: --cues " + o.cues + ": no cue names one of the inputs");
  ensure_dir(o.out_dir);

  EngineOptions eo;
  eo.model_dir = o.model_dir;
  eo.adapters = o.adapters;
  eo.include_base = o.include_base;
  eo.base_name = o.base_name;
  eo.tokenizer_dir = o.tokenizer_dir;
  eo.codec = o.codec;
  eo.codec_encoder_dir = o.codec_encoder_dir;
  eo.codec_decoder_dir = o.codec_decoder_dir;
  eo.prompt_style = o.prompt_style;
  eo.styles = o.styles;
  eo.device = o.device;
  eo.dtype = o.dtype;
  Engine engine(eo);
  const auto systems = engine.systems();
  log_info("infer", "{} inputs, {} replies per system, {} systems; codec {}", inputs.size(), replies_planned,
           systems.size(), engine.describe_codec());

  const auto responses_path = (fs::path(o.out_dir) / "responses.jsonl").string();
  const auto done = kept_replies(responses_path, o.out_dir);
  io::JsonlAppender out(responses_path);

  // Query audio encoded once, shared by every condition and system.
  std::map<std::string, std::vector<int64_t>> query_codes;
  for (const auto& in : inputs) {
    auto audio = with_context("input " + in.id, [&] {
      const auto info = io::probe_audio(in.audio_path);
      if (info.sample_rate != engine.sample_rate()) {
        log_info("infer", "{}: resampling {} Hz to the codec's {} Hz", in.audio_path, info.sample_rate,
                 engine.sample_rate());
      }
      return io::read_audio(in.audio_path, engine.sample_rate());
    });
    query_codes[in.id] = engine.encode(audio);
  }

  InferSummary summary;
  double gen_seconds = 0, decode_seconds = 0;
  int64_t gen_tokens = 0;
  Progress bar("infer", static_cast<int64_t>(replies_planned * systems.size()), "reply");
  // One reply's WAV and responses.jsonl line.
  struct Pending {
    const Input* in;
    const Target* target;
    std::string key;
    uint64_t seed;
    affect::Condition cond;
  };
  auto write_reply = [&](const std::string& sys, const Pending& p, const Reply& reply) {
    const Input& in = *p.in;
    const Target& target = *p.target;
    const auto& cond = p.cond;
    io::Audio wav;
    wav.sample_rate = engine.output_sample_rate();
    wav.samples = reply.audio;
    const std::string va_tag =
        cond.used ? fmt::format("v{:+.2f}_a{:+.2f}", cond.used->valence, cond.used->arousal) : "NA";
    const auto rel_wav =
        (fs::path(sanitize(sys)) / (sanitize(in.id) + "__" + target.name + "__" + va_tag + ".wav")).string();
    if (!wav.samples.empty()) io::write_wav((fs::path(o.out_dir) / rel_wav).string(), wav);

    // The corpus's reply to this query for this target (the emotional split: the query's own emotion).
    const auto ref = in.references.find(in.split == "emotional" ? in.emotion : target.emotion);
    const std::string* reference = ref == in.references.end() ? nullptr : &ref->second;
    records::ResponseRecord rec;
    rec.key = p.key;
    rec.id = sanitize(sys) + "__" + sanitize(in.id) + "__" + target.name;
    rec.system = sys;
    rec.adapter = engine.adapter_dir(sys);
    rec.query_id = in.id;
    rec.input = in.audio_path;
    rec.query_text = in.text;
    rec.condition = target.name;
    rec.condition_source = affect::condition_source_name(cond.source);
    rec.emotion = target.emotion;
    rec.cue_modality = target.modality;
    rec.prompt = reply.prompt;
    rec.prompt_style = reply.prompt_style;
    rec.setting = !o.setting.empty() ? o.setting : in.split;
    rec.query_emotion = in.emotion;
    rec.reference_text = reference ? *reference : "";
    rec.response_text = reply.text;
    rec.response_audio = wav.samples.empty() ? "" : rel_wav;
    rec.response_duration = wav.duration();
    rec.prompt_tokens = reply.prompt_tokens;
    rec.text_tokens = reply.text_tokens;
    rec.audio_tokens = reply.audio_tokens;
    rec.stopped = reply.stopped;
    rec.stop_token = reply.stop_token;
    rec.generation_seconds = reply.generation_seconds;
    rec.decode_seconds = reply.decode_seconds;
    rec.tokens_per_second =
        reply.generation_seconds > 0 ? reply.generated_tokens / reply.generation_seconds : 0.0;
    if (o.stream && reply.first_audio_seconds >= 0) rec.first_audio_seconds = reply.first_audio_seconds;
    // The sampling seed: the same request to `symp serve` with this seed gives this reply.
    rec.extra["sampling_seed"] = p.seed;
    if (cond.requested) {
      rec.requested_valence = cond.requested->valence;
      rec.requested_arousal = cond.requested->arousal;
    }
    if (cond.used) rec.valence = cond.used->valence, rec.arousal = cond.used->arousal;
    out.append(records::to_json(rec));
    gen_seconds += reply.generation_seconds;
    decode_seconds += reply.decode_seconds;
    gen_tokens += reply.generated_tokens;
    summary.audio_seconds += wav.duration();
    ++summary.replies;
    bar.set_note(fmt::format("{:.0f} tok/s", gen_seconds > 0 ? gen_tokens / gen_seconds : 0.0));
    bar.advance();
  };
  auto request_of = [&](const std::string& sys, const Pending& p) {
    // The text baseline names an anchor: the target's, else the nearest to the condition's VA (a sensor
    // cue's too: its observed emotion is what the reply is judged by, not what it was told).
    ReplyRequest request;
    request.system = sys;
    request.query_codes = query_codes[p.in->id];
    request.condition = p.cond.used;
    request.emotion =
        p.cond.used && !p.target->emotion.empty() && p.target->modality.empty() ? p.target->emotion : "";
    request.sampling = o.sampling;
    request.seed = p.seed;
    request.stream_audio = o.stream;
    return request;
  };
  for (const auto& sys : systems) {
    ensure_dir(fs::path(o.out_dir) / sanitize(sys));
    for (const auto& in : inputs) {
      std::vector<Pending> pending;
      for (const auto& target : targets_of(in)) {
        const std::string key = sys + "|" + in.id + "|" + target.name;
        if (done.count(key)) {
          ++summary.skipped_existing;
          bar.advance();
          continue;
        }
        // Each reply seeds its own generator, so a reply does not depend on which others ran before it.
        const uint64_t item_seed = stable_hash(key.data(), key.size(), o.seed * 0x9E3779B97F4A7C15ULL + 1);
        // The VA noise depends on (seed, input, condition) but not on the system: every system answers
        // the same noisy condition, so systems are compared on identical prompts.
        const std::string noise_key = in.id + "|" + target.name;
        Rng noise_rng(stable_hash(noise_key.data(), noise_key.size(), o.seed * 0x9E3779B97F4A7C15ULL + 2));
        pending.push_back(
            {&in, &target, key, item_seed, affect::resolve_condition(target.options, noise_rng)});
      }
      for (size_t first = 0; first < pending.size(); first += static_cast<size_t>(o.batch)) {
        const size_t last = std::min(pending.size(), first + static_cast<size_t>(o.batch));
        if (o.batch == 1) {
          write_reply(sys, pending[first], engine.reply(request_of(sys, pending[first])));
          continue;
        }
        std::vector<ReplyRequest> requests;
        for (size_t i = first; i < last; ++i) requests.push_back(request_of(sys, pending[i]));
        const auto replies = engine.replies(requests);
        for (size_t i = first; i < last; ++i) write_reply(sys, pending[i], replies[i - first]);
      }
    }
    engine.release(sys);  // one model in memory at a time
  }
  bar.finish();
  summary.tokens_per_second = gen_seconds > 0 ? gen_tokens / gen_seconds : 0;
  summary.real_time_factor =
      summary.audio_seconds > 0 ? (gen_seconds + decode_seconds) / summary.audio_seconds : 0;
  io::write_json_atomic((fs::path(o.out_dir) / "summary.json").string(),
                        {{"replies", summary.replies},
                         {"skipped_existing", summary.skipped_existing},
                         {"generated_tokens", gen_tokens},
                         {"tokens_per_second", summary.tokens_per_second},
                         {"real_time_factor", summary.real_time_factor},
                         {"audio_seconds", summary.audio_seconds},
                         {"codec", engine.describe_codec()},
                         {"stream", o.stream},
                         {"device", o.device},
                         {"dtype", o.dtype}});
  log_info("infer", "{} replies ({} kept from an earlier run), {:.1f} tokens/s, real-time factor {:.3f}",
           summary.replies, summary.skipped_existing, summary.tokens_per_second, summary.real_time_factor);
  return summary;
}

}  // namespace symp::infer
