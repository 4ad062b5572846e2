#pragma once
// Text measures over the replies: diversity across target emotions and general ability against
// references. PAPER.md sections 7 and 8.
//
// Diversity: replies are grouped by query (Response::query) within a system; every pair of replies to
// one query under different target emotions is scored; the result is the mean and population standard
// deviation over all pairs of all queries. Lexical = ROUGE-L F1 with stemming, averaged over both
// directions (the reference's measure); semantic = BERTScore F1 (the reference's, with
// distilbert-base-uncased, no idf, no rescaling) or the cosine of sentence embeddings (MiniLM), as chosen.
// Texts are Response::spoken_text(): the ASR transcript when present, else the model's own text.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "symp/io/jsonl.h"
#include "symp/judge/responses.h"
#include "symp/text/bertscore.h"
#include "symp/text/embedder.h"

namespace symp::judge {

struct PairStats {
  double mean = 0.0;
  double std = 0.0;  // population standard deviation over pairs
  size_t pairs = 0;
};

struct DiversityResult {
  std::string system;
  size_t queries = 0;                 // queries with at least two target emotions
  PairStats lexical;                  // ROUGE-L F1 (stemmed, both directions averaged)
  std::optional<PairStats> semantic;  // when an encoder was given
  std::string semantic_measure;       // "BERTScore F1 (...)" or "cosine (...)"
  std::string text_source;            // "transcripts", "model text" or "transcripts and model text"
  size_t filtered = 0;                // replies with a transcript left out by the reference's filters
  size_t without_transcript = 0;      // replies left out for having no transcript when others have one
  std::map<std::string, double> lexical_by_query;  // query -> mean ROUGE-L over its pairs (for intervals)
  io::Json to_json() const;
};

// Share of a text's code points that are CJK (kana, hangul, CJK ideographs); 0 for an empty text.
double cjk_share(const std::string& text);

// `bertscore` or `embedder` (or neither: lexical only); bertscore wins when both are given. Replies are
// compared on their transcripts when they have one, else on the model's own text; a reply with a
// transcript is left out, as the reference does, when its audio is under `min_seconds` (the reference: 10 s)
// or 5 % or more of the transcript is CJK (Whisper answering in another script).
std::vector<DiversityResult> cross_emotion_diversity(const std::vector<Response>& responses,
                                                     text::TokenEncoder* bertscore, text::Embedder* embedder,
                                                     double min_seconds = 10.0);

// General ability of one system: replies against reference replies and ASR against the model's text.
struct GeneralResult {
  std::string system;
  std::optional<double> rouge_l;  // mean ROUGE-L F1 (stemmed), reply vs reference, over `with_reference`
  std::optional<double> bertscore_f1;
  size_t with_reference = 0;
  std::optional<double> wer;  // corpus WER of transcript vs the model's own text, both normalised
  size_t with_transcript = 0;
  io::Json to_json() const;
};

std::vector<GeneralResult> general_ability(const std::vector<Response>& responses,
                                           text::TokenEncoder* bertscore);

}  // namespace symp::judge
