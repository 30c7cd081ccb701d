#include "device_bridge/frame.h"

#include <google/protobuf/io/coded_stream.h>

#include "device_bridge/protocol.h"

namespace edgerig::bridge {

namespace {

void putBigEndian(uint32_t v, char* out) {
  out[0] = static_cast<char>((v >> 24) & 0xff);
  out[1] = static_cast<char>((v >> 16) & 0xff);
  out[2] = static_cast<char>((v >> 8) & 0xff);
  out[3] = static_cast<char>(v & 0xff);
}

}  // namespace

std::string encodeFrame(const wire::Envelope& env) {
  // A proto3 zero is not serialized, so when the version is unset we can prepend field 1
  // ourselves instead of copying a possibly huge envelope just to set it.
  const bool stamp = env.protocol_version() == 0;
  const size_t stamp_bytes =
      stamp ? 1 + google::protobuf::io::CodedOutputStream::VarintSize32(kProtocolVersion) : 0;
  const size_t body = env.ByteSizeLong();
  std::string frame;
  frame.resize(kFrameHeaderBytes + stamp_bytes + body);
  putBigEndian(static_cast<uint32_t>(stamp_bytes + body), frame.data());
  auto* out = reinterpret_cast<uint8_t*>(frame.data() + kFrameHeaderBytes);
  if (stamp) {
    out = google::protobuf::io::CodedOutputStream::WriteTagToArray(
        wire::Envelope::kProtocolVersionFieldNumber << 3, out);
    out = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(kProtocolVersion, out);
  }
  env.SerializeWithCachedSizesToArray(out);
  return frame;
}

uint32_t decodeLength(const uint8_t header[4]) {
  return (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16) | (uint32_t{header[2]} << 8) |
         uint32_t{header[3]};
}

Result<wire::Envelope> decodeBody(std::string_view body) {
  wire::Envelope env;
  if (body.size() > static_cast<size_t>(INT32_MAX) ||
      !env.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return invalidArgument("frame body of " + std::to_string(body.size()) +
                           " bytes is not a valid edgerig Envelope (garbage, truncated, or "
                           "another protocol); check that the peer is an edgerig process");
  }
  return env;
}

}  // namespace edgerig::bridge
