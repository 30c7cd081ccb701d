// What the agent does with each message, by who sent it, and the checks on what a controller
// asks of the agent itself (a fault, a probe). Apart from the runtime and torch-free, so that
// everything a hostile peer or controller controls before it reaches a worker is fuzzed
// (fuzz/fuzz_agent_dispatch.cpp) by the same code the agent runs.
#pragma once

#include <chrono>
#include <cstdint>

#include "device_bridge/link_shaper.h"
#include "device_bridge/status.h"
#include "edgerig.pb.h"

namespace edgerig {

enum class AgentAction {
  kProfile,      // time the model's layers (trainer thread)
  kStartWorker,  // a run's worker starts (trainer thread)
  kDeliver,      // an algorithm message for the worker (trainer thread)
  kUpdatePeers,  // the run's device addresses changed
  kFault,        // emulate a fault (checkFault first)
  kFetchState,   // send the worker's weights to the controller
  kProbe,        // send a bandwidth probe burst (checkProbeRequest first)
  kStopRun,      // the run is over on this agent
  kProbeData,    // a chunk of a peer's probe burst
  kRefuse,       // does not belong on this session: the session is closed
};

// A message on the controller's session, and on a data link from a peer device.
AgentAction controllerAction(const wire::Envelope& env);
AgentAction peerAction(const wire::Envelope& env);

// Every number of a fault command inside what emulation can do (core/experiment/fault_limits.h,
// the same limits the experiment file has); the error names the field, its value and its range.
Status checkFault(const wire::FaultCommand& f);
// A checked fault's link shape and freeze length.
bridge::LinkShape linkShapeOf(const wire::FaultCommand& f);
std::chrono::steady_clock::duration freezeLengthOf(const wire::FaultCommand& f);

// A probe request the agent can carry out: chunk count and size within the receiver's limits
// (core/agent/probe_receiver.h), a burst of at most kMaxProbeBurstBytes (each burst is queued
// on its link at once), each target another device of the peer list, once.
inline constexpr uint64_t kMaxProbeBurstBytes = 16u << 20;
Status checkProbeRequest(const wire::ProbeRequest& p);

}  // namespace edgerig
