// The fuzz targets' seed corpora and every regression input (tests/fuzz/regressions/TARGET/), replayed
// through the same functions libFuzzer drives: each must end in success or a clear symp::Error.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>

#include "fuzz_targets.h"

namespace fs = std::filesystem;

namespace {

std::vector<symp::fuzz::Target> all_targets() {
  auto all = symp::fuzz::targets();
  for (const auto& t : symp::fuzz::torch_targets()) all.push_back(t);
  return all;
}

const fs::path kFuzzDir = fs::path(SYMP_SOURCE_DIR) / "tests" / "fuzz";

std::vector<fs::path> inputs_in(const fs::path& dir) {
  std::vector<fs::path> files;
  if (fs::is_directory(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() && e.path().filename() != "README.md") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace

TEST_CASE("fuzz: every target has a seed corpus and every regression folder names a target", "[fuzz]") {
  std::set<std::string> names;
  for (const auto& t : all_targets()) {
    names.insert(t.name);
    INFO("target " << t.name);
    CHECK(inputs_in(kFuzzDir / "corpus" / t.name).size() >= 1);
  }
  for (const auto& e : fs::directory_iterator(kFuzzDir / "regressions")) {
    if (!e.is_directory()) continue;
    INFO("regression folder " << e.path());
    CHECK(names.count(e.path().filename().string()) == 1);
  }
}

TEST_CASE("fuzz: seed corpora and regression inputs end in success or a clear error", "[fuzz]") {
  size_t replayed = 0;
  for (const auto& t : all_targets()) {
    for (const char* kind : {"corpus", "regressions"}) {
      for (const auto& file : inputs_in(kFuzzDir / kind / t.name)) {
        INFO("target " << t.name << ", input " << file);
        const std::string bytes = read_bytes(file);
        REQUIRE_NOTHROW(t.run(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
        ++replayed;
      }
    }
  }
  CHECK(replayed >= all_targets().size());
}
