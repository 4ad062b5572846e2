#pragma once
// Process-wide torch settings, decided once in main and passed down (no torch headers here).
#include <string>

namespace symp::nn {

// Sets torch's intra-op threads (0 = all cores) and its inter-op threads; returns the count in use.
int set_num_threads(int threads);
// torch's version ("1.13.1", "2.11.0") and whether CUDA is usable.
std::string torch_version();
bool cuda_available();

}  // namespace symp::nn
