// The receiving side of the link bandwidth probe: times each chunk of a burst by this agent's
// clock alone (no clock is shared with the sender), and checks what a sender claims, so that a
// broken or hostile peer costs it a closed session, never memory.
//
// The rate is the median of the rates between every two chunks' arrivals (the Theil-Sen slope of
// bytes received against time), not the bytes over the time from the first chunk to the last:
// the arrival times are when this process read each chunk, and on a loaded machine a read can be
// late by tens of milliseconds, while the kernel had the bytes at the link's pace all along. A
// late first read shortened the span and overstated the rate (a 50 Mbit/s cap measured 62 under
// a full test suite); the median ignores a few late reads at either end or in the middle.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "device_bridge/status.h"
#include "edgerig.pb.h"

namespace edgerig {

// What a probe may ask for, on both sides (the controller's bursts are far below these).
inline constexpr uint32_t kMaxProbeChunkBytes = 4u << 20;
inline constexpr uint32_t kMaxProbeChunks = 1024;
// Bursts being received at once (one per sending peer); one more is refused.
inline constexpr size_t kMaxOpenProbeBursts = 64;

class ProbeReceiver {
 public:
  using Clock = std::chrono::steady_clock;

  // A chunk that came on the session authenticated as `peer`. Returns the burst's report when
  // this was its last chunk (sender_name filled in), nothing before, or an error naming what was
  // wrong, after which the caller closes that session (its open burst is forgotten).
  Result<std::optional<wire::ProbeReport>> onChunk(const std::string& peer,
                                                   const wire::ProbeData& chunk,
                                                   Clock::time_point at);
  size_t openBursts() const { return open_.size(); }

 private:
  struct Burst {
    uint64_t probe_id = 0;
    int from = 0, to = 0;
    uint32_t chunks = 0, next = 0;
    uint64_t bytes = 0;  // after the first chunk
    // Per chunk so far: when it was read, and the bytes after the first chunk up to it.
    std::vector<Clock::time_point> arrival;
    std::vector<uint64_t> received;
  };
  std::map<std::string, Burst> open_;  // by sending peer
};

}  // namespace edgerig
