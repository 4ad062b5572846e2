#include <catch2/catch.hpp>

#include <fstream>

#include "../test_util.h"
#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/io/csv.h"
#include "symp/io/jsonl.h"

using namespace symp::io;

TEST_CASE("io: JSONL round trip and a malformed line reported as file:line") {
  symp::test::ScratchDir dir("jsonl");
  write_jsonl_atomic(dir.file("a.jsonl"), {Json{{"id", 1}}, Json{{"id", 2}, {"t", "x"}}});
  auto rows = read_jsonl(dir.file("a.jsonl"));
  REQUIRE(rows.size() == 2);
  CHECK(rows[1]["t"] == "x");
  std::ofstream(dir.file("b.jsonl")) << "{\"id\": 1}\n\n{\"id\": 2,}\n";
  CHECK_THROWS_WITH(read_jsonl(dir.file("b.jsonl")), Catch::Contains("b.jsonl:3"));
  std::ofstream(dir.file("c.jsonl")) << "[1,2]\n";
  CHECK_THROWS_WITH(read_jsonl(dir.file("c.jsonl")),
                    Catch::Contains("c.jsonl:1") && Catch::Contains("object"));
}

TEST_CASE("io: the appender repairs a torn last line and keeps complete records") {
  symp::test::ScratchDir dir("append");
  const auto p = dir.file("m.jsonl");
  std::ofstream(p) << "{\"id\": 1}\n{\"id\": 2}\n{\"id\": 3, \"te";
  symp::set_log_level(symp::LogLevel::Error);
  CHECK(read_jsonl(p, /*tolerate_torn_tail=*/true).size() == 2);
  CHECK_THROWS_AS(read_jsonl(p), symp::InputError);
  {
    JsonlAppender app(p);
    app.append({{"id", 3}});
  }
  symp::set_log_level(symp::LogLevel::Info);
  auto rows = read_jsonl(p);
  REQUIRE(rows.size() == 3);
  CHECK(rows[2]["id"] == 3);
}

TEST_CASE("io: field helpers name the context and the field") {
  Json row = {{"valence", "high"}};
  CHECK_THROWS_WITH(require_number(row, "valence", "m.jsonl:4"),
                    Catch::Contains("m.jsonl:4") && Catch::Contains("'valence'"));
  CHECK_THROWS_WITH(require_string(row, "id", "m.jsonl:4"), Catch::Contains("missing field 'id'"));

  // Optional fields keep the default when absent or null, and a wrong type names the field.
  Json config = {{"layers", 4}, {"name", nullptr}, {"rate", "fast"}};
  int layers = 1;
  std::string name = "default";
  double rate = 0.5;
  symp::io::read_optional(config, "layers", layers, "config.yaml: flow");
  symp::io::read_optional(config, "name", name, "config.yaml: flow");
  symp::io::read_optional(config, "absent", rate, "config.yaml: flow");
  CHECK(layers == 4);
  CHECK(name == "default");
  CHECK(rate == 0.5);
  CHECK_THROWS_AS(symp::io::read_optional(config, "rate", rate, "config.yaml: flow"), symp::InputError);
  CHECK_THROWS_WITH(symp::io::read_optional(config, "rate", rate, "config.yaml: flow"),
                    Catch::StartsWith("config.yaml: flow: field 'rate': "));
}

TEST_CASE("io: atomic writes leave the old file intact until complete") {
  symp::test::ScratchDir dir("atomic");
  const auto p = dir.file("x.txt");
  symp::write_file_atomic(p, "old");
  {
    symp::AtomicFile f(p);
    std::ofstream(f.temp_path()) << "half";
    // destroyed without commit: the target keeps its old content and the temp file goes
  }
  CHECK(symp::read_text_file(p) == "old");
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir.path())) files += e.is_regular_file();
  CHECK(files == 1);
}

TEST_CASE("io: CSV quoting round trip") {
  symp::test::ScratchDir dir("csv");
  CsvWriter w({"id", "text", "x"});
  w.add_row({"a", "hello, \"world\"", format_number(0.5)});
  w.add_row({"b", "line\nbreak", format_number(NAN)});
  w.write(dir.file("t.csv"));
  auto rows = read_csv(dir.file("t.csv"));
  REQUIRE(rows.size() == 3);
  CHECK(rows[1][1] == "hello, \"world\"");
  CHECK(rows[2][1] == "line\nbreak");
  CHECK(rows[2][2] == "nan");
  CHECK_THROWS(w.add_row({"too", "few"}));
}
