#include <catch2/catch.hpp>

#include <stdexcept>

#include "symp/core/error.h"

TEST_CASE("error: with_context keeps the kind and the C++ type and prefixes the message", "[core]") {
  using symp::with_context;
  auto input = [] {
    with_context("file.jsonl:3", [] { throw symp::InputError("field 'valence': not a number"); });
  };
  CHECK_THROWS_AS(input(), symp::InputError);
  CHECK_THROWS_WITH(input(), "file.jsonl:3: field 'valence': not a number");
  auto usage = [] {
    with_context("outer", [] { with_context("inner", [] { throw symp::UsageError("bad"); }); });
  };
  CHECK_THROWS_AS(usage(), symp::UsageError);
  CHECK_THROWS_WITH(usage(), "outer: inner: bad");
  try {
    usage();
  } catch (const symp::Error& e) {
    CHECK(e.kind() == symp::ErrorKind::Usage);
  }
  auto other = [] { with_context("loading x", [] { throw std::out_of_range("index 9"); }); };
  CHECK_THROWS_AS(other(), symp::RuntimeError);
  CHECK_THROWS_WITH(other(), "loading x: index 9");
  CHECK(with_context("fine", [] { return 7; }) == 7);
}
