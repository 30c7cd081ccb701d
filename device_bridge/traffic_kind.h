// The one list of traffic kinds: what a frame carries, as the sender stamps it. Byte counters,
// metrics (bytes_sent_<kind>), plots, the terminal report and CSV all read this list. Plain C++,
// so the GUI can include it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace edgerig::bridge {

enum class TrafficKind : uint8_t {
  kControl = 0,  // commands, replies, metrics: everything not listed below
  kActivation,   // pipeline: a stage's output on its way forward
  kGradient,     // pipeline gradients backward, all-reduce gradient chunks
  kWeights,      // model state: switches, restarts, migration, state gathering
  kGossip,       // decentralized model exchange (gossip, push-sum, group averaging)
  kReplica,      // replicas kept for fault tolerance (ftpipehd, respipe)
  kHeartbeat,    // the bridge's own liveness traffic
  kProbe,        // the link bandwidth probe's bursts (controller-driven, not an algorithm's)
  kCount,
};

inline constexpr size_t kTrafficKindCount = static_cast<size_t>(TrafficKind::kCount);

inline constexpr std::array<std::string_view, kTrafficKindCount> kTrafficKindNames{
    "control", "activation", "gradient", "weights", "gossip", "replica", "heartbeat", "probe"};

// The kinds a training run reports per device (metrics bytes_sent_<kind>) and plots: all but the
// heartbeat, which is the bridge's own overhead.
inline constexpr std::array<TrafficKind, kTrafficKindCount - 1> kReportedTrafficKinds{
    TrafficKind::kActivation, TrafficKind::kGradient, TrafficKind::kWeights, TrafficKind::kGossip,
    TrafficKind::kReplica,    TrafficKind::kProbe,    TrafficKind::kControl};

constexpr std::string_view trafficKindName(TrafficKind k) {
  return static_cast<size_t>(k) < kTrafficKindCount ? kTrafficKindNames[static_cast<size_t>(k)]
                                                    : std::string_view("unknown");
}

// A wire value (AlgoMessage.kind) as a kind; out-of-range values are control traffic, and so are
// the bridge's own kinds (heartbeat, probe): no algorithm message can claim to be one.
constexpr TrafficKind trafficKindFromWire(uint32_t v) {
  return v < static_cast<uint32_t>(TrafficKind::kHeartbeat) ? static_cast<TrafficKind>(v)
                                                            : TrafficKind::kControl;
}

constexpr std::optional<TrafficKind> trafficKindFromName(std::string_view name) {
  for (size_t i = 0; i < kTrafficKindCount; ++i) {
    if (kTrafficKindNames[i] == name) return static_cast<TrafficKind>(i);
  }
  return std::nullopt;
}

}  // namespace edgerig::bridge
