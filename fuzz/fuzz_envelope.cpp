// Envelope parsing and the encoders: whatever parses must encode (whole and split, as a
// session sends) to bytes that parse back to the same message.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "device_bridge/bulk_frame.h"
#include "device_bridge/frame.h"
#include "device_bridge/protocol.h"
#include "device_bridge/traffic.h"
#include "fuzz_quiet.h"

using namespace edgerig::bridge;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  edgerig::wire::Envelope env;
  if (!env.ParseFromArray(data, static_cast<int>(size))) return 0;
  (void)kindOf(env);
  edgerig::wire::Envelope stamped = env;
  if (stamped.protocol_version() == 0) stamped.set_protocol_version(kProtocolVersion);
  const std::string whole = encodeFrame(env);
  if (decodeLength(reinterpret_cast<const uint8_t*>(whole.data())) !=
      whole.size() - kFrameHeaderBytes) {
    std::abort();
  }
  auto back = decodeBody(std::string_view(whole).substr(kFrameHeaderBytes));
  if (!back || back->SerializeAsString() != stamped.SerializeAsString()) std::abort();
  SplitFrame split = encodeSplitFrame(edgerig::wire::Envelope(env));
  const std::string joined = split.head + split.bulk;
  auto split_back = decodeBody(std::string_view(joined).substr(kFrameHeaderBytes));
  if (!split_back || split_back->SerializeAsString() != stamped.SerializeAsString()) std::abort();
  return 0;
}
