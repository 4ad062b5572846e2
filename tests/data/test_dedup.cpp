// The hashed n-gram embedder and greedy near-duplicate filtering.
#include <catch2/catch.hpp>

#include <cmath>

#include "symp/data/dedup.h"

using namespace symp::data;

namespace {
double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += double(a[i]) * b[i];
  return s;
}
}  // namespace

TEST_CASE("data: hashed n-gram embeddings are L2-normalised and rank near-duplicates high", "[data]") {
  HashedNgramEmbedder e(1024);
  const auto v = e.embed({"How do I repot the big monstera in my living room?",
                          "How can I repot the big monstera in my living room?",
                          "Any advice on training for my first five kilometre race?", ""});
  REQUIRE(v.size() == 4);
  double norm = 0;
  for (float x : v[0]) norm += double(x) * x;
  CHECK(std::sqrt(norm) == Approx(1.0).epsilon(1e-5));
  CHECK(cosine(v[0], v[1]) > 0.85);
  CHECK(cosine(v[0], v[2]) < 0.3);
  for (float x : v[3]) CHECK(x == 0.0f);  // an empty text gives a zero row
  CHECK(e.describe().find("proxy for all-MiniLM-L6-v2") != std::string::npos);
  // Case and punctuation do not matter; the result is the same on every call.
  CHECK(cosine(e.embed_one("HOW do I repot it"), e.embed_one("how do i repot it?")) == Approx(1.0));
}

TEST_CASE("data: greedy dedup keeps the first of each near-duplicate cluster", "[data]") {
  HashedNgramEmbedder e(512);
  NearDuplicateFilter f(512, 0.85);
  CHECK(f.offer(e.embed_one("How do I repot the big monstera in my living room?")) == -1);
  CHECK(f.offer(e.embed_one("Any advice on training for my first five kilometre race?")) == -1);
  CHECK(f.offer(e.embed_one("How can I repot the big monstera in my living room?")) == 0);
  CHECK(f.last_similarity() >= 0.85);
  CHECK(f.offer(e.embed_one("Any advice on training for my first 5 kilometre race?")) == 1);
  CHECK(f.offer(e.embed_one("What's a good sourdough starter feeding schedule?")) == -1);
  CHECK(f.kept() == 3);
  // A threshold of 1 only drops exact copies.
  NearDuplicateFilter exact(512, 1.0);
  CHECK(exact.offer(e.embed_one("a b c")) == -1);
  CHECK(exact.offer(e.embed_one("a b c d")) == -1);
  CHECK(exact.offer(e.embed_one("a b c")) == 0);
  CHECK_THROWS(NearDuplicateFilter(512, 0.0));
}
