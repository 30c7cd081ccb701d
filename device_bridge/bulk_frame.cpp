#include "device_bridge/bulk_frame.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include "device_bridge/frame.h"
#include "device_bridge/protocol.h"

namespace edgerig::bridge {

namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

constexpr int kMessageField = wire::Envelope::kAlgoFieldNumber;
constexpr int kDataField = wire::AlgoMessage::kDataFieldNumber;

void appendVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

size_t varintSize(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void appendLengthTag(std::string& out, int field, uint64_t length) {
  appendVarint(out, WireFormatLite::MakeTag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED));
  appendVarint(out, length);
}

size_t lengthFieldSize(int field, uint64_t length) {
  return varintSize(WireFormatLite::MakeTag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED)) +
         varintSize(length) + length;
}

// Walks to the first length-delimited field `field` in [pos, limit) of `in`; returns the tag's
// position and leaves `in` after the length. False when the prefix ends first.
bool seekField(CodedInputStream& in, int field, int* tag_pos, uint32_t* length) {
  for (;;) {
    *tag_pos = in.CurrentPosition();
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return false;
    if (WireFormatLite::GetTagFieldNumber(tag) == field &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      return in.ReadVarint32(length);
    }
    if (!WireFormatLite::SkipField(&in, tag)) return false;
  }
}

bool mergeSegment(google::protobuf::MessageLite* msg, std::string_view bytes) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                      static_cast<int>(bytes.size()));
  return msg->MergePartialFromCodedStream(&in) && in.ConsumedEntireMessage() &&
         msg->IsInitialized();
}

}  // namespace

SplitFrame encodeSplitFrame(wire::Envelope&& env) {
  if (!env.has_algo() || env.algo().data().size() < kBulkThresholdBytes) {
    return {encodeFrame(env), {}};
  }
  SplitFrame out;
  out.bulk.swap(*env.mutable_algo()->mutable_data());       // the bulk bytes are never copied
  const std::string rest = env.algo().SerializeAsString();  // data is empty now: not encoded
  const uint64_t data_len = out.bulk.size();
  const uint64_t message_len = rest.size() + lengthFieldSize(kDataField, data_len);
  if (env.protocol_version() == 0) env.set_protocol_version(kProtocolVersion);
  env.clear_algo();  // serialized above: what is left are the envelope's own fields

  std::string& h = out.head;
  h.reserve(48 + rest.size());
  h.resize(kFrameHeaderBytes);
  // Every envelope-level field (the version, a data link's numbering), in field order, before
  // the message (field 40) as canonical encoding places them.
  env.AppendToString(&h);
  appendLengthTag(h, kMessageField, message_len);
  h += rest;
  appendLengthTag(h, kDataField, data_len);
  const uint64_t total = h.size() - kFrameHeaderBytes + data_len;
  const uint32_t len32 = total > UINT32_MAX ? UINT32_MAX : static_cast<uint32_t>(total);
  h[0] = static_cast<char>(len32 >> 24);
  h[1] = static_cast<char>(len32 >> 16);
  h[2] = static_cast<char>(len32 >> 8);
  h[3] = static_cast<char>(len32);
  return out;
}

std::optional<BulkLayout> findBulkLayout(std::string_view prefix, size_t body_size) {
  if (body_size < kBulkThresholdBytes || prefix.size() > body_size) return std::nullopt;
  CodedInputStream in(reinterpret_cast<const uint8_t*>(prefix.data()),
                      static_cast<int>(prefix.size()));
  BulkLayout layout;
  // Envelope level: the algorithm message, which must run to the end of the frame.
  int tag_pos = 0;
  uint32_t length = 0;
  if (!seekField(in, kMessageField, &tag_pos, &length)) return std::nullopt;
  layout.envelope_end = static_cast<size_t>(tag_pos);
  layout.message_begin = static_cast<size_t>(in.CurrentPosition());
  if (layout.message_begin + length != body_size) return std::nullopt;
  // Message level: the data field, which must run to the end too.
  if (!seekField(in, kDataField, &tag_pos, &length)) return std::nullopt;
  layout.message_end = static_cast<size_t>(tag_pos);
  layout.data_offset = static_cast<size_t>(in.CurrentPosition());
  if (layout.data_offset + length != body_size || length < kBulkThresholdBytes) {
    return std::nullopt;
  }
  return layout;
}

std::string* bulkDataOf(wire::Envelope& env) {
  return env.has_algo() ? env.mutable_algo()->mutable_data() : nullptr;
}

Result<wire::Envelope> assembleBulk(std::string_view prefix, const BulkLayout& layout,
                                    std::string&& data) {
  const auto bad = [&] {
    return invalidArgument("frame with " + std::to_string(data.size()) +
                           " bytes of tensor data has a malformed header; check that the peer is "
                           "an edgerig process");
  };
  if (prefix.size() < layout.data_offset) return bad();
  wire::Envelope env;
  if (!mergeSegment(&env, prefix.substr(0, layout.envelope_end))) return bad();
  if (!mergeSegment(env.mutable_algo(), prefix.substr(layout.message_begin,
                                                      layout.message_end - layout.message_begin))) {
    return bad();
  }
  *env.mutable_algo()->mutable_data() = std::move(data);
  return env;
}

}  // namespace edgerig::bridge
