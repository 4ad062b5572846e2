// symp probe: each reference reply scored under the 12 anchors' prompts. The loss under the record's own
// anchor (the record rebuilt by the probe, which must give back the encoded ids) is checked against
// `symp logits` (parity-tested against transformers) with a log-softmax computed here; predictions,
// margins and the summary against the items.
#include <catch2/catch.hpp>

#include <cmath>

#include "infer_fixture.h"
#include "symp/core/fs.h"
#include "symp/io/safetensors.h"

namespace fs = std::filesystem;
using symp::io::Json;
using symp::test::infer::symp_ok;
using symp::test::infer::tiny_pipeline;

namespace {

// Mean NLL of ids[start:] from `symp logits` over ids, log-softmax computed here in double precision.
double nll_from_logits(const symp::test::ScratchDir& dir, const std::string& model,
                       const std::string& adapter, const std::vector<int64_t>& ids, int64_t start) {
  std::string list;
  for (size_t i = 0; i < ids.size(); ++i) list += (i ? "," : "") + std::to_string(ids[i]);
  const std::string out = dir.file("logits.safetensors");
  symp_ok("logits --model " + model + (adapter.empty() ? "" : " --adapter " + adapter) + " --ids " + list +
          " --out " + out);
  const auto file = symp::io::SafetensorsFile::open(out);
  const auto& view = file.get("logits");
  const auto values = view.to_f32();
  const int64_t vocab = view.shape.at(1);
  double total = 0;
  for (int64_t t = start; t < static_cast<int64_t>(ids.size()); ++t) {
    const float* row = values.data() + (t - 1) * vocab;
    double mx = -INFINITY, sum = 0;
    for (int64_t v = 0; v < vocab; ++v) mx = std::max(mx, double(row[v]));
    for (int64_t v = 0; v < vocab; ++v) sum += std::exp(double(row[v]) - mx);
    total += -(double(row[ids[t]]) - mx - std::log(sum));
  }
  return total / double(ids.size() - start);
}

}  // namespace

TEST_CASE("probe: reply losses under each anchor match symp logits, and the summary follows the items",
          "[slow]") {
  const auto& p = tiny_pipeline();
  symp::test::ScratchDir dir("probe");
  const std::string encoded = (p.dir / "enc" / "encoded_eval.jsonl").string();
  symp_ok("probe --model " + p.model + " --include-base --adapter lora=" + p.adapter + " --tokenizer " +
          p.tokenizer + " --encoded " + encoded + " --split '' --limit 2 --out " + dir.file("out"));
  const auto items = symp::io::read_jsonl(dir.file("out/probe_items.jsonl"));
  const Json summary = symp::io::read_json(dir.file("out/probe_summary.json"));
  REQUIRE(items.size() == 4);  // 2 records x 2 systems
  REQUIRE(summary.at("systems").size() == 2);

  // The first record under its own anchor: the encoded ids as they are.
  const auto records = symp::io::read_jsonl(encoded);
  const Json* first = nullptr;
  for (const auto& r : records)
    if (r.at("id") == items[0].at("id")) first = &r;
  REQUIRE(first != nullptr);
  const auto ids = first->at("input_ids").get<std::vector<int64_t>>();
  const int64_t start = first->at("assistant_start");
  const std::string emotion = first->at("emotion");
  for (const auto& item : items) {
    if (item.at("id") != first->at("id")) continue;
    const bool base = item.at("system") == "base";
    INFO(item.at("system"));
    CHECK(item.at("nll").at(emotion).get<double>() ==
          Approx(nll_from_logits(dir, p.model, base ? "" : p.adapter, ids, start)).epsilon(1e-4));
  }
  // Every item: prediction = the lowest loss, margin = best other - own.
  for (const auto& item : items) {
    std::string best;
    double best_nll = INFINITY, other = INFINITY;
    for (const auto& [name, v] : item.at("nll").items()) {
      if (v.get<double>() < best_nll) best = name, best_nll = v.get<double>();
      if (name != item.at("emotion")) other = std::min(other, v.get<double>());
    }
    CHECK(item.at("nll").size() == 12);
    CHECK(item.at("predicted") == best);
    size_t rank = 1;
    for (const auto& [name, v] : item.at("nll").items())
      rank += v.get<double>() < item.at("nll").at(item.at("emotion").get<std::string>()).get<double>();
    CHECK(item.at("rank") == rank);
    CHECK(item.at("margin_nats").get<double>() ==
          Approx(other - item.at("nll").at(item.at("emotion").get<std::string>()).get<double>()));
  }
  for (const auto& s : summary.at("systems")) {
    double right = 0, margin = 0, ranks = 0;
    for (const auto& item : items) {
      if (item.at("system") != s.at("system")) continue;
      right += item.at("predicted") == item.at("emotion");
      margin += item.at("margin_nats").get<double>();
      ranks += item.at("rank").get<double>();
    }
    CHECK(s.at("accuracy").get<double>() == Approx(right / 2));
    CHECK(s.at("mean_rank").get<double>() == Approx(ranks / 2));
    CHECK(s.at("margin_nats").get<double>() == Approx(margin / 2));
    CHECK(s.at("margin_nats_ci95")[0].get<double>() <= s.at("margin_nats_ci95")[1].get<double>());
  }
  // Records encoded with another tokenizer are refused, naming the record.
  const auto bad =
      symp::test::run_symp("probe --model " + p.model + " --tokenizer " + p.tokenizer + " --encoded " +
                           dir.file("out/probe_items.jsonl") + " --split '' --out " + dir.file("bad"));
  CHECK(bad.exit_code == 1);
  CHECK_THAT(bad.err, Catch::Contains("probe_items.jsonl:1"));
}

// Issue 17's check of the probe itself: on a toy corpus (the tiny pipeline's 24 neutral-split records, 2
// queries x 12 target emotions, whose replies differ by target emotion), a model trained with the VA
// condition in its prompt ranks each reply's own anchor first; the same model trained on the same records
// with "User emotion N/A" cannot, since nothing in its prompt ever told the replies apart.
TEST_CASE("probe: separates a model trained with the condition from one trained without it", "[slow]") {
  const auto& p = tiny_pipeline();
  symp::test::ScratchDir dir("probe-toy");
  symp_ok("--seed 3 tokenize encode --corpus " + p.corpus + " --model " + p.tokenizer + " --out " +
          dir.file("enc_none") + " --condition-mode none");
  // Both partitions' neutral-split records: the toy asks whether the probe sees what a model learned.
  auto neutral = [&](const std::string& folder) {
    std::vector<Json> out;
    for (const char* part : {"encoded_train.jsonl", "encoded_eval.jsonl"})
      for (auto& r : symp::io::read_jsonl((fs::path(folder) / part).string()))
        if (r.at("split") == "neutral") out.push_back(std::move(r));
    return out;
  };
  const auto with = neutral((p.dir / "enc").string()), without = neutral(dir.file("enc_none"));
  REQUIRE(with.size() == 24);
  REQUIRE(without.size() == 24);
  for (const auto& r : without)
    REQUIRE_THAT(r.at("text").get<std::string>(), Catch::Contains("User emotion N/A"));
  symp::io::write_jsonl_atomic(dir.file("with.jsonl"), with);
  symp::io::write_jsonl_atomic(dir.file("without.jsonl"), without);

  const std::string config = (p.dir / "base_config.json").string();
  const std::string train =
      " --full --assistant-only --epochs 40 --batch-size 8 --grad-accum 1 --lr 1e-2 --warmup-steps 5 "
      "--save-every 100000 --eval-every 100000";
  symp_ok("--seed 5 train-lora --init " + config + " --train " + dir.file("with.jsonl") + " --out " +
          dir.file("m_with") + train);
  symp_ok("--seed 5 train-lora --init " + config + " --train " + dir.file("without.jsonl") + " --out " +
          dir.file("m_without") + train);
  auto accuracy = [&](const std::string& model) {
    const std::string out = dir.file("probe_" + fs::path(model).parent_path().filename().string());
    symp_ok("probe --model " + model + " --tokenizer " + p.tokenizer + " --encoded " +
            dir.file("with.jsonl") + " --out " + out);
    const Json s = symp::io::read_json(out + "/probe_summary.json").at("systems").at(0);
    CHECK(s.at("n") == 24);
    return s.at("accuracy").get<double>();
  };
  const double conditioned = accuracy(dir.file("m_with/model"));
  const double unconditioned = accuracy(dir.file("m_without/model"));
  INFO("probe accuracy with the condition " << conditioned << ", without " << unconditioned);
  CHECK(conditioned >= 0.75);
  // Chance is 1/12: 8 or more right of 24 by chance has probability below 1e-3.
  CHECK(unconditioned <= 0.3);
}
