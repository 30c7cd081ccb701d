// Framing: a frame is a 4-byte big-endian length, then one serialized Envelope.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "device_bridge/status.h"
#include "edgerig.pb.h"

namespace edgerig::bridge {

inline constexpr size_t kFrameHeaderBytes = 4;

// The whole frame (header + body) in one string, so it can be written with one call.
// Stamps protocol_version with kProtocolVersion if it is 0, without copying `env`.
std::string encodeFrame(const wire::Envelope& env);
uint32_t decodeLength(const uint8_t header[4]);
// Parses a frame body. Checks only that it is a well-formed Envelope; version and body checks
// are the session's, because each maps to its own wire error.
Result<wire::Envelope> decodeBody(std::string_view body);

}  // namespace edgerig::bridge
