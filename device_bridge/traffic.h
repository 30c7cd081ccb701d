// Traffic accounting: the kind of a frame (stamped by its sender, device_bridge/traffic_kind.h)
// and bytes counted per kind both ways.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "device_bridge/traffic_kind.h"
#include "edgerig.pb.h"

namespace edgerig::bridge {

// What a frame is counted as: an algorithm message as its sender stamped it, a heartbeat as
// heartbeat, model state as weights, everything else as control.
TrafficKind kindOf(const wire::Envelope& env);

struct TrafficCounters {
  // Bytes including the 4-byte frame header, indexed by TrafficKind.
  std::array<uint64_t, kTrafficKindCount> sent{}, received{};

  uint64_t totalSent() const;
  uint64_t totalReceived() const;
  TrafficCounters& operator+=(const TrafficCounters& other);
};

}  // namespace edgerig::bridge
