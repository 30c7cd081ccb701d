// Pre-shared-token authentication: HMAC-SHA256 over a fresh nonce, so the token itself never
// crosses the wire, plus reading and writing the token file.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "device_bridge/status.h"

namespace edgerig::bridge {

inline constexpr size_t kNonceBytes = 32;

std::string hmacSha256(std::string_view key, std::string_view message);  // 32 raw bytes
std::string randomBytes(size_t n);  // cryptographically strong (RAND_bytes)
std::string randomToken();          // 64 hex chars
bool constantTimeEqual(std::string_view a, std::string_view b);
// Trims trailing whitespace; errors name the path (missing, unreadable, empty).
Result<std::string> readTokenFile(const std::string& path);
Status writeTokenFile(const std::string& path, const std::string& token);  // mode 0600

}  // namespace edgerig::bridge
