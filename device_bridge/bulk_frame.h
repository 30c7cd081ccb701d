// Tensor-carrying frames (an AlgoMessage with large bulk data) without copying the tensor bytes:
// the sender writes them from the message's own string, the receiver reads them straight into
// the string the delivered message owns. On the wire they are ordinary frames. The bridge knows
// one bulk form only; what the message means is the algorithm's business.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "device_bridge/status.h"
#include "edgerig.pb.h"

namespace edgerig::bridge {

// Below this a copy is cheaper than the bookkeeping.
inline constexpr size_t kBulkThresholdBytes = 64u << 10;
// How much of a large frame is read first to find where its tensor bytes start.
inline constexpr size_t kBulkProbeBytes = 64u << 10;

// A frame in two parts for one gather write: `head` (4-byte length, the envelope's fields,
// the message's other fields, the data's tag and length) then `bulk`, the bytes moved out of
// the message.
struct SplitFrame {
  std::string head;
  std::string bulk;  // empty when the message carries no large tensor
  size_t size() const { return head.size() + bulk.size(); }
};

// Consumes `env`. Same bytes on the wire as a valid encoding of it (the data field is placed
// last, as canonical encoding does), stamps protocol_version if it is 0.
SplitFrame encodeSplitFrame(wire::Envelope&& env);

// Where the bulk bytes of a frame body start, when they run to its very end (as
// encodeSplitFrame places them). `prefix` is the first bytes of the body, `body_size` its
// full length. nullopt: not such a frame, or the prefix is too short to tell; parse normally.
struct BulkLayout {
  size_t envelope_end = 0;   // [0, envelope_end): envelope fields before the message
  size_t message_begin = 0;  // [message_begin, message_end): message fields before the data
  size_t message_end = 0;
  size_t data_offset = 0;  // data runs from here to body_size
};
std::optional<BulkLayout> findBulkLayout(std::string_view prefix, size_t body_size);

// The bulk bytes of an AlgoMessage envelope, or nullptr when it is not one (never creates the
// message).
std::string* bulkDataOf(wire::Envelope& env);

// Builds the envelope from the prefix (at least layout.data_offset bytes) and the bulk bytes.
Result<wire::Envelope> assembleBulk(std::string_view prefix, const BulkLayout& layout,
                                    std::string&& data);

}  // namespace edgerig::bridge
