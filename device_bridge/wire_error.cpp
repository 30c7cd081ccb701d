#include "device_bridge/wire_error.h"

namespace edgerig::bridge {

const char* errorCodeName(wire::ErrorCode code) {
  switch (code) {
    case wire::ERROR_CODE_BAD_FRAME:
      return "BAD_FRAME";
    case wire::ERROR_CODE_FRAME_TOO_LARGE:
      return "FRAME_TOO_LARGE";
    case wire::ERROR_CODE_VERSION_MISMATCH:
      return "VERSION_MISMATCH";
    case wire::ERROR_CODE_AUTH_FAILED:
      return "AUTH_FAILED";
    case wire::ERROR_CODE_OUT_OF_ORDER:
      return "OUT_OF_ORDER";
    case wire::ERROR_CODE_UNKNOWN_MESSAGE:
      return "UNKNOWN_MESSAGE";
    case wire::ERROR_CODE_BAD_REQUEST:
      return "BAD_REQUEST";
    case wire::ERROR_CODE_INTERNAL:
      return "INTERNAL";
    case wire::ERROR_CODE_TIMEOUT:
      return "TIMEOUT";
    case wire::ERROR_CODE_BUSY:
      return "BUSY";
    case wire::ERROR_CODE_BAD_MAC:
      return "BAD_MAC";
    default:
      return "UNSPECIFIED";
  }
}

StatusCode statusCodeFor(wire::ErrorCode code) {
  switch (code) {
    case wire::ERROR_CODE_VERSION_MISMATCH:
      return StatusCode::kVersionMismatch;
    case wire::ERROR_CODE_AUTH_FAILED:
    case wire::ERROR_CODE_BAD_MAC:
      return StatusCode::kUnauthenticated;
    case wire::ERROR_CODE_BUSY:
      return StatusCode::kUnavailable;
    case wire::ERROR_CODE_OUT_OF_ORDER:
      return StatusCode::kOutOfOrder;
    case wire::ERROR_CODE_TIMEOUT:
      return StatusCode::kTimeout;
    case wire::ERROR_CODE_INTERNAL:
      return StatusCode::kInternal;
    case wire::ERROR_CODE_BAD_FRAME:
    case wire::ERROR_CODE_FRAME_TOO_LARGE:
    case wire::ERROR_CODE_UNKNOWN_MESSAGE:
    case wire::ERROR_CODE_BAD_REQUEST:
      return StatusCode::kInvalidArgument;
    default:
      return StatusCode::kUnavailable;
  }
}

wire::Envelope makeError(wire::ErrorCode code, const std::string& detail) {
  wire::Envelope env;
  env.mutable_error()->set_code(code);
  env.mutable_error()->set_detail(detail);
  return env;
}

}  // namespace edgerig::bridge
