// The largest fault an emulation takes. Beyond these a number is a typo or an attack, and some
// (a freeze of 1e300 s, a slowdown of 1e300) would overflow the clocks that emulate them. The
// experiment checks them (experiment.cpp), and the agent checks them again on every fault
// command it is sent (core/agent/agent_dispatch.h), whoever sent it.
#pragma once

namespace edgerig {

inline constexpr double kMaxSlowdown = 1000;        // × native compute time
inline constexpr double kMaxFreezeS = 3600;         // one hour
inline constexpr double kMaxLinkDelayMs = 60000;    // delay and jitter, each
inline constexpr double kMaxBandwidthMbps = 1e6;    // 1 Tbit/s; 0 = unlimited
inline constexpr double kMinBandwidthMbps = 0.001;  // 1 kbit/s, the smallest cap

}  // namespace edgerig
