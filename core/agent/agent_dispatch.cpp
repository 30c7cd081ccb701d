#include "core/agent/agent_dispatch.h"

#include <cmath>
#include <sstream>
#include <string>
#include <vector>

#include "core/agent/probe_receiver.h"
#include "core/experiment/fault_limits.h"

namespace edgerig {
namespace {

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// v in [lo, hi]; NaN fails.
Status within(const char* field, double v, double lo, double hi) {
  if (v >= lo && v <= hi) return Status::ok();
  return invalidArgument(std::string("fault command: ") + field + " " + num(v) + " is outside [" +
                         num(lo) + ", " + num(hi) + "]");
}

}  // namespace

AgentAction controllerAction(const wire::Envelope& env) {
  switch (env.body_case()) {
    case wire::Envelope::kProfileRequest:
      return AgentAction::kProfile;
    case wire::Envelope::kWorkerStart:
      return AgentAction::kStartWorker;
    case wire::Envelope::kAlgo:
      return AgentAction::kDeliver;
    case wire::Envelope::kPeerAddresses:
      return AgentAction::kUpdatePeers;
    case wire::Envelope::kFault:
      return AgentAction::kFault;
    case wire::Envelope::kFetchState:
      return AgentAction::kFetchState;
    case wire::Envelope::kProbeRequest:
      return AgentAction::kProbe;
    case wire::Envelope::kStopRun:
      return AgentAction::kStopRun;
    default:
      return AgentAction::kRefuse;
  }
}

AgentAction peerAction(const wire::Envelope& env) {
  if (env.has_algo()) return AgentAction::kDeliver;
  if (env.has_probe_data()) return AgentAction::kProbeData;
  return AgentAction::kRefuse;
}

Status checkFault(const wire::FaultCommand& f) {
  switch (f.kind()) {
    case wire::FaultCommand::KIND_SLOWDOWN:
      return within("slowdown", f.slowdown(), 1, kMaxSlowdown);
    case wire::FaultCommand::KIND_LINK:
      if (auto st = within("delay_ms", f.delay_ms(), 0, kMaxLinkDelayMs); !st) return st;
      if (auto st = within("jitter_ms", f.jitter_ms(), 0, kMaxLinkDelayMs); !st) return st;
      if (auto st = within("bandwidth_mbps", f.bandwidth_mbps(), 0, kMaxBandwidthMbps); !st) {
        return st;
      }
      if (f.bandwidth_mbps() > 0 && f.bandwidth_mbps() < kMinBandwidthMbps) {
        return invalidArgument("fault command: bandwidth_mbps " + num(f.bandwidth_mbps()) +
                               " is below the smallest cap, " + num(kMinBandwidthMbps) +
                               " (0 = unlimited)");
      }
      if (!(f.drop_probability() >= 0 && f.drop_probability() < 1)) {
        return invalidArgument("fault command: drop_probability " + num(f.drop_probability()) +
                               " is outside [0, 1)");
      }
      return Status::ok();
    case wire::FaultCommand::KIND_FREEZE:
      if (!(f.freeze_s() > 0)) {
        return invalidArgument("fault command: freeze_s " + num(f.freeze_s()) + " must be above 0");
      }
      return within("freeze_s", f.freeze_s(), 0, kMaxFreezeS);
    case wire::FaultCommand::KIND_CRASH:
    case wire::FaultCommand::KIND_CLEAR:
      return Status::ok();
    default:
      return invalidArgument("fault command of unknown kind " +
                             std::to_string(static_cast<int>(f.kind())));
  }
}

bridge::LinkShape linkShapeOf(const wire::FaultCommand& f) {
  bridge::LinkShape shape;
  shape.delay_ms = f.delay_ms();
  shape.jitter_ms = f.jitter_ms();
  shape.bandwidth_mbps = f.bandwidth_mbps();
  shape.drop_probability = f.drop_probability();
  return shape;
}

std::chrono::steady_clock::duration freezeLengthOf(const wire::FaultCommand& f) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(f.freeze_s()));
}

Status checkProbeRequest(const wire::ProbeRequest& p) {
  if (p.chunks() < 2 || p.chunks() > kMaxProbeChunks) {
    return invalidArgument("probe request refused: " + std::to_string(p.chunks()) +
                           " chunks (2 to " + std::to_string(kMaxProbeChunks) + ")");
  }
  if (p.chunk_bytes() == 0 || p.chunk_bytes() > kMaxProbeChunkBytes) {
    return invalidArgument("probe request refused: chunks of " + std::to_string(p.chunk_bytes()) +
                           " bytes (1 to " + std::to_string(kMaxProbeChunkBytes) + ")");
  }
  const uint64_t burst = uint64_t{p.chunks()} * p.chunk_bytes();
  if (burst > kMaxProbeBurstBytes) {
    return invalidArgument("probe request refused: a burst of " + std::to_string(burst) +
                           " bytes (at most " + std::to_string(kMaxProbeBurstBytes) + ")");
  }
  std::vector<bool> seen(static_cast<size_t>(p.peers_size()), false);
  for (int t : p.targets()) {
    if (t < 0 || t >= p.peers_size() || t == p.device() || seen[static_cast<size_t>(t)]) {
      return invalidArgument("probe request refused: target device " + std::to_string(t) + " of " +
                             std::to_string(p.peers_size()) + " (another device, once)");
    }
    seen[static_cast<size_t>(t)] = true;
  }
  return Status::ok();
}

}  // namespace edgerig
