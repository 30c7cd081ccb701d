// host:port addresses as users type them: "127.0.0.1:0", "[::1]:7000", "pi.local:7000".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "device_bridge/status.h"

namespace edgerig::bridge {

struct HostPort {
  std::string host;
  uint16_t port = 0;
  std::string str() const;  // brackets an IPv6 host again
};

Result<HostPort> parseHostPort(std::string_view text);

}  // namespace edgerig::bridge
