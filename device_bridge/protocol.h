// Protocol constants shared by every peer: the version stamped into each Envelope and the
// largest frame a peer accepts before it allocates anything.
#pragma once

#include <cstdint>

namespace edgerig::bridge {

inline constexpr uint32_t kProtocolMajor = 1, kProtocolMinor = 0;
inline constexpr uint32_t kProtocolVersion = kProtocolMajor * 100 + kProtocolMinor;
inline constexpr uint32_t kDefaultMaxFrameBytes = 256u << 20;

}  // namespace edgerig::bridge
