// symp judge: audio LLM judge scores, cross-emotion diversity and general ability for several systems.
#include <memory>

#include "command.h"
#include "symp/core/log.h"
#include "symp/judge/judge.h"
#include "symp/nn/bert.h"

namespace {

struct JudgeCli {
  symp::judge::JudgeOptions judge;
  std::string judge_url;                // empty: no audio judge
  std::string bertscore_model;          // DistilBERT (the reference) or another BERT-family folder
  int bertscore_layer = 5;              // bert-score's default for distilbert-base-uncased
  std::string general_bertscore_model;  // general ability only (the reference: bert-base-uncased)
  int general_bertscore_layer = 9;      // bert-score's default for bert-base-uncased
  std::string embed_model;              // MiniLM folder: cosine similarity instead of BERTScore
};

symp::cli::Runner setup(CLI::App& app) {
  auto o = std::make_shared<JudgeCli>();
  auto& a = o->judge.audio;
  app.add_option("--responses", o->judge.responses, "responses.jsonl files, each PATH or SYSTEM=PATH")
      ->required();
  app.add_option("--out", o->judge.out_dir, "Output folder")->required();
  app.add_option("--default-setting", o->judge.default_setting,
                 "Setting of records without a setting/split field: neutral or emotional")
      ->capture_default_str();
  app.add_option(
      "--judge-url", o->judge_url,
      "OpenAI-compatible server root (e.g. http://127.0.0.1:8000/v1); without it no audio judge runs");
  app.add_option("--judge-model", a.model, "Judge model name")->capture_default_str();
  app.add_option("--api-key", a.api_key, "API key (else the variable named by --api-key-env)");
  app.add_option("--api-key-env", a.api_key_env, "Environment variable holding the API key")
      ->capture_default_str();
  app.add_option("--samples", a.samples, "Judge ratings per reply, averaged")->capture_default_str();
  app.add_option("--parse-retries", a.parse_retries, "Extra requests for a reply without a rating")
      ->capture_default_str();
  app.add_option("--temperature", a.temperature, "Judge sampling temperature")->capture_default_str();
  app.add_option("--top-p", a.top_p, "Judge top-p")->capture_default_str();
  app.add_option("--max-tokens", a.max_tokens, "Tokens per judge reply")->capture_default_str();
  app.add_option("--concurrency", a.concurrency, "Requests in flight")->capture_default_str();
  app.add_option("--timeout", a.timeout_s, "Seconds per request")->capture_default_str();
  app.add_option("--max-attempts", a.max_attempts, "HTTP attempts per request")->capture_default_str();
  app.add_option("--rubrics", a.rubric_dir,
                 "Folder with emotional.txt, neutral.txt, helpfulness.txt, user.txt");
  app.add_option("--cache", a.cache_path, "Judge reply cache (default OUT/judge_cache.jsonl)");
  app.add_option(
      "--proxy-corpus", o->judge.proxy_corpus,
      "gen-data manifest.jsonl: adds an offline PROXY judge (text emotion classifier trained on its train "
      "partition; not the paper's audio judge)");
  app.add_option("--similarity-min-seconds", o->judge.similarity_min_seconds,
                 "Replies with a transcript and shorter audio leave the cross-emotion similarity (the "
                 "reference's filter: 10; 0 keeps every reply)")
      ->capture_default_str();
  app.add_option("--bertscore-model", o->bertscore_model,
                 "BERT-family folder for BERTScore (the reference uses distilbert-base-uncased)");
  app.add_option("--bertscore-layer", o->bertscore_layer, "Layer whose token states BERTScore compares")
      ->capture_default_str();
  app.add_option("--general-bertscore-model", o->general_bertscore_model,
                 "BERT-family folder for the general-ability BERTScore against reference replies (the "
                 "reference uses bert-base-uncased; default: --bertscore-model)");
  app.add_option("--general-bertscore-layer", o->general_bertscore_layer,
                 "Layer for --general-bertscore-model")
      ->capture_default_str();
  app.add_option(
      "--embed-model", o->embed_model,
      "Sentence-embedding folder (all-MiniLM-L6-v2) for cosine similarity when no BERTScore model is given");
  return [o, &app](const symp::cli::GlobalOptions&) {
    o->judge.audio_judge = !o->judge_url.empty();
    if (o->judge.audio_judge) o->judge.audio.base_url = o->judge_url;
    o->judge.validate();
    symp::cli::save_effective_config(app, o->judge.out_dir);
    std::unique_ptr<symp::text::TokenEncoder> bertscore;
    std::unique_ptr<symp::text::Embedder> embedder;
    if (!o->bertscore_model.empty()) {
      bertscore = symp::nn::make_bert_token_encoder(o->bertscore_model, o->bertscore_layer);
    }
    std::unique_ptr<symp::text::TokenEncoder> general;
    if (!o->general_bertscore_model.empty()) {
      general = symp::nn::make_bert_token_encoder(o->general_bertscore_model, o->general_bertscore_layer);
    }
    if (!o->embed_model.empty()) embedder = symp::nn::make_bert_embedder(o->embed_model);
    if (!o->judge.audio_judge) symp::log_info("judge", "no --judge-url: the audio judge is skipped");
    symp::judge::run_judge(o->judge, {bertscore.get(), general.get(), embedder.get()});
    symp::log_info("judge", "results in {}/table.md", o->judge.out_dir);
    return 0;
  };
}

}  // namespace

SYMP_COMMAND(judge, "judge", 70,
             "Audio LLM judge, cross-emotion similarity and general ability across systems", setup)
