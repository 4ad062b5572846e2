// The real GLM-4-Voice path end to end on a toy bundle in the shipped layouts (glm4voice_bundle.h): the
// symp binary runs gen-data -> tokenize encode --codec glm4voice -> train-lora -> infer --codec glm4voice
// (three prompt styles, neutral and emotional splits) -> eval-prosody -> judge, and every joint is checked
// by value: speech ids against `tokenize speech`, text against the GLM-4 tokenizer, the adapter against the
// loss it was saved with, reply WAVs against their audio tokens.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <map>
#include <random>
#include <thread>

#include "glm4voice_bundle.h"
#include "symp/affect/affect.h"
#include "symp/io/audio.h"
#include "symp/judge/responses.h"
#include "symp/nn/glm.h"
#include "symp/nn/glm_config.h"
#include "symp/nn/lora.h"
#include "symp/text/sequence.h"

namespace {

namespace fs = std::filesystem;
using namespace symp;
using symp::test::fixtures_dir;
using symp::test::glm4voice::bundle;
using symp::test::glm4voice::decoded_samples;
using symp::test::infer::read_text;
using symp::test::infer::symp_ok;

std::vector<int64_t> ids_of(const io::Json& record) {
  return record.at("input_ids").get<std::vector<int64_t>>();
}

std::string infer_args(const test::glm4voice::Bundle& b, const std::string& out) {
  return "infer --codec glm4voice --model " + b.glm + " --tokenizer " + b.glm + " --codec-encoder " +
         b.tokenizer + " --codec-decoder " + b.decoder + " --manifest " + b.corpus +
         "/manifest.jsonl --max-new-tokens 40 --temperature 1 --out " + out;
}

}  // namespace

TEST_CASE(
    "glm4voice path: tokenize encode writes WhisperVQ's ids as GLM-4 audio tokens and text that "
    "round-trips",
    "[slow]") {
  const auto& b = bundle();
  const auto tok = text::GlmTokenizer::load(b.glm);
  auto records = io::read_jsonl(b.encoded + "/encoded_train.jsonl");
  const auto eval = io::read_jsonl(b.encoded + "/encoded_eval.jsonl");
  records.insert(records.end(), eval.begin(), eval.end());
  const auto manifest = io::read_jsonl(b.corpus + "/manifest.jsonl");
  REQUIRE(records.size() == manifest.size());

  // `symp tokenize speech` on every WAV of the corpus, one call.
  std::string audio_args;
  std::map<std::string, std::pair<std::string, std::string>> wavs_of;  // record id -> query, response
  for (const auto& m : manifest) {
    const auto q = b.corpus + "/" + m.at("query_audio").get<std::string>();
    const auto r = b.corpus + "/" + m.at("response_audio").get<std::string>();
    wavs_of[m.at("id").get<std::string>()] = {q, r};
    audio_args += " " + q + " " + r;
  }
  test::ScratchDir dir("glm4voice-speech-ids");
  symp_ok("tokenize speech --tokenizer " + b.tokenizer + " --out " + dir.file("ids.jsonl") + " --audio" +
          audio_args);
  std::map<std::string, std::vector<int64_t>> speech_ids;
  for (const auto& line : io::read_jsonl(dir.file("ids.jsonl")))
    speech_ids[line.at("file").get<std::string>()] = line.at("tokens").get<std::vector<int64_t>>();

  const auto prefix = tok.prefix_ids();
  const int64_t audio0 = tok.audio_id(0), assistant = tok.special_id("<|assistant|>");
  CHECK(prefix == std::vector<int64_t>{tok.special_id("[gMASK]"), tok.special_id("<sop>")});
  for (const auto& rec : records) {
    const std::string id = rec.at("id").get<std::string>();
    INFO("record " << id);
    const auto ids = ids_of(rec);
    REQUIRE(std::equal(prefix.begin(), prefix.end(), ids.begin()));
    // Audio ids before <|assistant|> are the query's, after it the response's.
    const int64_t start = rec.at("assistant_start").get<int64_t>();
    CHECK(ids[size_t(start - 1)] == tok.encode("\n")[0]);
    CHECK(ids[size_t(start - 2)] == assistant);
    std::vector<int64_t> query, response;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (ids[i] >= audio0 && ids[i] < audio0 + 256)
        (int64_t(i) < start ? query : response).push_back(ids[i] - audio0);
    }
    const auto& [q, r] = wavs_of.at(id);
    CHECK(query == speech_ids.at(q));
    CHECK(response == speech_ids.at(r));
    CHECK(rec.at("query_tokens").get<size_t>() == query.size());
    // The text is what the ids decode to, and encoding it again gives the same ids.
    const std::vector<int64_t> body(ids.begin() + long(prefix.size()), ids.end());
    const std::string text = rec.at("text").get<std::string>();
    CHECK(tok.decode(body) == text);
    CHECK(tok.decode(tok.encode(text)) == text);
    CHECK(text.rfind("<|system|>\n" +
                         affect::system_prompt(
                             rec.at("condition") == "na"
                                 ? std::nullopt
                                 : std::optional<affect::VA>(affect::VA{rec.at("valence").get<double>(),
                                                                        rec.at("arousal").get<double>()})) +
                         "\n<|user|>\n<|audio_",
                     0) == 0);
  }
  const auto lengths = io::read_json(b.encoded + "/sequence_lengths.json");
  CHECK(lengths.at("records").get<size_t>() == records.size());
  CHECK(lengths.at("na_records").get<int>() == 4);  // a third of the 12 emotional training records
  CHECK(fs::exists(b.encoded + "/symp-config.toml"));
  CHECK_FALSE(fs::exists(b.encoded + "/" + text::kEncodeProgressFile));
}

TEST_CASE("glm4voice path: tokenize encode killed with SIGKILL mid-run resumes to the same bytes", "[slow]") {
  const auto& b = bundle();
  test::ScratchDir dir("glm4voice-kill");
  const std::string out = dir.file("enc");
  const std::string progress = out + "/" + text::kEncodeProgressFile;
  const size_t total = io::read_jsonl(b.corpus + "/manifest.jsonl").size();
  // Kill after a random number of saved records (at least one, fewer than all), seeded per run.
  std::mt19937 gen(static_cast<unsigned>(std::random_device{}()));
  const size_t kill_after = 1 + gen() % (total / 2);  // room left, so the run cannot finish first
  INFO("kill after " << kill_after << " of " << total << " records");
  const std::string cmd = std::string(SYMP_BINARY) + " --seed 5 --threads 1 " +
                          test::glm4voice::encode_args(b, out) + " --batch-records 1";
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    execl("/bin/sh", "sh", "-c", ("exec " + cmd + " >/dev/null 2>&1").c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  size_t saved = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    if (fs::exists(progress)) {
      saved = io::read_jsonl(progress, /*tolerate_torn_tail=*/true).size();
      saved = saved > 0 ? saved - 1 : 0;  // the first line is the fingerprint
      if (saved >= kill_after) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  // The kill landed during the work: killed by the signal, some records saved, no output written yet.
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(saved >= 1);
  REQUIRE(saved < total);
  REQUIRE_FALSE(fs::exists(out + "/encoded_train.jsonl"));

  const auto resumed = symp_ok("--seed 5 " + test::glm4voice::encode_args(b, out));
  CHECK_THAT(resumed.err, Catch::Contains("resuming"));
  for (const char* f : {"encoded_train.jsonl", "encoded_eval.jsonl", "sequence_lengths.json"}) {
    INFO(f);
    CHECK(read_text(fs::path(out) / f) == read_text(fs::path(b.encoded) / f));
  }
  CHECK_FALSE(fs::exists(progress));
}

TEST_CASE(
    "glm4voice path: the LoRA adapter trained on GLM-4-Voice tokens loads back with the loss it was "
    "saved with",
    "[slow]") {
  const auto& b = bundle();
  double saved_loss = -1;
  for (const auto& m : io::read_jsonl(b.lora + "/metrics.jsonl"))
    if (m.contains("eval_loss")) saved_loss = m["eval_loss"].get<double>();
  REQUIRE(saved_loss > 0);
  torch::NoGradGuard no_grad;
  auto model = nn::load_glm(b.glm);
  nn::load_adapter(*model, b.lora + "/adapter");
  model->eval();
  double sum = 0;
  int64_t count = 0;
  for (const auto& rec : io::read_jsonl(b.encoded + "/encoded_eval.jsonl")) {
    const auto ids = torch::tensor(ids_of(rec), torch::kInt64).view({1, -1});
    auto mask = torch::ones_like(ids, torch::kBool);
    mask.index_put_({0, 0}, false);
    auto [loss, n] = nn::next_token_loss(model->forward(ids), ids, mask);
    sum += loss.item<double>();
    count += n;
  }
  CHECK(sum / double(count) == Approx(saved_loss).epsilon(1e-5));
  // And the adapter changed the model: the base alone scores differently.
  auto base = nn::load_glm(b.glm);
  base->eval();
  const auto ids =
      torch::tensor(ids_of(io::read_jsonl(b.encoded + "/encoded_eval.jsonl").at(0)), torch::kInt64)
          .view({1, -1});
  CHECK((base->forward(ids) - model->forward(ids)).abs().max().item<double>() > 1e-4);
}

TEST_CASE("glm4voice path: infer with the three prompt styles, then eval-prosody and the judge", "[slow]") {
  const auto& b = bundle();
  test::ScratchDir dir("glm4voice-infer");
  const std::string out = dir.file("replies");
  symp_ok("--seed 7 " + infer_args(b, out) + " --split neutral --partition eval --limit 1 --all-emotions " +
          "--include-base --style base=glm4voice --adapter sympatheia=" + b.lora +
          "/adapter --adapter text=" + b.lora + "/adapter --style text=emotion-text");
  const auto replies = io::read_jsonl(out + "/responses.jsonl");
  REQUIRE(replies.size() == 3 * 12);
  const auto tok = text::GlmTokenizer::load(b.glm);
  int with_audio = 0;
  std::map<std::string, int> stops;
  for (const auto& r : replies) {
    INFO(r.dump());
    const auto system = r.at("system").get<std::string>();
    const auto emotion = r.at("emotion").get<std::string>();
    const auto prompt = r.at("prompt").get<std::string>();
    if (system == "base") {
      CHECK(r.at("prompt_style") == "glm4voice");
      CHECK(prompt == text::kGlm4VoiceSystem);
    } else if (system == "text") {
      CHECK(r.at("prompt_style") == "emotion-text");
      CHECK(prompt == "Please respond in English. The user is feeling " + emotion + ".");
    } else {
      CHECK(r.at("prompt_style") == "sympatheia");
      CHECK(prompt ==
            affect::system_prompt(affect::VA{r.at("valence").get<double>(), r.at("arousal").get<double>()}));
    }
    CHECK(r.at("setting") == "neutral");
    const auto stopped = r.at("stopped").get<std::string>();
    ++stops[stopped];
    if (stopped == "max_new_tokens") {
      CHECK(r.at("stop_token").is_null());
      CHECK(r.at("text_tokens").get<int>() + r.at("audio_tokens").get<int>() == 40);
    } else {
      const auto token = r.at("stop_token").get<std::string>();
      CHECK((token == "<|user|>" || token == "<|observation|>" || token == "<|endoftext|>"));
    }
    const int64_t audio_tokens = r.at("audio_tokens").get<int64_t>();
    if (r.at("response_audio").is_null()) {
      CHECK(audio_tokens == 0);
      continue;
    }
    ++with_audio;
    const auto info = io::probe_audio(out + "/" + r.at("response_audio").get<std::string>());
    CHECK(info.sample_rate == 22050);
    CHECK(info.frames == decoded_samples(audio_tokens));
  }
  CHECK(with_audio >= 30);
  // --stream: the same reply (same seed, same tokens) through the streaming decoder.
  symp_ok("--seed 7 " + infer_args(b, dir.file("stream")) + " --split neutral --partition eval --limit 1 " +
          "--emotion happy --adapter sympatheia=" + b.lora + "/adapter --stream");
  const auto streamed = io::read_jsonl(dir.file("stream") + "/responses.jsonl").at(0);
  const auto offline = *std::find_if(replies.begin(), replies.end(),
                                     [&](const io::Json& r) { return r.at("key") == streamed.at("key"); });
  CHECK(streamed.at("audio_tokens") == offline.at("audio_tokens"));
  CHECK(streamed.at("response_text") == offline.at("response_text"));
  if (!streamed.at("response_audio").is_null()) {
    CHECK(streamed.at("first_audio_seconds").get<double>() > 0);
    const auto info =
        io::probe_audio(dir.file("stream") + "/" + streamed.at("response_audio").get<std::string>());
    // Within one mel frame of the offline decode (GLM-4-Voice's chunking drops one frame per later chunk).
    CHECK(std::abs(info.frames - decoded_samples(streamed.at("audio_tokens").get<int64_t>())) <= 256);
  }

  // The base model's prompt is GLM-4-Voice's own chat format.
  const auto prompt = text::build_prompt(text::PromptStyle::Glm4Voice, std::nullopt, "", {3, 4}, tok);
  CHECK(prompt.text == std::string("<|system|>\n") + text::kGlm4VoiceSystem +
                           "<|user|>\n<|begin_of_audio|><|audio_3|><|audio_4|><|end_of_audio|><|assistant|>"
                           "streaming_transcription\n");
  CHECK(prompt.ids.front() == tok.special_id("[gMASK]"));

  // eval-prosody measures every reply; those without audio or under its 0.25 s minimum are its failures
  // (exit 1 when there are any).
  int unmeasurable = 0;
  for (const auto& r : replies)
    unmeasurable += r.at("response_audio").is_null() || r.at("response_duration").get<double>() < 0.25;
  const auto prosody = test::run_symp("eval-prosody --manifest " + out + "/responses.jsonl --out " +
                                      dir.file("prosody") + " --no-plots");
  INFO(prosody.err);
  CHECK(prosody.exit_code == (unmeasurable > 0 ? 1 : 0));
  CHECK_THAT(prosody.err,
             Catch::Contains(std::to_string(replies.size() - unmeasurable) + " responses measured, " +
                             std::to_string(unmeasurable) + " failed"));
  const auto features = read_text(dir.file("prosody") + "/features.csv");
  CHECK(std::count(features.begin(), features.end(), '\n') == int(replies.size()) + 1);
  symp_ok("judge --responses " + out + "/responses.jsonl --proxy-corpus " + b.corpus +
          "/manifest.jsonl --out " + dir.file("judge"));
  // One proxy item per reply, judged in the neutral setting against the reply's target emotion, scores on
  // the 1-5 scale where the reply has text.
  const auto items = io::read_jsonl(dir.file("judge") + "/proxy_items.jsonl");
  REQUIRE(items.size() == replies.size());
  std::map<std::string, std::string> target;
  for (const auto& r : replies) target[r.at("id").get<std::string>()] = r.at("emotion").get<std::string>();
  for (const auto& item : items) {
    CHECK(item.at("setting") == "neutral");
    CHECK(item.at("emotion") == target.at(item.at("id").get<std::string>()));
    if (!item.at("score").is_null())
      CHECK((item.at("score").get<double>() >= 1 && item.at("score").get<double>() <= 5));
  }
}

TEST_CASE("glm4voice path: the Emotional setting keeps the query's emotion and the judge scores against it",
          "[slow]") {
  const auto& b = bundle();
  test::ScratchDir dir("glm4voice-emotional");
  const std::string out = dir.file("replies");
  symp_ok("--seed 7 " + infer_args(b, out) +
          " --split emotional --prompt-style plain --none --adapter lora=" + b.lora + "/adapter");
  const auto replies = io::read_jsonl(out + "/responses.jsonl");
  std::map<std::string, std::string> emotion_of;
  for (const auto& m : io::read_jsonl(b.corpus + "/manifest.jsonl"))
    if (m.at("split") == "emotional") emotion_of[m.at("query_id").get<std::string>()] = m.at("emotion");
  REQUIRE(replies.size() == emotion_of.size());
  for (const auto& r : replies) {
    CHECK(r.at("setting") == "emotional");
    CHECK(r.at("prompt") == "Please respond in English.");
    CHECK(r.at("prompt_style") == "plain");
    CHECK(r.at("query_emotion") == emotion_of.at(r.at("query_id").get<std::string>()));
    CHECK(r.at("condition") == "NA");
  }
  // The judge reads query_emotion as what to judge against (a record without it and without a condition
  // would be refused).
  const auto responses = judge::read_responses({out + "/responses.jsonl"}, judge::Setting::Neutral);
  for (size_t i = 0; i < responses.size(); ++i) {
    CHECK(responses[i].setting == judge::Setting::Emotional);
    CHECK(responses[i].emotion == replies[i].at("query_emotion").get<std::string>());
  }
  symp_ok("judge --responses " + out + "/responses.jsonl --proxy-corpus " + b.corpus +
          "/manifest.jsonl --out " + dir.file("judge"));
  const auto items = io::read_jsonl(dir.file("judge") + "/proxy_items.jsonl");
  REQUIRE(items.size() == replies.size());
  for (size_t i = 0; i < items.size(); ++i) {
    CHECK(items[i].at("setting") == "emotional");
    CHECK(items[i].at("emotion") == replies[i].at("query_emotion"));
  }

  // The CommonEval setting: spoken questions from a folder, no condition, recorded for the judge.
  const std::string common = dir.file("commoneval");
  symp_ok("--seed 7 infer --codec glm4voice --model " + b.glm + " --tokenizer " + b.glm +
          " --codec-encoder " + b.tokenizer + " --codec-decoder " + b.decoder + " --audio " + fixtures_dir() +
          "/whisper_vq/u1.wav --max-new-tokens 20 --prompt-style plain --none --setting commoneval --out " +
          common);
  const auto asked = io::read_jsonl(common + "/responses.jsonl");
  REQUIRE(asked.size() == 1);
  CHECK(asked[0].at("setting") == "commoneval");
  CHECK(asked[0].at("prompt") == "Please respond in English.");
  const auto judged = judge::read_responses({common + "/responses.jsonl"}, judge::Setting::Neutral);
  CHECK(judged.at(0).setting == judge::Setting::CommonEval);
  CHECK(judged.at(0).emotion.empty());
}

TEST_CASE("glm4voice path: bad bundles fail with one line naming the file and the cause", "[slow]") {
  const auto& b = bundle();
  test::ScratchDir dir("glm4voice-bad");
  // A text tokenizer without audio tokens.
  const std::string no_audio = dir.file("no-audio");
  test::glm4voice::write_text_tokenizer(no_audio, 0);
  auto r = test::run_symp("tokenize encode --codec glm4voice --corpus " + b.corpus + " --speech-tokenizer " +
                          b.tokenizer + " --text-tokenizer " + no_audio + " --out " + dir.file("e1"));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err,
             Catch::Contains(no_audio + "/tokenizer_config.json") && Catch::Contains("no <|audio_N|>"));
  // A speech tokenizer whose codebook (256) exceeds the text tokenizer's audio tokens (100).
  const std::string few = dir.file("few-audio");
  test::glm4voice::write_text_tokenizer(few, 100);
  r = test::run_symp("tokenize encode --codec glm4voice --corpus " + b.corpus + " --speech-tokenizer " +
                     b.tokenizer + " --text-tokenizer " + few + " --out " + dir.file("e2"));
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("256 codes") && Catch::Contains("only 100 audio tokens"));
  CHECK_FALSE(fs::exists(dir.file("e2") + "/encoded_train.jsonl"));
  // A model whose vocabulary does not cover the tokenizer's.
  const std::string small = dir.file("small-model");
  fs::create_directories(small);
  for (const char* f : {"tokenizer.model", "tokenizer_config.json"})
    fs::copy_file(b.glm + "/" + f, small + "/" + f);
  auto config = io::read_json(b.glm + "/config.json");
  config["padded_vocab_size"] = 300;
  io::write_json_atomic(small + "/config.json", config);
  {
    nn::GlmModel model(nn::GlmConfig::load(small));
    model->init_weights(1);
    nn::save_glm(*model, small);
  }
  r = test::run_symp(infer_args(b, dir.file("e3"))
                         .replace(infer_args(b, dir.file("e3")).find(" --model " + b.glm),
                                  (" --model " + b.glm).size(), " --model " + small) +
                     " --limit 1");
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains(small) && Catch::Contains("(300) is smaller than the tokenizer's (" +
                                                              std::to_string(b.vocab) + ")"));
  CHECK_FALSE(fs::exists(dir.file("e3") + "/base"));
  // A record whose WAV is missing: named with its manifest line, nothing written.
  const std::string corpus = dir.file("corpus");
  fs::create_directories(corpus);
  auto manifest = io::read_jsonl(b.corpus + "/manifest.jsonl");
  for (auto& m : manifest)
    for (const char* f : {"query_audio", "response_audio"}) m[f] = b.corpus + "/" + m[f].get<std::string>();
  manifest[3]["response_audio"] = corpus + "/gone.wav";
  io::write_jsonl_atomic(corpus + "/manifest.jsonl", manifest);
  const std::string encode = "tokenize encode --codec glm4voice --corpus " + corpus + " --speech-tokenizer " +
                             b.tokenizer + " --text-tokenizer " + b.glm + " --out " + dir.file("e4");
  // Absolute paths into another folder: refused unless the user lets them through.
  r = test::run_symp(encode);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("manifest.jsonl:1") && Catch::Contains("field 'query_audio'") &&
                        Catch::Contains("leaves the folder") && Catch::Contains("--allow-outside-paths"));
  r = test::run_symp("--allow-outside-paths " + encode);
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("manifest.jsonl:4") && Catch::Contains("gone.wav") &&
                        Catch::Contains("no such file"));
  CHECK_FALSE(fs::exists(dir.file("e4") + "/encoded_train.jsonl"));
}
