// The strict TOML check in front of --config: what symp's configs use passes, each kind of mistake is named
// with its line.
#include "symp/io/toml_check.h"

#include <catch2/catch.hpp>

#include "symp/core/error.h"

using symp::io::check_toml_text;

TEST_CASE("io: check_toml accepts symp's saved configs and recipes") {
  CHECK_NOTHROW(check_toml_text(
      "# Effective configuration\nseed=42\nthreads=0\nlog-level=\"info\"\n"
      "tokenize.fit.corpus=\"/tmp/a b\"\ntokenize.fit.text-vocab=500\ninfer.t-sweep=[0.25,0.5,0.75]\n",
      "saved"));
  CHECK_NOTHROW(check_toml_text(
      "seed = 42\n\n[train-lora]\nlora-rank = 32  # r\nlr = 1e-4\nclip = 1.0\nschedule = 'linear'\n"
      "lora-targets = [\"query_key_value\",\n  \"dense\", # the attention output\n]\n"
      "[gen-data]\nper-emotion = 1_000\nflag = true\nneg = -0.5\nx = +inf\nt = {a = 1, b = \"c\"}\n"
      "\"quoted key\" = \"tab\\t \\u00e9\"\n",
      "recipe"));
}

TEST_CASE("io: check_toml names the line of each mistake") {
  auto fails = [](const std::string& text, const std::string& what) {
    try {
      check_toml_text(text, "f.toml");
      FAIL("accepted: " << text);
    } catch (const symp::UsageError& e) {
      CHECK_THAT(e.what(), Catch::Contains(what));
    }
  };
  fails("seed = 1\n[affect\nemotion = \"happy\"\n", "f.toml:2: not valid TOML: expected ']'");
  fails("[affect]\nemotion = \n", "f.toml:2: not valid TOML: the key 'emotion' has no value");
  fails("[affect]\nemotion = happy\n", "f.toml:2: not valid TOML: 'happy' is not a TOML value");
  fails("a = \"open\n", "f.toml:1: not valid TOML: a string is not closed");
  fails("a = 1\na = 2\n", "f.toml:2: not valid TOML: the key 'a' is set twice");
  fails("[x]\na = 1\n[x]\n", "f.toml:3: not valid TOML: table [x] defined twice");
  fails("a = [1, 2\nb = 3\n", "expected ',' or ']'");
  fails("a = 1 2\n", "f.toml:1: not valid TOML: unexpected '2'");
  fails("a = 1__0\n", "a bad number");
  fails("= 3\n", "f.toml:1: not valid TOML: expected a key");
  fails("a = \"\\q\"\n", "unknown escape");
}
