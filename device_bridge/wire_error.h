// How the typed wire errors (ErrorCode) map to names in logs and to the Status a caller sees.
#pragma once

#include "device_bridge/status.h"
#include "edgerig.pb.h"

namespace edgerig::bridge {

const char* errorCodeName(wire::ErrorCode code);  // "BAD_FRAME", "AUTH_FAILED", ...
StatusCode statusCodeFor(wire::ErrorCode code);
wire::Envelope makeError(wire::ErrorCode code, const std::string& detail);

}  // namespace edgerig::bridge
