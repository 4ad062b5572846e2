#pragma once
// The fuzz targets: one function per reader of files and replies that other people make. Each takes any
// bytes and must end in success or a symp::Error; anything else (another exception type, a crash, a
// sanitizer report, a failed round-trip check) is a finding. The same functions run under libFuzzer
// (fuzz_main.cpp, scripts/fuzz.sh) and in the ordinary tests, which replay the seed corpora and every
// regression input (test_fuzz_replay.cpp).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace symp::fuzz {

struct Target {
  const char* name;
  const char* reads;  // what the target feeds the bytes to, for docs and --list
  void (*run)(const uint8_t* data, size_t size);
};

const std::vector<Target>& targets();
// The targets that need torch (fuzz_torch_targets.cpp): built only where libtorch is.
const std::vector<Target>& torch_targets();
// A target of `all` by name; std::invalid_argument for an unknown name.
const Target& target(const std::string& name, const std::vector<Target>& all = targets());

// Inputs that stand for several files are split at this line; the part before the first separator is the
// first file, and so on.
constexpr const char* kFileSeparator = "\n--symp-fuzz-next-file--\n";

}  // namespace symp::fuzz
