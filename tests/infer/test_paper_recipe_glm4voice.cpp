// recipes/paper/run.sh with STACK=glm4voice on the toy bundle in GLM-4-Voice's shipped layouts
// (glm4voice_bundle.h): the same stages as the paper's run, GLM-4-Voice's tokenizers in tokenize encode,
// LoRA on the ChatGLM checkpoint, the flow + HiFT decoder in infer, against the loopback servers of
// paper_recipe.h. ci.conf's toy scale, one noise level, a CPU-sized training config.
#include <catch2/catch.hpp>

#include <set>

#include "../paper_recipe.h"
#include "glm4voice_bundle.h"
#include "symp/io/audio.h"

namespace fs = std::filesystem;
using symp::io::Json;
using namespace symp::test::paper;

TEST_CASE("paper recipe: the glm4voice stack runs every stage on the shipped-layout toy bundle", "[slow]") {
  const auto& b = symp::test::glm4voice::bundle();
  symp::test::ScratchDir dir("paper-glm4voice");
  Servers servers(dir);
  const std::string toml = dir.file("train-toy.toml");
  symp::write_file_atomic(
      toml,
      "# train-lora-4gpu.toml's place at toy size, on the CPU\n[train-lora]\nlora-rank = 4\n"
      "max-steps = 3\nbatch-size = 4\ngrad-accum = 1\nlr = 1e-2\nwarmup-steps = 0\n"
      "eval-every = 3\nsave-every = 1000\n");
  const fs::path run = dir.path() / "run";
  const std::string args =
      "--config " SYMP_SOURCE_DIR "/recipes/paper/ci.conf" + servers.set_args() +
      "--set STACK=glm4voice --set GLM4VOICE_MODEL=" + b.glm + " --set GLM4VOICE_TOKENIZER=" + b.tokenizer +
      " --set GLM4VOICE_DECODER=" + b.decoder +
      " --set DEVICE=cpu --set DTYPE=f32 --set TRAIN_CONFIG=" + toml +
      " --set BASE_STYLE=glm4voice --set NOISE_SIGMAS=0.3 --set NOISE_REPEATS=1 " + run.string();
  const auto r = run_recipe(dir, args);
  INFO(r.log);
  REQUIRE(r.status == 0);
  for (const char* stage : {"gen-data", "tokenize", "train-lora", "probe", "infer-neutral", "judge-main"})
    CHECK(fs::exists(run / ".done" / stage));
  CHECK_FALSE(fs::exists(run / ".done" / "tokenize-fit"));  // the embedded stack's stage

  // tokenize encode ran GLM-4-Voice's tokenizers; train-lora wrote a PEFT adapter for the ChatGLM model.
  CHECK_THAT(symp::read_text_file(run / "enc/symp-config.toml"), Catch::Contains("codec=\"glm4voice\""));
  const Json adapter = symp::io::read_json((run / "lora/adapter/adapter_config.json").string());
  CHECK(adapter.at("r") == 4);

  // Each system answered in its own prompt style, with the decoder's 22,050 Hz audio.
  std::map<std::string, std::set<std::string>> styles;
  size_t with_audio = 0;
  for (const char* set : {"neutral", "text-emotion"}) {
    for (const auto& rec : symp::io::read_jsonl((run / "replies" / set / "responses.jsonl").string())) {
      styles[rec.at("system").get<std::string>()].insert(rec.at("prompt_style").get<std::string>());
      if (rec.at("response_audio").is_null()) continue;
      ++with_audio;
      if (with_audio == 1)
        CHECK(symp::io::read_audio(
                  (run / "replies" / set / rec.at("response_audio").get<std::string>()).string())
                  .sample_rate == 22050);
    }
  }
  CHECK(styles["base"] == std::set<std::string>{"glm4voice"});
  CHECK(styles["sympatheia"] == std::set<std::string>{"sympatheia"});
  CHECK(styles["text-emotion"] == std::set<std::string>{"emotion-text"});
  CHECK(with_audio > 0);

  // The tables: the judge's 4 wherever a reply could be heard, one noise level, sensing not run.
  const Json tables = symp::io::read_json((run / "report/tables.json").string());
  for (const std::string system : {"base", "sympatheia"}) {
    const Json& row = row_of(tables["headline"], "system", system);
    INFO(system);
    if (row.at("neutral_n").get<size_t>() > 0) CHECK(row.at("neutral").get<double>() == Approx(4.0));
  }
  REQUIRE(tables["noise"].at("rows").size() == 1);
  CHECK(tables["noise"]["rows"][0].at("sigma").get<double>() == Approx(0.3));
  CHECK(tables["noise"]["rows"][0].at("judge_paper").get<double>() == Approx(3.51));
  CHECK(tables["sensing"].at("status") == "missing");
  // The probe ran on GLM-4-Voice's tokenizer and the ChatGLM checkpoint: both systems, 12 anchors each.
  REQUIRE(tables["probe"].at("rows").size() == 2);
  for (const auto& item : symp::io::read_jsonl((run / "probe/probe_items.jsonl").string()))
    CHECK(item.at("nll").size() == 12);
  CHECK_THAT(symp::read_text_file(run / "report/tables.md"), Catch::Contains("Not run: judge/sensing"));
}
