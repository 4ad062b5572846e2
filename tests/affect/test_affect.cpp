#include <catch2/catch.hpp>

#include <cmath>

#include "symp/affect/affect.h"
#include "symp/affect/condition.h"
#include "symp/core/error.h"
#include "symp/core/rng.h"

using namespace symp::affect;

TEST_CASE("affect: the 12 anchors are exactly PAPER.md's table") {
  const auto& set = AnchorSet::builtin();
  const std::vector<std::tuple<std::string, double, double>> paper = {
      {"happy", 0.85, 0.35},      {"excited", 0.75, 0.90},  {"content", 0.60, -0.20}, {"relaxed", 0.25, -0.60},
      {"surprised", 0.10, 0.80},  {"frustrated", -0.80, 0.35}, {"neutral", 0.0, 0.0}, {"tired", -0.15, -0.75},
      {"anxious", -0.40, 0.65},   {"disgusted", -0.82, -0.20}, {"sad", -0.75, -0.65}, {"angry", -0.85, 0.85}};
  REQUIRE(set.all().size() == 12);
  for (const auto& [name, v, a] : paper) {
    const auto& anchor = set.find(name);
    CHECK(anchor.va.valence == v);
    CHECK(anchor.va.arousal == a);
  }
  CHECK(set.find("HaPpY").name == "happy");
  CHECK_THROWS_AS(set.find("bored"), symp::InputError);
}

TEST_CASE("affect: system prompts match PAPER.md byte for byte") {
  CHECK(system_prompt(VA{0.85, 0.35}) == "Please respond in English. User emotion (valence=0.85, arousal=0.35)");
  CHECK(system_prompt(VA{0.75, 0.9}) == "Please respond in English. User emotion (valence=0.75, arousal=0.90)");
  CHECK(system_prompt(std::nullopt) == "Please respond in English. User emotion N/A");
  CHECK(system_prompt(VA{-0.85, 0.85}) == "Please respond in English. User emotion (valence=-0.85, arousal=0.85)");
  // Values are clamped to [-1, 1] in the prompt.
  CHECK(system_prompt(VA{1.5, -3.0}) == "Please respond in English. User emotion (valence=1.00, arousal=-1.00)");
}

TEST_CASE("affect: VA points reject NaN and out-of-range values") {
  CHECK_THROWS_AS(make_va(NAN, 0.0), symp::InputError);
  CHECK_THROWS_AS(make_va(0.0, INFINITY), symp::InputError);
  CHECK_THROWS_AS(make_va(1.01, 0.0), symp::InputError);
  CHECK_THROWS_WITH(make_va(0.0, -1.2, "row 3"), Catch::Contains("row 3") && Catch::Contains("arousal"));
  CHECK(make_va(-1.0, 1.0).arousal == 1.0);
  CHECK(clamp_va(2.0, -2.0).valence == 1.0);
  CHECK_THROWS_AS(clamp_va(NAN, 0.0), symp::InputError);
  CHECK(parse_va("0.3,-0.2").arousal == Approx(-0.2));
  CHECK_THROWS_AS(parse_va("2,0"), symp::InputError);
  CHECK_THROWS_AS(parse_va("0.3"), symp::InputError);
  CHECK_THROWS_AS(parse_va("a,b"), symp::InputError);
}

TEST_CASE("affect: interpolation is linear with exact end points") {
  const auto& set = AnchorSet::builtin();
  const auto happy = set.find("happy").va, sad = set.find("sad").va;
  auto p0 = interpolate(happy, sad, 0.0), p1 = interpolate(happy, sad, 1.0);
  CHECK(p0.valence == happy.valence);
  CHECK(p0.arousal == happy.arousal);
  CHECK(p1.valence == sad.valence);
  CHECK(p1.arousal == sad.arousal);
  auto q = interpolate(happy, sad, 0.25);
  CHECK(q.valence == Approx(0.85 + 0.25 * (-0.75 - 0.85)));
  CHECK(q.arousal == Approx(0.35 + 0.25 * (-0.65 - 0.35)));
  CHECK_THROWS_AS(interpolate(happy, sad, 1.5), symp::InputError);
  CHECK_THROWS_AS(interpolate(happy, sad, NAN), symp::InputError);
}

TEST_CASE("affect: nearest anchor") {
  const auto& set = AnchorSet::builtin();
  CHECK(set.nearest({0.8, 0.3}).name == "happy");
  CHECK(set.nearest({0.05, -0.05}).name == "neutral");
  CHECK(set.nearest({-0.9, 0.9}).name == "angry");
  for (const auto& a : set.all()) CHECK(set.nearest(a.va).name == a.name);
}

TEST_CASE("affect: noise has the requested spread, is seeded, and is clamped") {
  symp::Rng rng(7);
  const int n = 20000;
  double sum = 0, sum2 = 0;
  for (int i = 0; i < n; ++i) {
    auto p = add_noise({0.0, 0.0}, 0.1, rng);
    sum += p.valence;
    sum2 += p.valence * p.valence;
  }
  const double mean = sum / n, sd = std::sqrt(sum2 / n - mean * mean);
  CHECK(std::abs(mean) < 0.005);
  CHECK(sd == Approx(0.1).epsilon(0.03));
  symp::Rng a(3), b(3);
  auto pa = add_noise({0.5, 0.5}, 0.3, a), pb = add_noise({0.5, 0.5}, 0.3, b);
  CHECK(pa.valence == pb.valence);
  CHECK(pa.arousal == pb.arousal);
  symp::Rng c(1);
  for (int i = 0; i < 1000; ++i) {
    auto p = add_noise({0.95, -0.95}, 0.5, c);
    CHECK(p.valence <= 1.0);
    CHECK(p.arousal >= -1.0);
  }
  CHECK_THROWS_AS(add_noise({0, 0}, -0.1, c), symp::InputError);
}

TEST_CASE("affect: conditions resolve from each source and refuse conflicts") {
  symp::Rng rng(1);
  ConditionOptions o;
  o.emotion = "excited";
  auto c = resolve_condition(o, rng);
  REQUIRE(c.used);
  CHECK(c.used->arousal == 0.9);
  CHECK(c.label == "excited");
  ConditionOptions none;
  CHECK_FALSE(resolve_condition(none, rng).used);
  ConditionOptions both;
  both.emotion = "happy";
  both.va = "0,0";
  CHECK_THROWS_AS(both.validate(), symp::UsageError);
  ConditionOptions interp;
  interp.interpolate = "happy,sad";
  interp.t = 1.5;
  CHECK_THROWS_AS(interp.validate(), symp::UsageError);
  interp.t = 0.5;
  CHECK(resolve_condition(interp, rng).used->valence == Approx(0.05));
}
