#include "device_bridge/traffic.h"

#include <numeric>

namespace edgerig::bridge {

const char* kindName(MessageKind kind) {
  switch (kind) {
    case MessageKind::kControl:
      return "control";
    case MessageKind::kActivation:
      return "activation";
    case MessageKind::kGradient:
      return "gradient";
    case MessageKind::kWeights:
      return "weights";
    case MessageKind::kHeartbeat:
      return "heartbeat";
    case MessageKind::kCount:
      break;
  }
  return "unknown";
}

MessageKind kindOf(const wire::Envelope& env) {
  switch (env.body_case()) {
    case wire::Envelope::kActivations:
      return MessageKind::kActivation;
    case wire::Envelope::kGradients:
      return MessageKind::kGradient;
    case wire::Envelope::kStateReply:
    case wire::Envelope::kPayload:
      return MessageKind::kWeights;
    case wire::Envelope::kStageAssignment:
      return env.stage_assignment().initial_state().tensors_size() > 0 ? MessageKind::kWeights
                                                                       : MessageKind::kControl;
    case wire::Envelope::kHeartbeat:
    case wire::Envelope::kHeartbeatAck:
      return MessageKind::kHeartbeat;
    default:
      return MessageKind::kControl;
  }
}

uint64_t TrafficCounters::totalSent() const {
  return std::accumulate(sent.begin(), sent.end(), uint64_t{0});
}

uint64_t TrafficCounters::totalReceived() const {
  return std::accumulate(received.begin(), received.end(), uint64_t{0});
}

TrafficCounters& TrafficCounters::operator+=(const TrafficCounters& other) {
  for (size_t i = 0; i < kMessageKindCount; ++i) {
    sent[i] += other.sent[i];
    received[i] += other.received[i];
  }
  return *this;
}

}  // namespace edgerig::bridge
