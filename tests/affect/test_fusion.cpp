#include <catch2/catch.hpp>

#include <fstream>

#include "../test_util.h"
#include "symp/affect/fusion.h"
#include "symp/core/error.h"
#include "symp/core/log.h"

using namespace symp::affect;

TEST_CASE("affect: built-in taxonomies have the paper's label sets") {
  CHECK(load_taxonomy("affectnet").labels.size() == 8);
  CHECK(load_taxonomy("isear").labels.size() == 7);
  CHECK(load_taxonomy("seed7").labels.size() == 7);
  CHECK(load_taxonomy("text7").labels.size() == 7);
  auto isear = load_taxonomy("isear");
  CHECK_FALSE(isear.targets.at("shame").has_value());
  CHECK(isear.mapped_to.at("joy") == "happy");
  CHECK(load_taxonomy("affectnet").mapped_to.at("contempt") == "disgusted");
}

TEST_CASE("affect: fusion is the probability-weighted mean of anchors (hand-computed)") {
  auto isear = load_taxonomy("isear");
  // joy -> happy (0.85, 0.35), fear -> anxious (-0.40, 0.65)
  auto f = fuse(isear, {{"joy", 0.7}, {"fear", 0.3}});
  CHECK(f.va.valence == Approx(0.7 * 0.85 + 0.3 * -0.40));
  CHECK(f.va.arousal == Approx(0.7 * 0.35 + 0.3 * 0.65));
  CHECK_FALSE(f.renormalised);
  auto one = fuse(load_taxonomy("text7"), {{"anger", 1.0}});
  CHECK(one.va.valence == Approx(-0.85));
  CHECK(one.va.arousal == Approx(0.85));
}

TEST_CASE("affect: fusion renormalises with a warning, drops excluded labels, rejects bad input") {
  std::vector<std::string> warnings;
  symp::set_log_sink([&](symp::LogLevel level, std::string_view, std::string_view msg) {
    if (level == symp::LogLevel::Warn) warnings.emplace_back(msg);
  });
  auto isear = load_taxonomy("isear");
  auto f = fuse(isear, {{"joy", 1.4}, {"sadness", 0.6}});
  CHECK(f.renormalised);
  CHECK(f.va.valence == Approx(0.7 * 0.85 + 0.3 * -0.75));
  CHECK(warnings.size() == 1);
  auto g = fuse(isear, {{"joy", 0.5}, {"shame", 0.5}});
  CHECK(g.excluded == Approx(0.5));
  CHECK(g.va.valence == Approx(0.85));
  symp::set_log_sink(nullptr);
  CHECK_THROWS_WITH(fuse(isear, {{"boredom", 1.0}}), Catch::Contains("unknown label 'boredom'"));
  CHECK_THROWS_AS(fuse(isear, {{"joy", -0.1}, {"fear", 1.1}}), symp::InputError);
  CHECK_THROWS_AS(fuse(isear, {{"shame", 1.0}}), symp::InputError);
  CHECK_THROWS_AS(fuse(isear, {{"joy", NAN}}), symp::InputError);
}

TEST_CASE("affect: a user taxonomy file with explicit points") {
  symp::test::ScratchDir dir("taxonomy");
  const auto path = dir.file("mine.json");
  std::ofstream(path) << R"({"name": "mine", "labels": {"calm": "relaxed", "meh": {"valence": -0.1, "arousal": -0.2},
                           "odd": null}})";
  auto tax = load_taxonomy(path);
  CHECK(tax.name == "mine");
  auto f = fuse(tax, {{"calm", 0.5}, {"meh", 0.5}});
  CHECK(f.va.valence == Approx(0.5 * 0.25 + 0.5 * -0.1));
  std::ofstream(dir.file("bad.json")) << R"({"labels": {"x": "nonexistent"}})";
  CHECK_THROWS_WITH(load_taxonomy(dir.file("bad.json")), Catch::Contains("bad.json") && Catch::Contains("nonexistent"));
  CHECK_THROWS_AS(load_taxonomy("no-such-taxonomy"), symp::InputError);
}

TEST_CASE("affect: --probs parsing") {
  auto p = parse_probs("joy=0.7, fear=0.3");
  REQUIRE(p.size() == 2);
  CHECK(p[1].first == "fear");
  CHECK(p[1].second == Approx(0.3));
  CHECK_THROWS_AS(parse_probs("joy"), symp::InputError);
  CHECK_THROWS_AS(parse_probs("joy=x"), symp::InputError);
}
