#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <vector>

#include "symp/core/rng.h"

TEST_CASE("rng: shuffle is Fisher-Yates from the last position and keeps every item once", "[core]") {
  std::vector<int> items(10);
  std::iota(items.begin(), items.end(), 0);
  symp::Rng rng(42);
  rng.shuffle(items);

  // The same draws by hand: position i - 1 swaps with below(i), for i = n down to 2.
  std::vector<int> expected(10);
  std::iota(expected.begin(), expected.end(), 0);
  symp::Rng by_hand(42);
  for (size_t i = expected.size(); i > 1; --i) std::swap(expected[i - 1], expected[by_hand.below(i)]);
  CHECK(items == expected);
  CHECK(items != std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
  // Both generators drew the same count: their next draws agree.
  CHECK(rng.below(1000000) == by_hand.below(1000000));

  std::vector<int> sorted = items;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});

  // Nothing to draw for fewer than two items.
  std::vector<int> none, one{7};
  symp::Rng a(5), b(5);
  a.shuffle(none);
  a.shuffle(one);
  CHECK(one == std::vector<int>{7});
  CHECK(a.below(1000000) == b.below(1000000));
}
