#include "device_bridge/address.h"

#include <charconv>

namespace edgerig::bridge {

std::string HostPort::str() const {
  // Built by appending: GCC 12 warns falsely (-Wrestrict) on "[" + host chains.
  std::string out;
  const bool v6 = host.find(':') != std::string::npos;
  if (v6) out.push_back('[');
  out.append(host);
  if (v6) out.push_back(']');
  out.push_back(':');
  out.append(std::to_string(port));
  return out;
}

Result<HostPort> parseHostPort(std::string_view text) {
  std::string quoted;
  quoted.reserve(text.size() + 2);
  quoted.push_back('\'');
  quoted.append(text);
  quoted.push_back('\'');
  std::string_view host, port;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return invalidArgument("address " + quoted + " is not [ipv6]:port, e.g. [::1]:7000");
    }
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    const size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return invalidArgument("address " + quoted +
                             " has no port; write host:port, e.g. 127.0.0.1:7000");
    }
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return invalidArgument("address " + quoted +
                             " looks like a bare IPv6 address; put it in brackets: [::1]:7000");
    }
  }
  if (host.empty()) {
    return invalidArgument("address " + quoted +
                           " has no host; write host:port, e.g. 127.0.0.1:7000");
  }
  if (host.find_first_of(" \t[]/") != std::string_view::npos) {
    return invalidArgument("address " + quoted + " has an invalid host");
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    return invalidArgument("address " + quoted + " has an invalid port; use a number 0-65535");
  }
  return HostPort{std::string(host), static_cast<uint16_t>(value)};
}

}  // namespace edgerig::bridge
