// Tensor frames without copies: the split encoding is an ordinary valid frame, and the
// receiver's layout walk plus assembly gives back exactly the message that was sent.
#include <gtest/gtest.h>

#include "device_bridge/bulk_frame.h"
#include "device_bridge/frame.h"
#include "device_bridge/protocol.h"

namespace edgerig::bridge {
namespace {

std::string pattern(size_t bytes, int seed) {
  std::string s(bytes, '\0');
  for (size_t i = 0; i < bytes; ++i) s[i] = static_cast<char>((i * 31 + seed) & 0xff);
  return s;
}

void fill(wire::TensorBlob* t, size_t bytes, int seed) {
  t->add_shape(static_cast<int64_t>(bytes / 4));
  t->add_shape(1);
  t->set_dtype(wire::DTYPE_FLOAT32);
  t->set_data(pattern(bytes, seed));
}

std::vector<wire::Envelope> samples(size_t bytes) {
  std::vector<wire::Envelope> out(3);
  fill(out[0].mutable_payload()->mutable_tensor(), bytes, 1);
  auto* a = out[1].mutable_activations();
  a->set_iteration(12);
  a->set_micro_batch(3);
  a->set_mode(wire::STEP_MODE_TRAIN);
  fill(a->mutable_tensor(), bytes, 2);
  fill(a->mutable_labels(), 2048, 3);  // labels travel too, ahead of the tensor on the wire
  auto* g = out[2].mutable_gradients();
  g->set_iteration(-5);
  fill(g->mutable_tensor(), bytes, 4);
  return out;
}

std::string joined(const SplitFrame& f) { return f.head + f.bulk; }

TEST(BulkFrame, SplitFrameIsAValidFrameOfTheSameMessage) {
  for (wire::Envelope env : samples(300000)) {
    wire::Envelope expected = env;
    expected.set_protocol_version(kProtocolVersion);
    const SplitFrame f = encodeSplitFrame(std::move(env));
    EXPECT_EQ(f.bulk.size(), 300000u);
    EXPECT_LT(f.head.size(), 4096u);
    const std::string frame = joined(f);
    EXPECT_EQ(decodeLength(reinterpret_cast<const uint8_t*>(frame.data())),
              frame.size() - kFrameHeaderBytes);
    EXPECT_EQ(frame.size(), kFrameHeaderBytes + expected.ByteSizeLong());
    auto decoded = decodeBody(std::string_view(frame).substr(kFrameHeaderBytes));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->SerializeAsString(), expected.SerializeAsString());
  }
}

TEST(BulkFrame, SmallOrOtherMessagesAreNotSplit) {
  wire::Envelope small;
  fill(small.mutable_payload()->mutable_tensor(), 1000, 1);
  const std::string plain = encodeFrame(small);
  SplitFrame f = encodeSplitFrame(std::move(small));
  EXPECT_TRUE(f.bulk.empty());
  EXPECT_EQ(f.head, plain);

  wire::Envelope state;  // weights, but not a bulk body: stays one buffer
  auto* t = state.mutable_state_reply()->mutable_state()->add_tensors();
  fill(t->mutable_tensor(), 200000, 5);
  EXPECT_TRUE(encodeSplitFrame(std::move(state)).bulk.empty());
}

TEST(BulkFrame, ReceiverFindsTheTensorAndAssemblesTheMessage) {
  for (wire::Envelope env : samples(500000)) {
    wire::Envelope expected = env;
    expected.set_protocol_version(kProtocolVersion);
    const std::string frame = joined(encodeSplitFrame(std::move(env)));
    const std::string_view body = std::string_view(frame).substr(kFrameHeaderBytes);
    auto layout = findBulkLayout(body.substr(0, kBulkProbeBytes), body.size());
    ASSERT_TRUE(layout.has_value());
    EXPECT_EQ(body.size() - layout->data_offset, 500000u);
    std::string data(body.substr(layout->data_offset));
    auto assembled = assembleBulk(body.substr(0, layout->data_offset), *layout, std::move(data));
    ASSERT_TRUE(assembled) << assembled.status().message();
    EXPECT_EQ(assembled->SerializeAsString(), expected.SerializeAsString());
  }
}

TEST(BulkFrame, CanonicalEncodingWithFieldsAfterTheTensorFallsBack) {
  // Protobuf's own encoding puts labels (field 5) after the tensor (field 4): the tensor does
  // not end the frame, so the receiver must parse normally rather than split.
  wire::Envelope env = samples(300000)[1];
  const std::string frame = encodeFrame(env);
  const std::string_view body = std::string_view(frame).substr(kFrameHeaderBytes);
  EXPECT_FALSE(findBulkLayout(body.substr(0, kBulkProbeBytes), body.size()).has_value());
  // Without labels the canonical encoding ends with the data, and splitting works.
  env.mutable_activations()->clear_labels();
  const std::string frame2 = encodeFrame(env);
  const std::string_view body2 = std::string_view(frame2).substr(kFrameHeaderBytes);
  EXPECT_TRUE(findBulkLayout(body2.substr(0, kBulkProbeBytes), body2.size()).has_value());
}

TEST(BulkFrame, TruncatedOrGarbagePrefixIsNotALayout) {
  const std::string frame = joined(encodeSplitFrame(std::move(samples(300000)[0])));
  const std::string_view body = std::string_view(frame).substr(kFrameHeaderBytes);
  EXPECT_FALSE(findBulkLayout(body.substr(0, 3), body.size()).has_value());
  EXPECT_FALSE(findBulkLayout(body.substr(0, kBulkProbeBytes), body.size() + 1).has_value());
  const std::string garbage(kBulkProbeBytes, '\xff');
  EXPECT_FALSE(findBulkLayout(garbage, 1u << 20).has_value());
  const std::string zeros(kBulkProbeBytes, '\0');
  EXPECT_FALSE(findBulkLayout(zeros, 1u << 20).has_value());
}

}  // namespace
}  // namespace edgerig::bridge
