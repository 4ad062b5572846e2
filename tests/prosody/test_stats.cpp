#include <catch2/catch.hpp>

#include "symp/prosody/stats.h"

#include <cmath>

using namespace symp::prosody;

TEST_CASE("prosody: Spearman rho and p as scipy.stats.spearmanr", "[prosody]") {
  const std::vector<double> x = {1, 2, 2, 3, 5, 5, 5, 8}, y = {.2, .1, .4, .4, .9, .3, .8, 1};
  const Correlation c = spearman(x, y);
  CHECK(c.n == 8);
  CHECK(c.rho == Approx(0.7841896995).margin(1e-10));
  CHECK(c.p == Approx(0.0212363173).margin(1e-10));
  CHECK(std::isnan(c.p_perm));

  const Correlation perfect = spearman({1, 2, 3, 4}, {10, 20, 30, 45});
  CHECK(perfect.rho == Approx(1.0));
  CHECK(perfect.p == 0.0);
  const Correlation negative = spearman({1, 2, 3, 4, 5}, {5, 3, 4, 2, 1});
  CHECK(negative.rho == Approx(-0.9));
  CHECK(std::isnan(spearman({1, 1, 1, 1}, {1, 2, 3, 4}).rho));
  CHECK(spearman({1, NAN, 3, 4, 5}, {1, 2, 3, 5, 4}).n == 4);
}

TEST_CASE("prosody: average ranks and Student t tail and permutation p", "[prosody]") {
  CHECK(average_ranks({3, 1, 2, 2}) == std::vector<double>{4, 1, 2.5, 2.5});
  CHECK(average_ranks({5, 5, 5}) == std::vector<double>{2, 2, 2});
  CHECK(student_t_two_sided(2.446911851, 6) == Approx(0.05).margin(1e-8));  // t(0.975, 6)
  CHECK(student_t_two_sided(0.0, 10) == Approx(1.0));
  CHECK(incomplete_beta(2, 3, 0.4) == Approx(0.5248).margin(1e-12));  // 1 - (0.6^4 + 4 * 0.4 * 0.6^3)

  const std::vector<double> x = {1, 2, 2, 3, 5, 5, 5, 8}, y = {.2, .1, .4, .4, .9, .3, .8, 1};
  const Correlation a = spearman(x, y, 4000, 7), b = spearman(x, y, 4000, 7);
  CHECK(a.p_perm == b.p_perm);  // seeded
  CHECK(a.p_perm > 0.005);
  CHECK(a.p_perm < 0.06);
  const Correlation none = spearman({1, 2, 3, 4, 5, 6}, {3, 1, 6, 2, 5, 4}, 2000, 1);
  CHECK(none.p_perm > 0.3);
}
