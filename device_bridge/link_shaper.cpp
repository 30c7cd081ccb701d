#include "device_bridge/link_shaper.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace edgerig::bridge {

namespace {

// At most about 31 years: a tiny bandwidth cap or a huge delay must not overflow the clock's
// 64-bit nanoseconds (fuzz_agent_dispatch found 64 MiB at 1e-300 Mbit/s doing so).
constexpr double kMaxShapedMs = 1e12;

std::chrono::steady_clock::duration fromMs(double ms) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double, std::milli>(std::min(ms, kMaxShapedMs)));
}

}  // namespace

bool LinkShape::active() const {
  return delay_ms > 0 || jitter_ms > 0 || bandwidth_mbps > 0 || drop_probability > 0;
}

std::string LinkShape::describe() const {
  if (!active()) return "unshaped";
  std::ostringstream out;
  const char* sep = "";
  if (delay_ms > 0) {
    out << sep << "delay " << delay_ms << " ms";
    sep = ", ";
  }
  if (jitter_ms > 0) {
    out << sep << "jitter " << jitter_ms << " ms";
    sep = ", ";
  }
  if (bandwidth_mbps > 0) {
    out << sep << bandwidth_mbps << " Mbit/s";
    sep = ", ";
  }
  if (drop_probability > 0) {
    out << sep << "drop " << drop_probability * 100 << "%";
  }
  return out.str();
}

LinkShaper::LinkShaper(uint64_t seed) : state_(seed) {}

void LinkShaper::setShape(const LinkShape& shape) {
  shape_ = shape;
  // Nonsense values (negative, NaN) mean "no effect" rather than time running backwards.
  auto clean = [](double v) { return std::isfinite(v) && v > 0 ? v : 0.0; };
  shape_.delay_ms = clean(shape_.delay_ms);
  shape_.jitter_ms = clean(shape_.jitter_ms);
  shape_.bandwidth_mbps = clean(shape_.bandwidth_mbps);
  shape_.drop_probability = std::min(clean(shape_.drop_probability), 1.0);
}

double LinkShaper::nextUniform() {
  // splitmix64: tiny, well distributed, and identical everywhere, unlike std distributions.
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}

LinkShaper::Clock::duration LinkShaper::serializationTime(size_t bytes) const {
  if (shape_.bandwidth_mbps <= 0) return Clock::duration::zero();
  return fromMs(static_cast<double>(bytes) * 8.0 / (shape_.bandwidth_mbps * 1e6) * 1e3);
}

LinkShaper::Clock::time_point LinkShaper::schedule(size_t bytes, Clock::time_point now) {
  // The bucket holds one frame's worth of tokens: a frame starts serializing when it is offered
  // or when the previous one has finished, whichever is later, and occupies the link for
  // bytes / rate; no credit is saved up for later bursts.
  const Clock::time_point start = std::max(now, link_free_);
  link_free_ = start + serializationTime(bytes);
  Clock::time_point deliver = link_free_;
  if (shape_.delay_ms > 0) deliver += fromMs(shape_.delay_ms);
  if (shape_.jitter_ms > 0) deliver += fromMs(shape_.jitter_ms * nextUniform());
  if (shape_.drop_probability > 0) {
    for (int i = 0; i < kMaxDropsInARow && nextUniform() < shape_.drop_probability; ++i) {
      ++drops_;
      deliver += kRetransmitTimeout;
    }
  }
  // TCP delivers in order: a frame with less jitter cannot overtake the one before it.
  deliver = std::max(deliver, last_delivery_);
  last_delivery_ = deliver;
  return deliver;
}

}  // namespace edgerig::bridge
