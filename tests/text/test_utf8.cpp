// UTF-8 repair: valid text unchanged, each invalid byte replaced by U+FFFD.
#include "symp/text/utf8.h"

#include <catch2/catch.hpp>

using symp::text::to_valid_utf8;

TEST_CASE("text: to_valid_utf8 keeps valid text and replaces each invalid byte") {
  const std::string valid = "caf\xC3\xA9 \xE4\xBD\xA0\xE5\xA5\xBD \xF0\x9F\x98\x80 plain";
  CHECK(to_valid_utf8(valid) == valid);
  const std::string bad = "\xEF\xBF\xBD";
  CHECK(to_valid_utf8("a\xFF"
                      "b") == "a" + bad + "b");
  CHECK(to_valid_utf8("\xC3") == bad);                                // cut in the middle of a character
  CHECK(to_valid_utf8("\xC0\xAF") == bad + bad);                      // overlong '/'
  CHECK(to_valid_utf8("\xED\xA0\x80") == bad + bad + bad);            // a surrogate
  CHECK(to_valid_utf8("\xF4\x90\x80\x80") == bad + bad + bad + bad);  // above U+10FFFF
  CHECK(to_valid_utf8("\xE4\xBD") == bad + bad);
}
