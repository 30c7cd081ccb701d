// Frame decoding, both readers a session has: the plain one (decodeBody) and the split one that
// probes a large frame for its tensor bytes (findBulkLayout + assembleBulk). The input is one
// frame body. Whenever the split reader takes a frame, it must yield exactly what the plain
// reader yields (a differential check, not only "no crash"), compared as serialized bytes
// (a NaN double is not equal to itself, yet the message is the same).
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "device_bridge/bulk_frame.h"
#include "device_bridge/frame.h"
#include "fuzz_quiet.h"

using namespace edgerig::bridge;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  if (size >= kFrameHeaderBytes) (void)decodeLength(data);
  auto plain = decodeBody(body);
  if (plain) (void)encodeFrame(*plain);
  // The session probes the first kBulkProbeBytes of a large frame; here any prefix length the
  // input picks (its first byte), so that short inputs reach the same code.
  for (const size_t probe : {std::min(size, kBulkProbeBytes), size / 2}) {
    const std::string_view prefix = body.substr(0, probe);
    const auto layout = findBulkLayout(prefix, size);
    if (!layout) continue;
    // What the session relies on before it copies: the layout lies inside the probe.
    if (layout->data_offset > prefix.size() || layout->envelope_end > layout->message_begin ||
        layout->message_begin > layout->message_end || layout->message_end > layout->data_offset) {
      std::abort();
    }
    auto assembled = assembleBulk(body.substr(0, layout->data_offset), *layout,
                                  std::string(body.substr(layout->data_offset)));
    if (plain && assembled && plain->SerializeAsString() != assembled->SerializeAsString()) {
      std::abort();  // the split reader delivered another message than the plain one
    }
    if (!plain && assembled) std::abort();  // the split reader took a frame the plain refuses
  }
  return 0;
}
