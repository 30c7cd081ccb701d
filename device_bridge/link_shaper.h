// Link emulation as pure logic: given a frame's size and when it was offered, when may it be
// delivered? No sockets and no clock of its own, so it is testable and deterministic from a seed.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace edgerig::bridge {

struct LinkShape {
  double delay_ms = 0;
  double jitter_ms = 0;
  double bandwidth_mbps = 0;  // 0: unlimited
  double drop_probability = 0;

  bool active() const;
  std::string describe() const;  // "delay 20 ms, jitter 5 ms, 10 Mbit/s, drop 1%" or "unshaped"
};

inline constexpr std::chrono::milliseconds kRetransmitTimeout{200};
inline constexpr int kMaxDropsInARow = 10;

class LinkShaper {
 public:
  using Clock = std::chrono::steady_clock;

  explicit LinkShaper(uint64_t seed = 1);

  void setShape(const LinkShape& shape);
  LinkShape shape() const { return shape_; }

  // When may a frame of `bytes` offered at `now` be delivered? Frames leave in order. Time =
  // serialization at the bandwidth cap (token bucket, burst of one frame) after the previous
  // frame, + delay + uniform jitter in [0, jitter], + for each emulated drop (Bernoulli with
  // drop_probability, at most 10 in a row) one kRetransmitTimeout: over TCP a lost packet
  // costs time, not data, and training messages must not vanish.
  Clock::time_point schedule(size_t bytes, Clock::time_point now);
  uint64_t dropsEmulated() const { return drops_; }

  // Serialization time of `bytes` at the current cap (zero when unlimited).
  Clock::duration serializationTime(size_t bytes) const;

 private:
  double nextUniform();  // [0, 1), from our own generator so results match on every platform

  LinkShape shape_;
  uint64_t state_;
  uint64_t drops_ = 0;
  Clock::time_point link_free_{};      // when the last frame finished serializing
  Clock::time_point last_delivery_{};  // delivery of the previous frame, to keep order
};

}  // namespace edgerig::bridge
