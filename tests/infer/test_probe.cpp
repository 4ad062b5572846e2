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
  SYMP_SKIP_UNDER_SANITIZERS_IF_SENTENCEPIECE();
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
