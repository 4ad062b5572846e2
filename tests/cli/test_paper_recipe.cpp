// recipes/paper/run.sh at CI scale (recipes/paper/ci.conf, the embedded stack) against four loopback
// servers started here: a text LLM (canned queries and replies), a TTS (espeak-ng speaking the text it is
// sent), an audio judge that always rates 4, and an ASR server that always hears the same sentence. The
// tables must hold what those servers imply: 4.00 in every judge cell, a cross-emotion ROUGE-L of 1 on
// identical transcripts, and the WER of that sentence against each reply's own text, computed here.
#include <catch2/catch.hpp>

#include <sys/wait.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "../paper_recipe.h"
#include "../test_util.h"
#include "symp/core/fs.h"
#include "symp/core/rng.h"
#include "symp/data/espeak_tts.h"
#include "symp/io/audio.h"
#include "symp/io/csv.h"
#include "symp/io/jsonl.h"

namespace fs = std::filesystem;
using symp::io::Json;

namespace {

using namespace symp::test::paper;

// The reference's WER normalisation, written again here: ASCII lower case, ASCII punctuation dropped.
std::vector<std::string> wer_words(const std::string& text) {
  std::string t;
  for (unsigned char c : text) {
    if (c < 128 && std::ispunct(c)) continue;
    t += static_cast<char>(c < 128 ? std::tolower(c) : c);
  }
  std::istringstream in(t);
  std::vector<std::string> words;
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

size_t edit_distance(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

TEST_CASE("paper recipe: a CI-scale run lays out the paper's tables from what the servers answered",
          "[recipe]") {
  symp::test::ScratchDir dir("paper-recipe");
  Servers servers(dir);
  const fs::path run = dir.path() / "run";
  const std::string urls = servers.set_args();
  // BERTScore with the small DistilBERT and BERT fixtures (the reference's models, at toy size).
  const std::string conf =
      " --config " SYMP_SOURCE_DIR "/recipes/paper/ci.conf --set BERTSCORE_MODEL=" SYMP_SHARED_DIR
      "/fixtures/distilbert --set BERTSCORE_LAYER=2 --set GENERAL_BERTSCORE_MODEL=" SYMP_SHARED_DIR
      "/fixtures/bert --set GENERAL_BERTSCORE_LAYER=2 ";

  // Stop after the corpus, write sensor cues for its eval queries, then run the rest.
  {
    const auto r = run_recipe(dir, conf + urls + " --until gen-data " + run.string());
    INFO(r.log);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.log, Catch::Contains("stopped after stage 'gen-data'"));
    REQUIRE_FALSE(fs::exists(run / "enc"));
  }
  std::string query;
  for (const auto& rec : symp::io::read_jsonl((run / "corpus/manifest.jsonl").string()))
    if (rec.at("partition") == "eval" && rec.at("split") == "neutral") query = rec.at("query_id");
  REQUIRE_FALSE(query.empty());
  symp::write_file_atomic(run.parent_path() / "face.jsonl",
                          Json{{"query_id", query},
                               {"modality", "face"},
                               {"taxonomy", "affectnet"},
                               {"probs", {{"happy", 0.7}, {"neutral", 0.3}}},
                               {"emotion", "happy"}}
                                  .dump() +
                              "\n");
  symp::write_file_atomic(run.parent_path() / "text.jsonl", Json{{"query_id", query},
                                                                 {"modality", "text"},
                                                                 {"taxonomy", "text7"},
                                                                 {"probs", {{"joy", 0.9}, {"neutral", 0.1}}},
                                                                 {"emotion", "happy"}}
                                                                    .dump() +
                                                                "\n");
  // CommonEval: two spoken questions in a folder.
  fs::create_directories(dir.path() / "commoneval");
  for (int k = 0; k < 2; ++k) {
    symp::io::write_wav((dir.path() / "commoneval" / ("q" + std::to_string(k) + ".wav")).string(),
                        servers.speak(k ? "What is the capital of France?" : "How do I boil an egg?"));
  }
  const std::string rest = urls +
                           " --set \"SENSING_CUES=face=" + (run.parent_path() / "face.jsonl").string() +
                           " text=" + (run.parent_path() / "text.jsonl").string() +
                           "\" --set COMMONEVAL=" + (dir.path() / "commoneval").string() + " ";
  {
    const auto r = run_recipe(dir, conf + rest + run.string());
    INFO(r.log);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.log, Catch::Contains("== gen-data: done earlier"));
  }

  const Json tables = symp::io::read_json((run / "report/tables.json").string());
  for (const char* name : {"headline", "prosody", "noise", "general", "sensing", "probe"}) {
    INFO(name);
    REQUIRE(tables.contains(name));
    CHECK(tables[name].at("status") == "ok");
    CHECK(fs::exists(run / "report" / (std::string(name) + ".csv")));
  }

  // Replies with audio, per system and setting, from the files infer wrote.
  std::map<std::string, size_t> with_audio;  // system|setting -> replies with audio
  std::vector<Json> main_replies;
  for (const char* set : {"neutral", "text-emotion", "emotional", "commoneval"}) {
    for (const auto& r : symp::io::read_jsonl((run / "replies" / set / "transcribed.jsonl").string())) {
      if (r.at("response_audio").is_null()) continue;  // a reply of text tokens only: nothing to hear
      CHECK(r.at("transcript") == kHeard);
      main_replies.push_back(r);
      if (r.at("setting") == "neutral" && r.at("condition") == "NA") continue;  // no target: not judged
      ++with_audio[r.at("system").get<std::string>() + "|" + r.at("setting").get<std::string>()];
    }
  }

  // Headline: the judge always said 4; identical transcripts are identical across emotions.
  const Json& headline = tables["headline"];
  std::set<std::string> systems;
  for (const auto& row : headline.at("rows")) systems.insert(row.at("system").get<std::string>());
  CHECK(systems == std::set<std::string>{"base", "text-emotion", "sympatheia"});
  for (const std::string system : {"base", "sympatheia"}) {
    const Json& row = row_of(headline, "system", system);
    // Toy replies of 30 tokens sometimes hold no audio: a cell is 4.00 over those that do, else empty.
    REQUIRE(with_audio[system + "|neutral"] > 0);
    for (const std::string setting : {"neutral", "emotional", "commoneval"}) {
      INFO(system << " " << setting);
      const size_t n = with_audio[system + "|" + setting];
      CHECK(row.at(setting + "_n") == n);
      if (n > 0) {
        CHECK(row.at(setting).get<double>() == Approx(4.0));
      } else {
        CHECK(row.at(setting).is_null());
      }
    }
    CHECK(row.at("lex_sim").get<double>() == Approx(1.0));
    CHECK(row.at("similarity_on") == "transcripts");
    CHECK(row.at("emotion_mos").is_null());
    // Identical transcripts: BERTScore F1 of 1 as well.
    CHECK(row.at("sem_sim").get<double>() == Approx(1.0).epsilon(1e-5));
  }
  CHECK(row_of(headline, "system", "sympatheia").at("neutral_paper").get<double>() == Approx(4.37));
  CHECK(row_of(headline, "system", "base").at("lex_sim_paper").get<double>() == Approx(0.459));
  CHECK(row_of(headline, "system", "text-emotion").at("neutral").get<double>() == Approx(4.0));
  CHECK(row_of(headline, "system", "text-emotion").at("neutral_paper").is_null());

  // General ability: the corpus WER of the fixed transcript against each reply's own text.
  for (const std::string system : {"base", "sympatheia"}) {
    size_t edits = 0, words = 0;
    for (const auto& r : main_replies) {
      if (r.at("system") != system) continue;
      const auto ref = wer_words(r.at("response_text").get<std::string>());
      if (ref.empty()) continue;  // a reply of audio tokens only: no text to score the transcript against
      edits += edit_distance(ref, wer_words(kHeard));
      words += ref.size();
    }
    INFO(system);
    REQUIRE(words > 0);
    const Json& row = row_of(tables["general"], "system", system);
    CHECK(row.at("wer_percent").get<double>() == Approx(100.0 * edits / words).epsilon(1e-9));
    CHECK(row.at("utmos").is_null());
    // Against the corpus's replies (infer's reference_text): a real score in (0, 1), from the BERT fixture.
    CHECK(row.at("with_reference").get<size_t>() > 0);
    CHECK(row.at("bertscore_f1").get<double>() > 0.0);
    CHECK(row.at("bertscore_f1").get<double>() < 1.0);
    CHECK(row.at("rouge_l").get<double>() >= 0.0);
    CHECK(row.at("utmos_paper").get<double>() == Approx(system == "base" ? 4.02 : 4.18));
  }

  // Noise: 2 sigmas x 2 repeats x 12 emotions x 1 query, each scored 4.
  const Json& noise = tables["noise"];
  REQUIRE(noise.at("rows").size() == 2);
  for (const auto& row : noise.at("rows")) {
    const double sigma = row.at("sigma");
    size_t replies = 0;
    for (const char* rep : {"rep_1", "rep_2"}) {
      const auto path =
          run / "replies/noise" / (sigma == 0 ? "sigma_0" : "sigma_0.5") / rep / "responses.jsonl";
      for (const auto& r : symp::io::read_jsonl(path.string()))
        replies += r.at("response_audio").is_null() ? 0 : 1;
    }
    INFO("sigma " << sigma);
    CHECK(row.at("judge").get<double>() == Approx(4.0));
    CHECK(row.at("judge_n") == replies);
    CHECK(replies > 0);
    CHECK(row.at("judge_paper").get<double>() == Approx(sigma == 0 ? 4.32 : 3.30));
  }
  // Repeats of sigma 0 ask for the same VA; repeats of sigma 0.5 draw other noise (one seed per repeat).
  auto va_of = [&](const std::string& sigma, const char* rep) {
    std::map<std::string, std::pair<double, double>> va;
    for (const auto& r :
         symp::io::read_jsonl((run / "replies/noise" / sigma / rep / "responses.jsonl").string()))
      va[r.at("query_id").get<std::string>() + r.at("condition").get<std::string>()] = {r.at("valence"),
                                                                                        r.at("arousal")};
    return va;
  };
  CHECK(va_of("sigma_0", "rep_1") == va_of("sigma_0", "rep_2"));
  CHECK(va_of("sigma_0.5", "rep_1") != va_of("sigma_0.5", "rep_2"));
  CHECK(va_of("sigma_0.5", "rep_1").size() == 12);

  // Sensing: one query, answered with each cue and without; every answer with audio scored 4.
  for (const std::string modality : {"face", "text"}) {
    const Json& row = row_of(tables["sensing"], "modality", modality);
    size_t with = 0, without = 0, replies = 0;
    for (const auto& r :
         symp::io::read_jsonl((run / "replies/sensing" / modality / "responses.jsonl").string())) {
      ++replies;
      if (r.at("response_audio").is_null()) continue;
      CHECK(r.at("emotion") == "happy");  // judged against what the user felt, with or without the cue
      (r.at("cue_modality").is_null() ? without : with) += 1;
    }
    INFO(modality);
    CHECK(replies == 2);
    CHECK(row.at("with_cue_n") == with);
    CHECK(row.at("without_cue_n") == without);
    if (with) CHECK(row.at("with_cue").get<double>() == Approx(4.0));
    if (without) CHECK(row.at("without_cue").get<double>() == Approx(4.0));
  }
  CHECK(row_of(tables["sensing"], "modality", "face").at("with_cue_paper").get<double>() == Approx(3.64));

  // Prosody: the table carries eval-prosody's correlations unchanged.
  const auto cells = symp::io::read_csv((run / "prosody/correlations.csv").string());
  REQUIRE(cells.size() > 1);
  size_t checked = 0;
  for (size_t i = 1; i < cells.size(); ++i) {
    const auto& c = cells[i];  // system, feature, target, rho, p, n
    for (const auto& row : tables["prosody"].at("rows")) {
      if (row.at("system") != c[0] || row.at("feature") != c[1]) continue;
      const Json v = row.at(c[2] + "_rho");
      if (c[3] == "nan" || c[3].empty()) {
        CHECK(v.is_null());
      } else {
        CHECK(v.get<double>() == Approx(std::stod(c[3])));
      }
      ++checked;
    }
  }
  CHECK(checked == cells.size() - 1);

  // The probe table carries symp probe's summary: base and sympatheia, every eval neutral-split record.
  const Json probe = symp::io::read_json((run / "probe/probe_summary.json").string());
  REQUIRE(tables["probe"].at("rows").size() == 2);
  for (const auto& s : probe.at("systems")) {
    const Json& row = row_of(tables["probe"], "system", s.at("system").get<std::string>());
    CHECK(row.at("accuracy").get<double>() == Approx(s.at("accuracy").get<double>()));
    CHECK(row.at("margin_nats").get<double>() == Approx(s.at("margin_nats").get<double>()));
    CHECK(row.at("n").get<size_t>() % 12 == 0);
    CHECK(row.at("n").get<size_t>() > 0);
  }

  const std::string md = symp::read_text_file(run / "report/tables.md");
  CHECK_THAT(md, Catch::Contains("4.00 (n "));
  CHECK_THAT(md, Catch::Contains("[4.37]"));
  CHECK(fs::file_size(run / "report/judge_vs_sigma.png") > 1000);
  CHECK(fs::file_size(run / "report/va_plane.png") > 1000);
  CHECK(fs::exists(run / "recipe.conf"));

  // SYMP_KEEP_PAPER_RUN=DIR keeps a copy of the run (recipes/paper/README.md's stage costs come from it).
  if (const char* keep = std::getenv("SYMP_KEEP_PAPER_RUN")) {
    fs::remove_all(keep);
    fs::copy(run, keep, fs::copy_options::recursive);
  }

  // A rerun does nothing again: every stage is done, no server is asked anything.
  const size_t asked = servers.requests();
  {
    const auto r = run_recipe(dir, conf + rest + run.string());
    INFO(r.log);
    REQUIRE(r.status == 0);
    CHECK_THAT(r.log, Catch::Contains("== judge-sensing: done earlier"));
  }
  CHECK(servers.requests() == asked);
}

TEST_CASE("paper recipe: --dry-run checks every stage of the shipped configs and refuses bad settings",
          "[recipe]") {
  symp::test::ScratchDir dir("paper-dry-run");
  const std::string run = " " + dir.file("run");
  for (const char* conf : {"paper.conf", "ci.conf"}) {
    INFO(conf);
    const auto r =
        run_recipe(dir, std::string("--dry-run --config " SYMP_SOURCE_DIR "/recipes/paper/") + conf +
                            " --set SENSING_CUES=face=cues.jsonl --set COMMONEVAL=questions" + run);
    INFO(r.log);
    CHECK(r.status == 0);
    CHECK_THAT(r.log, Catch::Contains("every stage's arguments are accepted by symp"));
    CHECK_THAT(r.log, Catch::Contains("[infer-noise-sigma_"));
    CHECK_THAT(r.log, Catch::Contains("[infer-sensing-face]"));
    CHECK_THAT(r.log, Catch::Contains("[judge-main]"));
    CHECK_FALSE(fs::exists(dir.path() / "run"));  // a dry run writes nothing
  }
  // The paper's counts and settings reach the commands.
  const auto paper = run_recipe(dir, "--dry-run" + run);
  CHECK_THAT(paper.log, Catch::Contains("--per-emotion 1000 --neutral-queries 500"));
  CHECK_THAT(paper.log, Catch::Contains("/recipes/paper/train-lora-4gpu.toml train-lora"));
  CHECK_THAT(paper.log, Catch::Contains("--reference-conditions --include-base --style base=glm4voice"));

  // A misspelled key in the recipe's config names the file, the line and the key.
  const std::string bad = dir.file("bad.conf");
  symp::write_file_atomic(bad, "SEED=42\nNOISE_SIGMA=0.1\n");
  auto r = run_recipe(dir, "--dry-run --config " + bad + run);
  CHECK(r.status == 2);
  CHECK_THAT(r.log, Catch::Contains("bad.conf:2: unknown key 'NOISE_SIGMA'"));
  // A value symp refuses is caught by symp's own parser before anything runs.
  r = run_recipe(dir, "--dry-run --set TEMPERATURE=warm" + run);
  CHECK(r.status == 2);
  CHECK_THAT(r.log, Catch::Contains("symp refuses these arguments"));
  CHECK_THAT(r.log, Catch::Contains("warm"));
  // A train-lora config with a key train-lora does not know.
  const std::string toml = dir.file("train.toml");
  symp::write_file_atomic(toml, "[train-lora]\nlora-rnak = 32\n");
  r = run_recipe(dir, "--dry-run --set TRAIN_CONFIG=" + toml + run);
  CHECK(r.status == 2);
  CHECK_THAT(r.log, Catch::Contains("lora-rnak"));
  r = run_recipe(dir, "--dry-run --until train-lor" + run);
  CHECK(r.status == 2);
  CHECK_THAT(r.log, Catch::Contains("--until train-lor: no such stage"));
}
