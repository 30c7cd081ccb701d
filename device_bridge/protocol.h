// Protocol constants shared by every peer: the version stamped into each Envelope and the
// largest frames a peer accepts (before and after authentication) before it allocates anything.
#pragma once

#include <cstdint>

namespace edgerig::bridge {

// Major 2: mutual authentication, session keys, a MAC per frame or TLS (issue 13).
// Minor 1: data links are numbered and acknowledged, and resume after a break (issue 14).
inline constexpr uint32_t kProtocolMajor = 2, kProtocolMinor = 1;
inline constexpr uint32_t kProtocolVersion = kProtocolMajor * 100 + kProtocolMinor;
inline constexpr uint32_t kDefaultMaxFrameBytes = 256u << 20;
// Before authentication: a Hello or an Auth is a few hundred bytes.
inline constexpr uint32_t kDefaultPreauthMaxFrameBytes = 64u << 10;

}  // namespace edgerig::bridge
