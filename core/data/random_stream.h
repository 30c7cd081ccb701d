// Portable seeded randomness for data: std::mt19937_64 plus our own draws, because the standard
// distributions differ between standard libraries and every device must get the same numbers.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <random>

namespace edgerig {

// SplitMix64 finaliser: turns related seeds (seed, seed + 1, ...) into unrelated ones.
inline uint64_t mixSeed(uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

inline uint64_t mixSeed(uint64_t seed, uint64_t stream) { return mixSeed(seed ^ mixSeed(stream)); }

class RandomStream {
 public:
  explicit RandomStream(uint64_t seed) : engine_(seed) {}

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n), without modulo bias. n must be > 0.
  uint64_t below(uint64_t n) {
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
      x = engine_();
    } while (x >= limit);
    return x % n;
  }

  // Standard normal (Box–Muller; the second value of each pair is discarded for simplicity).
  double normal() {
    const double u1 = 1.0 - uniform();  // (0, 1]
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace edgerig
