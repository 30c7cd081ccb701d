// Envelope parsing and dispatch in the agent runtime: a program of Envelopes, each on the
// controller's session or a peer's data link, dispatched by the functions the agent runs
// (core/agent/agent_dispatch.h). What the agent itself carries out is carried out here too:
// a fault that passes checkFault shapes a real LinkShaper and converts its freeze; a probe
// request that passes checkProbeRequest has its burst sized; probe chunks go to one
// ProbeReceiver over the whole program; peer lists are parsed as addresses. Checks beyond
// ASan/UBSan: what checkFault lets through is finite and schedules in order; the receiver never
// holds more open bursts than its limit.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/agent/agent_dispatch.h"
#include "core/agent/probe_receiver.h"
#include "device_bridge/address.h"
#include "device_bridge/link_shaper.h"
#include "fuzz_quiet.h"

using namespace edgerig;

namespace {

void carryOutFault(const wire::FaultCommand& f, std::chrono::steady_clock::time_point now) {
  if (!checkFault(f)) return;
  if (f.kind() == wire::FaultCommand::KIND_FREEZE) {
    const auto length = freezeLengthOf(f);
    if (length.count() < 0) std::abort();  // (a freeze of 1e-300 s is 0 ns: no freeze)
    (void)(now + length);                  // the thaw time: UBSan watches the overflow
  }
  if (f.kind() != wire::FaultCommand::KIND_LINK) return;
  bridge::LinkShaper shaper(7);
  shaper.setShape(linkShapeOf(f));
  (void)shaper.shape().describe();
  auto last = now;
  for (size_t bytes : {size_t{1}, size_t{1} << 16, size_t{64} << 20}) {
    const auto at = shaper.schedule(bytes, now);
    if (at < last) std::abort();  // frames leave in order
    last = at;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ProbeReceiver receiver;
  auto now = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  size_t at = 0;
  while (at + 3 <= size) {
    // A step: [side/peer byte][2-byte length][Envelope bytes].
    const uint8_t who = data[at];
    const size_t len = std::min<size_t>(size - at - 3, data[at + 1] | (data[at + 2] << 8));
    const uint8_t* body = data + at + 3;
    at += 3 + len;
    now += std::chrono::microseconds(137 * (who + 1));
    wire::Envelope env;
    if (!env.ParseFromArray(body, static_cast<int>(len))) continue;
    if (who & 1) {
      switch (controllerAction(env)) {
        case AgentAction::kFault:
          carryOutFault(env.fault(), now);
          break;
        case AgentAction::kProbe:
          if (checkProbeRequest(env.probe_request())) {
            const auto& p = env.probe_request();
            if (uint64_t{p.chunks()} * p.chunk_bytes() > kMaxProbeBurstBytes) std::abort();
          }
          break;
        case AgentAction::kUpdatePeers:
          for (const auto& a : env.peer_addresses().peers()) (void)bridge::parseHostPort(a);
          break;
        default:
          break;
      }
    } else if (peerAction(env) == AgentAction::kProbeData) {
      const std::string peer = "peer" + std::to_string(who >> 1);
      auto r = receiver.onChunk(peer, env.probe_data(), now);
      if (r && *r && !std::isfinite((*r)->seconds())) std::abort();
      if (receiver.openBursts() > kMaxOpenProbeBursts) std::abort();
    }
  }
  return 0;
}
