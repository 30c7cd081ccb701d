// Tensor-carrying frames (Payload, Activations, Gradients) without copying the tensor bytes:
// the sender writes them from the message's own string, the receiver reads them straight into
// the string the delivered message owns. On the wire they are ordinary frames.
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
// the tensor data's tag and length) then `bulk`, the tensor bytes moved out of the message.
struct SplitFrame {
  std::string head;
  std::string bulk;  // empty when the message carries no large tensor
  size_t size() const { return head.size() + bulk.size(); }
};

// Consumes `env`. Same bytes on the wire as a valid encoding of it (the tensor field is
// placed last), stamps protocol_version if it is 0.
SplitFrame encodeSplitFrame(wire::Envelope&& env);

// Where the tensor bytes of a frame body start, when they run to its very end (as
// encodeSplitFrame places them). `prefix` is the first bytes of the body, `body_size` its
// full length. nullopt: not such a frame, or the prefix is too short to tell; parse normally.
struct BulkLayout {
  int body_field = 0;       // Envelope field number: payload, activations or gradients
  size_t envelope_end = 0;  // [0, envelope_end): envelope fields before the body
  size_t parent_begin = 0;  // [parent_begin, parent_end): body fields before the tensor
  size_t parent_end = 0;
  size_t blob_begin = 0;  // [blob_begin, blob_end): TensorBlob fields before data
  size_t blob_end = 0;
  size_t data_offset = 0;  // data runs from here to body_size
};
std::optional<BulkLayout> findBulkLayout(std::string_view prefix, size_t body_size);

// The tensor bytes of a Payload, Activations or Gradients envelope, or nullptr when it has
// none (never creates the field).
std::string* bulkDataOf(wire::Envelope& env);

// Builds the envelope from the prefix (at least layout.data_offset bytes) and the tensor bytes.
Result<wire::Envelope> assembleBulk(std::string_view prefix, const BulkLayout& layout,
                                    std::string&& data);

}  // namespace edgerig::bridge
