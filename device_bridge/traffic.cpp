#include "device_bridge/traffic.h"

#include <numeric>

namespace edgerig::bridge {

TrafficKind kindOf(const wire::Envelope& env) {
  switch (env.body_case()) {
    case wire::Envelope::kAlgo:
      return trafficKindFromWire(env.algo().kind());
    case wire::Envelope::kStateReply:
      return TrafficKind::kWeights;
    case wire::Envelope::kWorkerStart:
      return env.worker_start().initial_state().tensors_size() > 0 ? TrafficKind::kWeights
                                                                   : TrafficKind::kControl;
    case wire::Envelope::kHeartbeat:
    case wire::Envelope::kHeartbeatAck:
      return TrafficKind::kHeartbeat;
    case wire::Envelope::kProbeData:
      return TrafficKind::kProbe;
    default:
      return TrafficKind::kControl;
  }
}

uint64_t TrafficCounters::totalSent() const {
  return std::accumulate(sent.begin(), sent.end(), uint64_t{0});
}

uint64_t TrafficCounters::totalReceived() const {
  return std::accumulate(received.begin(), received.end(), uint64_t{0});
}

TrafficCounters& TrafficCounters::operator+=(const TrafficCounters& other) {
  for (size_t i = 0; i < kTrafficKindCount; ++i) {
    sent[i] += other.sent[i];
    received[i] += other.received[i];
  }
  return *this;
}

}  // namespace edgerig::bridge
