#pragma once
// An offline PROXY for the audio judge, for runs without an audio LLM. It is not the paper's judge and
// every output it touches says so. What it measures: whether a text emotion classifier trained only on
// the corpus' train partition recovers the reply's target emotion from the reply's words. Classifier:
// multinomial naive Bayes over stemmed unigrams and bigrams (rouge-score tokens), Laplace smoothing.
// Proxy score = 1 + 4 p(target | text), on the judge's 1-5 scale. Delivery (the voice) is not judged.
#include <map>
#include <string>
#include <vector>

#include "symp/io/jsonl.h"
#include "symp/judge/responses.h"

namespace symp::judge {

struct ProxyOptions {
  std::string corpus_manifest;  // gen-data manifest.jsonl (response_text, emotion, partition)
  double alpha = 1.0;           // Laplace smoothing of word counts
  bool bigrams = true;          // add adjacent-token pairs as features
  void validate() const;
};

class TextEmotionProxy {
 public:
  // Trains on the records whose partition is "train"; InputError when there are none.
  static TextEmotionProxy train(const ProxyOptions& options);

  // Posterior over the corpus' emotions.
  std::map<std::string, double> posterior(const std::string& text) const;
  double score(const std::string& text, const std::string& target) const;  // 1 + 4 p(target | text)

  // Checked on the manifest's eval partition: top-1 accuracy, mean proxy score with the true targets and
  // with each record's target replaced by another emotion (a control that should score far lower).
  io::Json validate_on_eval() const;
  std::string describe() const;
  const std::vector<std::string>& emotions() const { return emotions_; }

 private:
  std::vector<std::string> features(const std::string& text) const;

  ProxyOptions options_;
  std::vector<std::string> emotions_;
  std::vector<double> log_prior_;
  std::vector<double> total_;                          // feature count per emotion
  std::map<std::string, std::vector<double>> counts_;  // feature -> count per emotion
  size_t train_records_ = 0;
};

// Proxy scores for every response with text, summarised like the audio judge (per system and setting),
// with "judge": "PROXY ..." in every record.
io::Json run_proxy_judge(const std::vector<Response>& responses, const TextEmotionProxy& proxy,
                         const std::string& out_dir);

}  // namespace symp::judge
