#include "device_bridge/bulk_frame.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include "device_bridge/frame.h"
#include "device_bridge/protocol.h"

namespace edgerig::bridge {

namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

constexpr int kTensorDataField = wire::TensorBlob::kDataFieldNumber;

// The tensor field's number inside each bulk body, or 0 for other bodies.
int tensorFieldOf(int body_field) {
  switch (body_field) {
    case wire::Envelope::kPayloadFieldNumber:
      return wire::Payload::kTensorFieldNumber;
    case wire::Envelope::kActivationsFieldNumber:
      return wire::Activations::kTensorFieldNumber;
    case wire::Envelope::kGradientsFieldNumber:
      return wire::Gradients::kTensorFieldNumber;
    default:
      return 0;
  }
}

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

// Takes the tensor out of the body message; the rest of the body is serialized into `rest`.
template <typename Body>
std::unique_ptr<wire::TensorBlob> takeTensor(Body* body, std::string* rest) {
  std::unique_ptr<wire::TensorBlob> tensor(body->release_tensor());
  *rest = body->SerializeAsString();
  return tensor;
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
  const int body_field = static_cast<int>(env.body_case());
  const int tensor_field = tensorFieldOf(body_field);
  const wire::TensorBlob* blob = nullptr;
  if (env.has_payload() && env.payload().has_tensor()) blob = &env.payload().tensor();
  if (env.has_activations() && env.activations().has_tensor()) blob = &env.activations().tensor();
  if (env.has_gradients() && env.gradients().has_tensor()) blob = &env.gradients().tensor();
  if (tensor_field == 0 || blob == nullptr || blob->data().size() < kBulkThresholdBytes) {
    return {encodeFrame(env), {}};
  }
  std::string rest;
  std::unique_ptr<wire::TensorBlob> tensor;
  if (env.has_payload()) tensor = takeTensor(env.mutable_payload(), &rest);
  if (env.has_activations()) tensor = takeTensor(env.mutable_activations(), &rest);
  if (env.has_gradients()) tensor = takeTensor(env.mutable_gradients(), &rest);

  SplitFrame out;
  out.bulk.swap(*tensor->mutable_data());  // the tensor bytes are never copied
  const std::string blob_meta = tensor->SerializeAsString();
  const uint64_t data_len = out.bulk.size();
  const uint64_t blob_len = blob_meta.size() + lengthFieldSize(kTensorDataField, data_len);
  const uint64_t body_len = rest.size() + lengthFieldSize(tensor_field, blob_len);
  const uint32_t version = env.protocol_version() != 0 ? env.protocol_version() : kProtocolVersion;

  std::string& h = out.head;
  h.reserve(64 + rest.size() + blob_meta.size());
  h.resize(kFrameHeaderBytes);
  appendVarint(h, WireFormatLite::MakeTag(wire::Envelope::kProtocolVersionFieldNumber,
                                          WireFormatLite::WIRETYPE_VARINT));
  appendVarint(h, version);
  appendLengthTag(h, body_field, body_len);
  h += rest;
  appendLengthTag(h, tensor_field, blob_len);
  h += blob_meta;
  appendLengthTag(h, kTensorDataField, data_len);
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
  // Envelope level: the first bulk body, which must run to the end of the frame.
  for (;;) {
    const int tag_pos = in.CurrentPosition();
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return std::nullopt;
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    if (tensorFieldOf(field) != 0 &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t length = 0;
      if (!in.ReadVarint32(&length)) return std::nullopt;
      layout.body_field = field;
      layout.envelope_end = static_cast<size_t>(tag_pos);
      layout.parent_begin = static_cast<size_t>(in.CurrentPosition());
      if (layout.parent_begin + length != body_size) return std::nullopt;
      break;
    }
    if (!WireFormatLite::SkipField(&in, tag)) return std::nullopt;
  }
  int tag_pos = 0;
  uint32_t length = 0;
  if (!seekField(in, tensorFieldOf(layout.body_field), &tag_pos, &length)) return std::nullopt;
  layout.parent_end = static_cast<size_t>(tag_pos);
  layout.blob_begin = static_cast<size_t>(in.CurrentPosition());
  if (layout.blob_begin + length != body_size) return std::nullopt;
  if (!seekField(in, kTensorDataField, &tag_pos, &length)) return std::nullopt;
  layout.blob_end = static_cast<size_t>(tag_pos);
  layout.data_offset = static_cast<size_t>(in.CurrentPosition());
  if (layout.data_offset + length != body_size || length < kBulkThresholdBytes) {
    return std::nullopt;
  }
  return layout;
}

std::string* bulkDataOf(wire::Envelope& env) {
  if (env.has_payload() && env.payload().has_tensor()) {
    return env.mutable_payload()->mutable_tensor()->mutable_data();
  }
  if (env.has_activations() && env.activations().has_tensor()) {
    return env.mutable_activations()->mutable_tensor()->mutable_data();
  }
  if (env.has_gradients() && env.gradients().has_tensor()) {
    return env.mutable_gradients()->mutable_tensor()->mutable_data();
  }
  return nullptr;
}

Result<wire::Envelope> assembleBulk(std::string_view prefix, const BulkLayout& layout,
                                    std::string&& data) {
  const auto bad = [&] {
    return invalidArgument("frame with a " + std::to_string(data.size()) +
                           "-byte tensor has a malformed header; check that the peer is an "
                           "edgerig process");
  };
  if (prefix.size() < layout.data_offset) return bad();
  wire::Envelope env;
  if (!mergeSegment(&env, prefix.substr(0, layout.envelope_end))) return bad();
  const auto parent = prefix.substr(layout.parent_begin, layout.parent_end - layout.parent_begin);
  const auto blob = prefix.substr(layout.blob_begin, layout.blob_end - layout.blob_begin);
  wire::TensorBlob* tensor = nullptr;
  switch (layout.body_field) {
    case wire::Envelope::kPayloadFieldNumber:
      if (!mergeSegment(env.mutable_payload(), parent)) return bad();
      tensor = env.mutable_payload()->mutable_tensor();
      break;
    case wire::Envelope::kActivationsFieldNumber:
      if (!mergeSegment(env.mutable_activations(), parent)) return bad();
      tensor = env.mutable_activations()->mutable_tensor();
      break;
    case wire::Envelope::kGradientsFieldNumber:
      if (!mergeSegment(env.mutable_gradients(), parent)) return bad();
      tensor = env.mutable_gradients()->mutable_tensor();
      break;
    default:
      return bad();
  }
  if (!mergeSegment(tensor, blob)) return bad();
  *tensor->mutable_data() = std::move(data);
  return env;
}

}  // namespace edgerig::bridge
