#pragma once
// The fuzz targets: one function per reader of files and replies that other people make. Each takes any
// bytes and must end in success or a symp::Error; anything else (another exception type, a crash, a
// sanitizer report, a failed round-trip check) is a finding. The same functions run under libFuzzer
// (fuzz_main.cpp, scripts/fuzz.sh) and in the ordinary tests, which replay the seed corpora and every
// regression input (test_fuzz_replay.cpp).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
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

// A property the reader promised does not hold: abort with the reason on stderr, which libFuzzer reports as
// a crash and the replay test as a failed test.
#define FUZZ_CHECK(cond)                                                                   \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::fprintf(stderr, "fuzz: check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                        \
    }                                                                                      \
  } while (0)

// Writes `bytes` as the file `name` (a relative path) in the process's private scratch folder (in memory
// when /dev/shm is there) and returns its path; the readers under test open it from there.
std::string write_input_file(const std::string& name, const std::string& bytes);

// Inputs that stand for several files are split at this line; the part before the first separator is the
// first file, and so on.
constexpr const char* kFileSeparator = "\n--symp-fuzz-next-file--\n";

}  // namespace symp::fuzz
