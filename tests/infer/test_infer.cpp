// `symp infer` end to end on a tiny trained model (infer_fixture.h): reply WAVs as long as their audio
// tokens, the noisy VA condition in the prompt, --all-emotions, bad inputs, other sample rates, resuming.
// The model is near random: sampling at temperature 1 makes most generated ids audio codes.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "infer_fixture.h"
#include "symp/affect/affect.h"
#include "symp/codec/embedded_codec.h"
#include "symp/infer/engine.h"
#include "symp/io/audio.h"
#include "symp/io/jsonl.h"

namespace {

namespace fs = std::filesystem;
using symp::io::Json;
using symp::test::RunResult;
using symp::test::ScratchDir;
using symp::test::infer::by_key;
using symp::test::infer::read_text;
using symp::test::infer::symp_ok;
using symp::test::infer::tiny_pipeline;
using symp::test::infer::without_timing;

// `symp --seed SEED infer` on the tiny pipeline with sampling that mostly yields audio codes.
std::string infer_args(const std::string& args, int seed = 42, int max_new_tokens = 4) {
  const auto& p = tiny_pipeline();
  return "--seed " + std::to_string(seed) + " infer --model " + p.model + " --tokenizer " + p.tokenizer +
         " --temperature 1 --top-p 1 --max-new-tokens " + std::to_string(max_new_tokens) + " " + args;
}

// The input id infer gives the pipeline's neutral query `i`: its file stem.
std::string query_id(int i) {
  return fs::path(tiny_pipeline().queries.at(i)).stem().string();
}

// Lines of <out>/responses.jsonl (0 when there is none).
size_t reply_count(const fs::path& out) {
  return fs::exists(out / "responses.jsonl") ? symp::io::read_jsonl((out / "responses.jsonl").string()).size()
                                             : 0;
}

std::string lora_systems() {
  return "--include-base --adapter lora=" + tiny_pipeline().adapter;
}

std::vector<Json> responses(const fs::path& out) {
  return symp::io::read_jsonl((out / "responses.jsonl").string());
}

const symp::affect::AnchorSet& anchors() {
  static const auto set = symp::affect::AnchorSet::load(SYMP_SOURCE_DIR "/data/affect/anchors.json");
  return set;
}

// The system prompt for a VA point, written independently of the library (printf's %.2f rounds like
// Python's f"{x:.2f}", which the reference uses).
std::string expected_prompt(double valence, double arousal) {
  char buf[128];
  std::snprintf(buf, sizeof(buf), "Please respond in English. User emotion (valence=%.2f, arousal=%.2f)",
                valence, arousal);
  return buf;
}

}  // namespace

TEST_CASE("infer: reply WAVs last exactly as long as their audio tokens", "[infer]") {
  const auto& p = tiny_pipeline();
  ScratchDir out("infer-duration"), again("infer-duration-again");
  const auto args = lora_systems() + " --emotion happy --audio " + p.queries[0] + " " + p.queries[1];
  const auto run = symp_ok(infer_args(args + " --out " + out.path().string(), 42, 24));
  CHECK_THAT(run.out, Catch::StartsWith("4 replies"));

  const auto codec = symp::codec::EmbeddedCodecModel::load(p.tokenizer + "/codec.json").config;
  REQUIRE(codec.token_hop() == 1280);  // 8 hops of 160 samples = 80 ms at 16 kHz
  const auto records = responses(out.path());
  REQUIRE(records.size() == 4);
  int with_audio = 0;
  double total_seconds = 0;
  for (const auto& r : records) {
    INFO(r.dump());
    const auto audio_tokens = r.at("audio_tokens").get<int64_t>();
    const auto text_tokens = r.at("text_tokens").get<int64_t>();
    // Every generated id is either text or audio; without <|user|> generation stops at the limit.
    if (r.at("stopped") == "max_new_tokens") CHECK(audio_tokens + text_tokens == 24);
    if (r.at("stopped") == "user") CHECK(audio_tokens + text_tokens < 24);
    CHECK(r.at("response_audio").is_null() == (audio_tokens == 0));
    if (audio_tokens == 0) continue;
    ++with_audio;
    const auto info =
        symp::io::probe_audio((out.path() / r.at("response_audio").get<std::string>()).string());
    CHECK(info.sample_rate == codec.sample_rate);
    CHECK(info.channels == 1);
    CHECK(info.frames == audio_tokens * codec.token_hop());  // exact: the decoder writes 80 ms per token
    const double seconds = double(audio_tokens * codec.token_hop()) / codec.sample_rate;
    CHECK(r.at("response_duration").get<double>() == Approx(seconds).margin(1e-9));
    CHECK(info.duration() == Approx(seconds).margin(1e-9));
    total_seconds += seconds;
  }
  CHECK(with_audio >= 3);
  const auto summary = symp::io::read_json((out.path() / "summary.json").string());
  CHECK(summary.at("audio_seconds").get<double>() == Approx(total_seconds).margin(1e-9));

  // The same command again: the same replies, token for token and sample for sample.
  symp_ok(infer_args(args + " --out " + again.path().string(), 42, 24));
  const auto repeat = responses(again.path());
  REQUIRE(repeat.size() == records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    CHECK(without_timing(repeat[i]) == without_timing(records[i]));
    if (records[i].at("response_audio").is_string()) {
      const auto wav = records[i].at("response_audio").get<std::string>();
      CHECK(read_text(again.path() / wav) == read_text(out.path() / wav));
    }
  }
}

TEST_CASE("infer: the prompt carries the clamped noisy VA that responses.jsonl records", "[infer]") {
  const auto& p = tiny_pipeline();
  ScratchDir a("infer-noise-a"), b("infer-noise-b"), c("infer-noise-c"), d("infer-noise-d");
  const double sigma = 0.5;
  const std::string noise = " --va-noise 0.5 --audio " + p.queries[0];
  symp_ok(infer_args(lora_systems() + " --all-emotions" + noise + " --out " + a.path().string(), 7));
  const auto noisy = by_key(responses(a.path()));
  REQUIRE(noisy.size() == 24);
  int moved = 0, clamped = 0;
  for (const auto& [key, r] : noisy) {
    INFO(r.dump());
    const auto& anchor = anchors().find(r.at("emotion").get<std::string>());
    CHECK(r.at("requested_valence").get<double>() == anchor.va.valence);
    CHECK(r.at("requested_arousal").get<double>() == anchor.va.arousal);
    const double v = r.at("valence").get<double>(), ar = r.at("arousal").get<double>();
    CHECK(v >= -1.0);
    CHECK(v <= 1.0);
    CHECK(ar >= -1.0);
    CHECK(ar <= 1.0);
    CHECK(std::abs(v - anchor.va.valence) <= 5 * sigma);
    CHECK(std::abs(ar - anchor.va.arousal) <= 5 * sigma);
    // The prompt the model saw states the VA after noise, and the file name says the same.
    CHECK(r.at("prompt").get<std::string>() == expected_prompt(v, ar));
    char tag[64];
    std::snprintf(tag, sizeof(tag), "__v%+.2f_a%+.2f.wav", v, ar);
    if (r.at("response_audio").is_string())
      CHECK_THAT(r.at("response_audio").get<std::string>(), Catch::EndsWith(tag));
    moved += (v != anchor.va.valence) + (ar != anchor.va.arousal);
    clamped += (std::abs(v) == 1.0) + (std::abs(ar) == 1.0);
    // Every system answers the same noisy condition.
    const auto bar = key.find('|');
    const auto& other = noisy.at((key.substr(0, bar) == "base" ? "lora" : "base") + key.substr(bar));
    CHECK(other.at("valence") == r.at("valence"));
    CHECK(other.at("arousal") == r.at("arousal"));
  }
  CHECK(moved == 48);
  CHECK(clamped > 0);  // with sigma 0.5 several anchors near the edge go past +-1

  // The same seed draws the same noise for a reply whatever else runs in the call.
  symp_ok(infer_args("--emotion SAD" + noise + " --out " + b.path().string(), 7));
  const auto sad = responses(b.path());
  REQUIRE(sad.size() == 1);
  const auto& sad_before = noisy.at("base|" + query_id(0) + "|sad");
  CHECK(sad[0].at("valence") == sad_before.at("valence"));
  CHECK(sad[0].at("arousal") == sad_before.at("arousal"));
  CHECK(sad[0].at("prompt") == sad_before.at("prompt"));

  // Another seed, other noise for every condition: two draws can only agree where both were clamped.
  symp_ok(infer_args("--all-emotions" + noise + " --out " + c.path().string(), 8));
  for (const auto& [key, r] : by_key(responses(c.path()))) {
    for (const char* field : {"valence", "arousal"}) {
      INFO(key << " " << field);
      const double now = r.at(field).get<double>(), before = noisy.at(key).at(field).get<double>();
      if (std::abs(now) < 1.0 || std::abs(before) < 1.0) CHECK(now != before);
    }
  }

  // Without noise the prompt holds the anchor itself.
  symp_ok(infer_args("--emotion excited --audio " + p.queries[0] + " --out " + d.path().string(), 7));
  const auto plain = responses(d.path());
  REQUIRE(plain.size() == 1);
  CHECK(plain[0].at("valence").get<double>() == 0.75);
  CHECK(plain[0].at("arousal").get<double>() == 0.90);
  CHECK(plain[0].at("prompt") == "Please respond in English. User emotion (valence=0.75, arousal=0.90)");
}

TEST_CASE("infer: --all-emotions answers each input once per anchor", "[infer]") {
  const auto& p = tiny_pipeline();
  ScratchDir out("infer-all-emotions");
  const auto run = symp_ok(infer_args(lora_systems() + " --all-emotions --manifest " + p.corpus +
                                      "/manifest.jsonl --split neutral --out " + out.path().string()));
  CHECK_THAT(run.out, Catch::StartsWith("48 replies"));  // 2 neutral queries x 12 anchors x 2 systems
  const auto records = responses(out.path());
  REQUIRE(records.size() == 48);
  std::set<std::string> anchor_names;
  for (const auto& a : anchors().all()) anchor_names.insert(a.name);
  REQUIRE(anchor_names.size() == 12);
  std::map<std::string, std::set<std::string>> conditions;  // system|query -> conditions
  std::set<std::string> ids, wavs;
  for (const auto& r : records) {
    INFO(r.dump());
    CHECK(r.at("condition") == r.at("emotion"));
    CHECK(r.at("condition_source") == "emotion");
    CHECK_FALSE(r.at("query_text").get<std::string>().empty());  // from the manifest
    conditions[r.at("system").get<std::string>() + "|" + r.at("query_id").get<std::string>()].insert(
        r.at("condition").get<std::string>());
    ids.insert(r.at("id").get<std::string>());
    if (r.at("response_audio").is_string()) {
      CHECK(wavs.insert(r.at("response_audio").get<std::string>()).second);
      CHECK(fs::exists(out.path() / r.at("response_audio").get<std::string>()));
    }
  }
  CHECK(ids.size() == 48);
  REQUIRE(conditions.size() == 4);
  for (const auto& [system_query, names] : conditions) {
    INFO(system_query);
    CHECK(names == anchor_names);
  }
}

TEST_CASE("infer: --cues answers each query once per sensor cue and once without", "[infer]") {
  const auto& p = tiny_pipeline();
  ScratchDir out("infer-cues");
  // Query 0: a face cue and a text cue of a happy user; query 1: one face cue of a sad user.
  const std::string cues = out.file("cues.jsonl");
  symp::io::write_jsonl_atomic(cues, {{{"query_id", query_id(0)},
                                       {"modality", "face"},
                                       {"taxonomy", "affectnet"},
                                       {"probs", {{"happy", 0.7}, {"surprise", 0.2}, {"neutral", 0.1}}},
                                       {"emotion", "happy"}},
                                      {{"query_id", query_id(0)},
                                       {"modality", "text"},
                                       {"taxonomy", "isear"},
                                       {"probs", {{"joy", 1.0}}},
                                       {"emotion", "happy"}},
                                      {{"query_id", query_id(1)},
                                       {"modality", "face"},
                                       {"taxonomy", "affectnet"},
                                       {"probs", {{"sad", 0.9}, {"neutral", 0.1}}},
                                       {"emotion", "sad"}}});
  symp_ok(infer_args("--include-base --audio " + p.queries.at(0) + " " + p.queries.at(1) + " --cues " + cues +
                     " --out " + out.file("replies")));
  const auto records = responses(out.file("replies"));
  REQUIRE(records.size() == 5);  // (2 cues + none) + (1 cue + none), one system
  std::map<std::string, Json> by_condition;
  for (const auto& r : records)
    by_condition[r.at("query_id").get<std::string>() + "|" + r.at("condition").get<std::string>()] = r;
  // The cue's VA is what `symp affect` gives for the same taxonomy and probabilities (labels in the
  // order infer reads them from the JSON object, alphabetical: the sum is then the same to the last bit).
  const auto face =
      Json::parse(symp_ok("affect --taxonomy affectnet --probs happy=0.7,neutral=0.1,surprise=0.2").out);
  const auto& r0 = by_condition.at(query_id(0) + "|cue_face");
  CHECK(r0.at("valence").get<double>() == Approx(face.at("valence").get<double>()));
  CHECK(r0.at("arousal").get<double>() == Approx(face.at("arousal").get<double>()));
  CHECK(r0.at("prompt") == face.at("prompt"));
  CHECK(r0.at("cue_modality") == "face");
  CHECK(r0.at("emotion") == "happy");
  CHECK(by_condition.at(query_id(0) + "|cue_text").at("cue_modality") == "text");
  const auto& none0 = by_condition.at(query_id(0) + "|NA");
  CHECK(none0.at("prompt") == "Please respond in English. User emotion N/A");
  CHECK(none0.at("emotion") == "happy");  // judged by what the sensor observed
  CHECK(none0.at("cue_modality").is_null());
  CHECK(by_condition.at(query_id(1) + "|NA").at("emotion") == "sad");
  CHECK(by_condition.count(query_id(1) + "|cue_text") == 0);
  // Cues with another condition option, and a cue naming an unknown emotion, are refused.
  CHECK(symp::test::run_symp(infer_args("--audio " + p.queries.at(0) + " --cues " + cues +
                                        " --emotion happy --out " + out.file("x")))
            .exit_code == 2);
  symp::io::write_jsonl_atomic(out.file("bad.jsonl"), {{{"query_id", query_id(0)},
                                                        {"modality", "face"},
                                                        {"taxonomy", "affectnet"},
                                                        {"probs", {{"happy", 1.0}}},
                                                        {"emotion", "elated"}}});
  const auto bad = symp::test::run_symp(infer_args("--audio " + p.queries.at(0) + " --cues " +
                                                   out.file("bad.jsonl") + " --out " + out.file("y")));
  CHECK(bad.exit_code != 0);
  CHECK_THAT(bad.err, Catch::Contains("bad.jsonl:1") && Catch::Contains("elated"));
}

TEST_CASE("infer: bad inputs fail with a clear message and a non-zero exit", "[infer]") {
  const auto& p = tiny_pipeline();
  ScratchDir out("infer-bad");
  const auto query = " --audio " + p.queries[0] + " --out " + out.path().string();
  auto fails = [&](const std::string& args, int code, const std::string& message,
                   const std::string& also = "") {
    const RunResult r = symp::test::run_symp(infer_args(args + query));
    INFO("infer " << args << "\n" << r.err);
    CHECK(r.exit_code == code);
    CHECK_THAT(r.err, Catch::Contains(message) && Catch::Contains(also));
    CHECK(reply_count(out.path()) == 0);  // refused before any reply
  };
  // An adapter trained for another base (hidden 64, not 32): the adapter and the tensor that does not fit.
  fails("--emotion happy --adapter other=" + symp::test::fixtures_dir() + "/lora_chatglm", 1, "lora_chatglm",
        "query_key_value.lora_A.weight' [4, 64]");
  // A model whose vocabulary is not the tokenizer's.
  const RunResult small =
      symp::test::run_symp("infer --model " + symp::test::fixtures_dir() + "/glm_chatglm --tokenizer " +
                           p.tokenizer + " --emotion happy" + query);
  CHECK(small.exit_code == 1);
  CHECK_THAT(small.err, Catch::Contains("do not belong together"));
  CHECK(reply_count(out.path()) == 0);
  // Conditions: an unknown emotion (alone or in --interpolate), --t outside [0, 1].
  fails("--emotion hapy", 2, "--emotion: unknown emotion 'hapy' (known: happy, excited");
  fails("--interpolate happy,sadd --t 0.5", 2, "unknown emotion 'sadd'");
  fails("--interpolate happy,sad --t 1.5", 2, "--t: must be in [0, 1]");
  fails("--interpolate happy,sad --t -0.25", 2, "--t: must be in [0, 1]");
  fails("--interpolate happy,sad --t-sweep 0.5,1.2", 2, "--t-sweep: 1.2 is outside [0, 1]");
  fails("--emotion happy --va 0.1,0.2", 2, "give one condition");
  fails("--emotion happy --va-noise -0.1", 2, "--va-noise");
  fails("--emotion happy --top-p 0", 2, "--top-p");
  // Input audio that is not there.
  fails("--emotion happy --audio " + out.file("missing.wav"), 1, "missing.wav");
}

TEST_CASE("infer: input at another sample rate is resampled and logged", "[infer]") {
  const auto& p = tiny_pipeline();
  ScratchDir out("infer-rate");
  // The corpus query is espeak-ng's 22,050 Hz; copies at the codec's 16 kHz and at 8 kHz.
  auto query = symp::io::read_audio(p.queries[0]);
  REQUIRE(query.sample_rate == 22050);
  symp::io::write_wav(out.file("q16k.wav"), {symp::io::resample(query.samples, 22050, 16000), 16000});
  symp::io::write_wav(out.file("q8k.wav"), {symp::io::resample(query.samples, 22050, 8000), 8000});
  const auto run = symp_ok(infer_args("--emotion happy --audio " + p.queries[0] + " " + out.file("q16k.wav") +
                                      " " + out.file("q8k.wav") + " --out " + out.file("replies")));
  CHECK_THAT(run.err, Catch::Contains(query_id(0) + ".wav: resampling 22050 Hz to the codec's 16000 Hz"));
  CHECK_THAT(run.err, Catch::Contains("q8k.wav: resampling 8000 Hz to the codec's 16000 Hz"));
  CHECK_THAT(run.err, !Catch::Contains("q16k.wav: resampling"));
  std::map<std::string, int64_t> prompt_tokens;
  for (const auto& r : responses(out.file("replies"))) {
    prompt_tokens[r.at("query_id").get<std::string>()] = r.at("prompt_tokens").get<int64_t>();
  }
  REQUIRE(prompt_tokens.size() == 3);
  // The same speech at any rate is the same number of 80 ms query tokens (within one for the edge).
  CHECK(std::abs(prompt_tokens.at("q16k") - prompt_tokens.at(query_id(0))) <= 1);
  CHECK(std::abs(prompt_tokens.at("q8k") - prompt_tokens.at(query_id(0))) <= 1);
}

TEST_CASE("infer: a rerun keeps finished replies and redoes only the missing ones", "[infer]") {
  const auto& p = tiny_pipeline();
  ScratchDir out("infer-resume");
  const auto dir = out.path().string();
  const auto query = " --audio " + p.queries[0] + " --out " + dir;
  auto first = symp_ok(infer_args("--emotion happy" + query, 42, 12));
  CHECK_THAT(first.out, Catch::StartsWith("1 replies"));
  const auto happy = responses(out.path()).at(0);

  // The same command again: nothing to do.
  auto again = symp_ok(infer_args("--emotion happy" + query, 42, 12));
  CHECK_THAT(again.out, Catch::StartsWith("0 replies"));
  CHECK(symp::io::read_json(dir + "/summary.json").at("skipped_existing") == 1);
  CHECK(responses(out.path()).size() == 1);

  // All twelve anchors in the same folder: happy is kept as it was, the other eleven are added.
  auto all = symp_ok(infer_args("--all-emotions" + query, 42, 12));
  CHECK_THAT(all.out, Catch::StartsWith("11 replies"));
  auto records = by_key(responses(out.path()));
  REQUIRE(records.size() == 12);
  CHECK(records.at("base|" + query_id(0) + "|happy") == happy);

  // A deleted WAV, a reply that held no audio, and a line torn by a crash: the first is redone (identically),
  // the second kept, the third dropped.
  const auto sad = records.at("base|" + query_id(0) + "|sad");
  REQUIRE(sad.at("response_audio").is_string());
  const auto sad_wav = out.path() / sad.at("response_audio").get<std::string>();
  const auto sad_bytes = read_text(sad_wav);
  fs::remove(sad_wav);
  auto angry = records.at("base|" + query_id(0) + "|angry");
  REQUIRE(angry.at("response_audio").is_string());
  fs::remove(out.path() / angry.at("response_audio").get<std::string>());
  angry["response_audio"] = nullptr;
  angry["audio_tokens"] = 0;
  symp::io::JsonlAppender(dir + "/responses.jsonl").append(angry);
  std::ofstream(dir + "/responses.jsonl", std::ios::app) << R"({"key": "base|" + query_id(0) + "|ti)";
  auto resumed = symp_ok(infer_args("--all-emotions" + query, 42, 12));
  CHECK_THAT(resumed.out, Catch::StartsWith("1 replies"));
  const auto after = responses(out.path());
  records = by_key(after);  // each key once: the stale sad line is gone, angry's newer line kept
  REQUIRE(after.size() == 12);
  CHECK(without_timing(records.at("base|" + query_id(0) + "|sad")) == without_timing(sad));
  CHECK(read_text(sad_wav) == sad_bytes);
  CHECK(records.at("base|" + query_id(0) + "|angry").at("response_audio").is_null());
  CHECK(records.at("base|" + query_id(0) + "|happy") == happy);
}

TEST_CASE("infer: --batch 12 gives the replies --batch 1 gives", "[infer]") {
  // Greedy decoding: each row must follow exactly the ids a lone reply takes. (Sampled rows agree too
  // except where a batched product's last-bit rounding reorders two nearly equal probabilities; on this
  // near-random model they often are, so sampling is checked for repeatability and stop bookkeeping below
  // rather than for equality.)
  const auto& p = tiny_pipeline();
  ScratchDir one("infer-batch-1"), twelve("infer-batch-12"), sampled("infer-batch-sampled"),
      again("infer-batch-sampled-again");
  const std::string base = "--seed 42 infer --model " + p.model + " --tokenizer " + p.tokenizer + " " +
                           lora_systems() + " --all-emotions --manifest " + p.corpus +
                           "/manifest.jsonl --split neutral --max-new-tokens 24";
  const std::string greedy = base + " --temperature 0";
  symp_ok(greedy + " --out " + one.path().string());
  symp_ok(greedy + " --batch 12 --out " + twelve.path().string());
  const auto a = by_key(responses(one.path())), b = by_key(responses(twelve.path()));
  REQUIRE(a.size() == 48);
  REQUIRE(b.size() == 48);
  for (const auto& [key, r] : a) {
    INFO(key);
    REQUIRE(b.count(key) == 1);
    CHECK(without_timing(r) == without_timing(b.at(key)));
    if (r.at("response_audio").is_string()) {
      const auto wa = symp::io::read_audio((one.path() / r.at("response_audio").get<std::string>()).string());
      const auto wb =
          symp::io::read_audio((twelve.path() / r.at("response_audio").get<std::string>()).string());
      CHECK(wa.samples == wb.samples);
    }
  }

  // Sampling in batches (temperature 1, top-p 0.9: a wide nucleus, so the 64-id shortcut and the full sort
  // are both used) is repeatable and gives every reply.
  const std::string sampling = base + " --temperature 1 --top-p 0.9 --batch 12";
  symp_ok(sampling + " --out " + sampled.path().string());
  symp_ok(sampling + " --out " + again.path().string());
  const auto s1 = by_key(responses(sampled.path())), s2 = by_key(responses(again.path()));
  REQUIRE(s1.size() == 48);
  REQUIRE(s2.size() == 48);
  std::set<std::string> texts;
  for (const auto& [key, r] : s1) {
    INFO(key);
    CHECK(without_timing(r) == without_timing(s2.at(key)));
    texts.insert(r.at("response_text").get<std::string>() + "|" + r.at("audio_tokens").dump());
  }
  CHECK(texts.size() > 24);  // rows draw with their own seeds, not one shared draw

  // A bad batch size, or a batch with --stream, is refused before anything runs.
  const auto bad = symp::test::run_symp(greedy + " --batch 0 --out " + (one.path() / "bad").string());
  CHECK(bad.exit_code != 0);
  CHECK_THAT(bad.err, Catch::Contains("--batch"));
  const auto stream =
      symp::test::run_symp(greedy + " --batch 2 --stream --out " + (one.path() / "bad2").string());
  CHECK(stream.exit_code != 0);
  CHECK_THAT(stream.err, Catch::Contains("--stream"));
}

TEST_CASE("infer: batched rows that end at different steps each equal their lone reply", "[infer]") {
  const auto& p = tiny_pipeline();
  symp::infer::EngineOptions eo;
  eo.model_dir = p.model;
  eo.tokenizer_dir = p.tokenizer;
  symp::infer::Engine engine(eo);
  const auto codes = engine.encode(symp::io::read_audio(p.queries.at(0)));
  std::vector<symp::infer::ReplyRequest> requests;
  for (const auto& a : anchors().all()) {
    symp::infer::ReplyRequest r;
    r.system = "base";
    r.query_codes = codes;
    r.condition = a.va;
    r.sampling.temperature = 0;
    r.sampling.max_new_tokens = 3 + static_cast<int>(requests.size()) * 2;  // 3, 5, ..., 25 ids
    requests.push_back(r);
  }
  const auto batched = engine.replies(requests);
  REQUIRE(batched.size() == requests.size());
  std::set<int64_t> lengths;
  for (size_t i = 0; i < requests.size(); ++i) {
    INFO("row " << i);
    const auto lone = engine.reply(requests[i]);
    CHECK(batched[i].text == lone.text);
    CHECK(batched[i].audio == lone.audio);
    CHECK(batched[i].prompt == lone.prompt);
    CHECK(batched[i].generated_tokens == lone.generated_tokens);
    CHECK(batched[i].stopped == lone.stopped);
    CHECK(batched[i].generated_tokens <= requests[i].sampling.max_new_tokens);
    lengths.insert(batched[i].generated_tokens);
  }
  CHECK(lengths.size() > 6);  // rows ran for different numbers of steps
  // One system per call.
  requests[1].system = "lora";
  CHECK_THROWS_WITH(engine.replies(requests), Catch::Contains("one system per call"));
}
