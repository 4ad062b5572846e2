#include "symp/judge/judge.h"

#include <cstdio>

#include <fmt/format.h>

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/judge/proxy.h"
#include "symp/judge/similarity.h"

namespace symp::judge {
namespace {

std::string fmt_num(const io::Json& v, const char* format) {
  if (v.is_null()) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v.get<double>());
  return buf;
}

}  // namespace

void JudgeOptions::validate() const {
  if (responses.empty()) throw UsageError("judge: give at least one --responses file");
  if (out_dir.empty()) throw UsageError("judge: --out is required");
  parse_setting(default_setting, "judge: --default-setting");
  if (audio_judge) audio.validate();
  if (!(similarity_min_seconds >= 0))
    throw UsageError("judge: --similarity-min-seconds: must be >= 0, got " +
                     std::to_string(similarity_min_seconds));
}

io::Json run_judge(const JudgeOptions& o, const JudgeEncoders& enc) {
  o.validate();
  ensure_dir(o.out_dir);
  const auto all_responses = read_responses(o.responses, parse_setting(o.default_setting));
  // N/A-condition replies have no target emotion: general ability only (as eval-prosody leaves them out of
  // its correlations).
  std::vector<Response> responses;
  for (const auto& r : all_responses)
    if (!r.no_target) responses.push_back(r);
  const size_t no_target = all_responses.size() - responses.size();
  log_info("judge", "{} replies from {} systems{}", all_responses.size(), systems_of(all_responses).size(),
           no_target ? fmt::format(" ({} with the N/A condition: no target, general ability only)", no_target)
                     : std::string());
  io::Json result{{"systems", systems_of(all_responses)},
                  {"similarity_min_seconds", o.similarity_min_seconds},
                  {"no_target", no_target}};

  if (o.audio_judge) {
    auto items = judge_audio(responses, o.audio, o.out_dir);
    std::vector<io::Json> lines;
    for (const auto& it : items) lines.push_back(it.to_json());
    io::write_jsonl_atomic((fs::path(o.out_dir) / "judge_items.jsonl").string(), lines);
    io::Json summaries = io::Json::array();
    for (const auto& s : summarize(items)) summaries.push_back(s.to_json());
    io::Json judge{{"judge_model", o.audio.model},
                   {"samples", o.audio.samples},
                   {"temperature", o.audio.temperature},
                   {"top_p", o.audio.top_p},
                   {"summaries", summaries}};
    io::write_json_atomic((fs::path(o.out_dir) / "judge_summary.json").string(), judge);
    result["audio_judge"] = judge;
  }

  if (!o.proxy_corpus.empty()) {
    ProxyOptions po;
    po.corpus_manifest = o.proxy_corpus;
    result["proxy_judge"] = run_proxy_judge(responses, TextEmotionProxy::train(po), o.out_dir);
  }

  io::Json diversity = io::Json::array();
  for (const auto& d :
       cross_emotion_diversity(responses, enc.bertscore, enc.embedder, o.similarity_min_seconds))
    diversity.push_back(d.to_json());
  io::write_json_atomic((fs::path(o.out_dir) / "similarity.json").string(), diversity);
  result["diversity"] = diversity;

  io::Json general = io::Json::array();
  auto* general_encoder = enc.general_bertscore ? enc.general_bertscore : enc.bertscore;
  for (const auto& g : general_ability(all_responses, general_encoder)) {
    auto j = g.to_json();
    j["bertscore_model"] = general_encoder ? io::Json(general_encoder->describe()) : io::Json(nullptr);
    general.push_back(j);
  }
  io::write_json_atomic((fs::path(o.out_dir) / "general.json").string(), general);
  result["general"] = general;

  io::write_json_atomic((fs::path(o.out_dir) / "judge.json").string(), result);
  write_file_atomic(fs::path(o.out_dir) / "table.md", format_table(result));
  return result;
}

std::string format_table(const io::Json& r) {
  std::string semantic_measure, judge_model = "-";
  if (r.contains("audio_judge")) judge_model = r["audio_judge"].value("judge_model", "-");
  const bool proxy = r.contains("proxy_judge");
  std::string out = "| system | Neutral | Emotional | CommonEval |";
  out += proxy ? " Neutral (PROXY) | Emotional (PROXY) |" : "";
  out += " sem. sim. | lex. sim. | BERTScore F1 | ROUGE-L | WER % |\n";
  out +=
      proxy ? "|---|---|---|---|---|---|---|---|---|---|---|\n" : "|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& system : r["systems"]) {
    const std::string name = system.get<std::string>();
    std::string neutral = "-", emotional = "-", commoneval = "-", proxy_neutral = "-", proxy_emotional = "-",
                proxy_commoneval = "-";
    auto fill_scores = [&](const io::Json& summaries, std::string& neu, std::string& emo,
                           std::string& common) {
      for (const auto& s : summaries) {
        if (s["system"] != name) continue;
        std::string cell = fmt_num(s["mean"], "%.2f") + " (n " + std::to_string(s["n"].get<size_t>()) + ")";
        if (s["n"].get<size_t>() == 0) cell = "-";
        (s["setting"] == "neutral" ? neu : s["setting"] == "emotional" ? emo : common) = cell;
      }
    };
    if (r.contains("audio_judge")) fill_scores(r["audio_judge"]["summaries"], neutral, emotional, commoneval);
    if (proxy) fill_scores(r["proxy_judge"]["summaries"], proxy_neutral, proxy_emotional, proxy_commoneval);
    std::string sem = "-", lex = "-";
    for (const auto& d : r["diversity"]) {
      if (d["system"] != name || d["lexical"]["pairs"].get<size_t>() == 0) continue;
      lex = fmt_num(d["lexical"]["mean"], "%.3f");
      if (!d["semantic"].is_null()) {
        sem = fmt_num(d["semantic"]["mean"], "%.3f");
        semantic_measure = d["semantic_measure"].get<std::string>();
      }
    }
    std::string bs = "-", rl = "-", wer = "-";
    for (const auto& g : r["general"]) {
      if (g["system"] != name) continue;
      bs = fmt_num(g["bertscore_f1"], "%.3f");
      rl = fmt_num(g["rouge_l"], "%.3f");
      if (!g["wer"].is_null()) wer = fmt_num(io::Json(100.0 * g["wer"].get<double>()), "%.2f");
    }
    out += "| " + name + " | " + neutral + " | " + emotional + " | " + commoneval + " | ";
    if (proxy) out += proxy_neutral + " | " + proxy_emotional + " | ";
    out += sem + " | " + lex + " | " + bs + " | " + rl + " | " + wer + " |\n";
  }
  out += "\nNeutral / Emotional / CommonEval: mean audio-judge score (1-5) by " + judge_model +
         ", replies whose ratings all failed left out.\n";
  if (proxy) out += "(PROXY) columns: " + r["proxy_judge"]["judge"].get<std::string>() + ".\n";
  out +=
      "sem. sim.: " +
      (semantic_measure.empty() ? std::string("not computed (no encoder given)") : semantic_measure) +
      "; lex. sim.: ROUGE-L F1 with stemming; both mean pairwise over replies to one query under different "
      "target emotions (lower = more change).\n";
  for (const auto& d : r["diversity"]) {
    out += "Similarity of " + d["system"].get<std::string>() + " computed on " +
           d.value("text_source", std::string("model text"));
    if (d.value("filtered", 0) > 0)
      out += " (" + std::to_string(d["filtered"].get<size_t>()) +
             " replies left out by the reference's filters: audio under " +
             fmt_num(r.value("similarity_min_seconds", io::Json(10.0)), "%g") +
             " s or a transcript 5 % CJK or more)";
    if (d.value("without_transcript", 0) > 0)
      out += "; " + std::to_string(d["without_transcript"].get<size_t>()) +
             " replies without a transcript (no audio) left out";
    out += ".\n";
  }
  out +=
      "BERTScore F1, ROUGE-L: against reference replies; WER: ASR transcript against the model's own text.\n";
  return out;
}

}  // namespace symp::judge
