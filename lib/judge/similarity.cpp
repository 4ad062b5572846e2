#include "symp/judge/similarity.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "symp/core/log.h"
#include "symp/text/rouge.h"
#include "symp/text/utf8.h"
#include "symp/text/wer.h"

namespace symp::judge {
namespace {

PairStats stats_of(const std::vector<double>& values) {
  PairStats s;
  s.pairs = values.size();
  if (values.empty()) return s;
  double sum = 0.0;
  for (double v : values) sum += v;
  s.mean = sum / static_cast<double>(values.size());
  double ss = 0.0;
  for (double v : values) ss += (v - s.mean) * (v - s.mean);
  s.std = std::sqrt(ss / static_cast<double>(values.size()));
  return s;
}

io::Json stats_json(const PairStats& s) {
  return {{"mean", s.mean}, {"std", s.std}, {"pairs", s.pairs}};
}

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0.0, na = 0.0, nb = 0.0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    dot += static_cast<double>(a[i]) * b[i];
    na += static_cast<double>(a[i]) * a[i];
    nb += static_cast<double>(b[i]) * b[i];
  }
  return na > 0 && nb > 0 ? dot / std::sqrt(na * nb) : 0.0;
}

}  // namespace

double cjk_share(const std::string& text) {
  const auto points = text::decode_utf8(text);
  size_t cjk = 0;
  for (const char32_t cp : points) {
    if ((cp >= 0x3040 && cp <= 0x30FF) || (cp >= 0x3400 && cp <= 0x4DBF) || (cp >= 0x4E00 && cp <= 0x9FFF) ||
        (cp >= 0xAC00 && cp <= 0xD7AF) || (cp >= 0xF900 && cp <= 0xFAFF))
      ++cjk;
  }
  return points.empty() ? 0.0 : double(cjk) / double(points.size());
}

io::Json DiversityResult::to_json() const {
  io::Json j{{"system", system},
             {"queries", queries},
             {"lexical", stats_json(lexical)},
             {"lexical_measure", "ROUGE-L F1, Porter stemming, mean of both directions"},
             {"text_source", text_source},
             {"filtered", filtered},
             {"without_transcript", without_transcript},
             {"lexical_by_query", lexical_by_query}};
  j["semantic"] = semantic ? stats_json(*semantic) : io::Json(nullptr);
  j["semantic_measure"] = semantic_measure;
  return j;
}

std::vector<DiversityResult> cross_emotion_diversity(const std::vector<Response>& responses,
                                                     text::TokenEncoder* bertscore, text::Embedder* embedder,
                                                     double min_seconds) {
  std::vector<DiversityResult> out;
  for (const auto& system : systems_of(responses)) {
    // query -> replies, one per target emotion (a repeated emotion keeps its first reply).
    std::map<std::string, std::map<std::string, const Response*>> groups;
    size_t filtered = 0, on_transcripts = 0, on_text = 0, without_transcript = 0;
    // Once a system's replies were transcribed, similarity is on what was said: a reply without a
    // transcript (no audio to hear) is left out rather than compared on its text.
    const bool transcribed = std::any_of(responses.begin(), responses.end(), [&](const Response& r) {
      return r.system == system && !r.transcript.empty();
    });
    for (const auto& r : responses) {
      if (r.system != system) continue;
      if (r.query.empty()) continue;
      if (transcribed && r.transcript.empty()) {
        ++without_transcript;
        continue;
      }
      if (!r.transcript.empty()) {
        if ((r.duration >= 0 && r.duration < min_seconds) || cjk_share(r.transcript) >= 0.05) {
          ++filtered;
          continue;
        }
        ++on_transcripts;
      } else {
        ++on_text;
      }
      groups[r.query].emplace(r.emotion, &r);
    }
    std::vector<std::string> cand, ref;
    std::vector<const std::string*> pair_query;  // the query of each pair
    for (const auto& [query, by_emotion] : groups) {
      for (auto a = by_emotion.begin(); a != by_emotion.end(); ++a) {
        for (auto b = std::next(a); b != by_emotion.end(); ++b) {
          cand.push_back(a->second->spoken_text());
          ref.push_back(b->second->spoken_text());
          pair_query.push_back(&query);
        }
      }
    }
    DiversityResult d;
    d.system = system;
    d.filtered = filtered;
    d.without_transcript = without_transcript;
    d.text_source = on_transcripts && on_text                  ? "transcripts and model text"
                    : on_transcripts || (filtered && !on_text) ? "transcripts"
                                                               : "model text";
    for (const auto& [query, by_emotion] : groups) d.queries += by_emotion.size() >= 2 ? 1 : 0;
    std::vector<double> lexical;
    for (size_t k = 0; k < cand.size(); ++k) {
      auto a = text::rouge_tokenize(cand[k], true), b = text::rouge_tokenize(ref[k], true);
      lexical.push_back(0.5 * (text::rouge_l_tokens(a, b).fmeasure + text::rouge_l_tokens(b, a).fmeasure));
    }
    d.lexical = stats_of(lexical);
    std::map<std::string, std::pair<double, size_t>> by_query;  // sum, pairs
    for (size_t k = 0; k < lexical.size(); ++k) {
      auto& [sum, n] = by_query[*pair_query[k]];
      sum += lexical[k];
      ++n;
    }
    for (const auto& [query, sum_n] : by_query)
      d.lexical_by_query[query] = sum_n.first / double(sum_n.second);
    if (bertscore) {
      std::vector<double> f;
      for (const auto& s : text::bert_score(*bertscore, cand, ref)) f.push_back(s.f1);
      d.semantic = stats_of(f);
      d.semantic_measure = "BERTScore F1 (" + bertscore->describe() + ")";
    } else if (embedder) {
      std::vector<std::string> texts;
      std::map<std::string, size_t> index;
      for (const auto* list : {&cand, &ref}) {
        for (const auto& t : *list) {
          if (index.emplace(t, texts.size()).second) texts.push_back(t);
        }
      }
      auto rows = embedder->embed(texts);
      std::vector<double> c;
      for (size_t k = 0; k < cand.size(); ++k) c.push_back(cosine(rows[index[cand[k]]], rows[index[ref[k]]]));
      d.semantic = stats_of(c);
      d.semantic_measure = "cosine (" + embedder->describe() + ")";
    }
    if (d.queries == 0) log_warn("judge", "{}: no query has replies under two target emotions", system);
    out.push_back(std::move(d));
  }
  return out;
}

io::Json GeneralResult::to_json() const {
  auto opt = [](const std::optional<double>& x) { return x ? io::Json(*x) : io::Json(nullptr); };
  return {{"system", system},
          {"rouge_l", opt(rouge_l)},
          {"bertscore_f1", opt(bertscore_f1)},
          {"with_reference", with_reference},
          {"wer", opt(wer)},
          {"with_transcript", with_transcript}};
}

std::vector<GeneralResult> general_ability(const std::vector<Response>& responses,
                                           text::TokenEncoder* bertscore) {
  std::vector<GeneralResult> out;
  for (const auto& system : systems_of(responses)) {
    GeneralResult g;
    g.system = system;
    std::vector<std::string> cand, ref, asr, own;
    for (const auto& r : responses) {
      if (r.system != system) continue;
      if (!r.reference.empty()) {
        cand.push_back(r.spoken_text());
        ref.push_back(r.reference);
      }
      // WER of the ASR transcript against the model's own text (the reference code's protocol).
      if (!r.transcript.empty() && !text::normalize_for_wer(r.text).empty()) {
        own.push_back(text::normalize_for_wer(r.text));
        asr.push_back(text::normalize_for_wer(r.transcript));
      }
    }
    g.with_reference = cand.size();
    if (!cand.empty()) {
      double sum = 0.0;
      for (size_t k = 0; k < cand.size(); ++k) sum += text::rouge_l(ref[k], cand[k], true).fmeasure;
      g.rouge_l = sum / static_cast<double>(cand.size());
      if (bertscore) {
        double f = 0.0;
        for (const auto& s : text::bert_score(*bertscore, cand, ref)) f += s.f1;
        g.bertscore_f1 = f / static_cast<double>(cand.size());
      }
    }
    g.with_transcript = own.size();
    if (!own.empty()) g.wer = text::word_error_rate(own, asr).wer();
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace symp::judge
