#pragma once
// A seeded random source whose draws are the same on every platform and standard library
// (std::normal_distribution is not specified bit for bit, so normal() is Box-Muller on mt19937_64).
#include <cstdint>
#include <random>
#include <utility>
#include <vector>

namespace symp {

class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}
  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }
  // Uniform integer in [0, n).
  uint64_t below(uint64_t n);
  // Standard normal (Box-Muller; the second value of each pair is kept for the next call).
  double normal();
  // Fisher-Yates, last position first: the draws below(n), below(n - 1), ..., below(2).
  template <class T>
  void shuffle(std::vector<T>& items) {
    for (size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[below(i)]);
  }
  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
  bool has_spare_ = false;
  double spare_ = 0.0;
};

// A deterministic 64-bit hash (FNV-1a), for seeding per-item generators from names.
uint64_t stable_hash(const void* data, size_t n, uint64_t seed = 1469598103934665603ULL);

}  // namespace symp
