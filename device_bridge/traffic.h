// Traffic accounting: what kind of message a frame is, and bytes counted per kind both ways.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

#include "edgerig.pb.h"

namespace edgerig::bridge {

enum class MessageKind { kControl = 0, kActivation, kGradient, kWeights, kHeartbeat, kCount };

inline constexpr size_t kMessageKindCount = static_cast<size_t>(MessageKind::kCount);

const char* kindName(MessageKind kind);  // "control" "activation" "gradient" "weights" "heartbeat"
MessageKind kindOf(const wire::Envelope& env);

struct TrafficCounters {
  // Bytes including the 4-byte frame header, indexed by MessageKind.
  std::array<uint64_t, kMessageKindCount> sent{}, received{};

  uint64_t totalSent() const;
  uint64_t totalReceived() const;
  TrafficCounters& operator+=(const TrafficCounters& other);
};

}  // namespace edgerig::bridge
