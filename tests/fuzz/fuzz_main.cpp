// libFuzzer's entry point for one target, chosen at compile time (SYMP_FUZZ_TARGET, a string).
#include <cstddef>
#include <cstdint>

#include "fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
#ifdef SYMP_FUZZ_TORCH
  static const symp::fuzz::Target& t = symp::fuzz::target(SYMP_FUZZ_TARGET, symp::fuzz::torch_targets());
#else
  static const symp::fuzz::Target& t = symp::fuzz::target(SYMP_FUZZ_TARGET);
#endif
  t.run(data, size);
  return 0;
}
