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

// An algorithm message with one tensor of `bytes` (and more metadata fields before the data).
void fill(wire::AlgoMessage* m, size_t bytes, int seed) {
  auto* t = m->add_tensors();
  t->add_shape(static_cast<int64_t>(bytes / 4));
  t->add_shape(1);
  t->set_dtype(wire::DTYPE_FLOAT32);
  m->set_data(pattern(bytes, seed));
}

std::vector<wire::Envelope> samples(size_t bytes) {
  std::vector<wire::Envelope> out(3);
  fill(out[0].mutable_algo(), bytes, 1);
  auto* a = out[1].mutable_algo();
  a->set_kind(1);
  a->set_from(2);
  a->set_generation(7);
  wire::MetricsReport body;  // any message will do as a body: the bridge never looks inside
  body.set_iteration(12);
  a->mutable_body()->PackFrom(body);
  fill(a, bytes, 2);
  a->add_tensors()->add_shape(512);  // a second tensor (the labels) in the same bulk data
  a->mutable_data()->append(pattern(2048, 3));
  // A numbered data link's envelope (core/agent/peer_links.h): its envelope-level fields must
  // survive the split encoding.
  out[1].set_link_id(0x9e3779b97f4a7c15ull);
  out[1].set_link_seq(42);
  auto* g = out[2].mutable_algo();
  g->set_kind(2);
  g->set_from(-1);
  fill(g, bytes, 4);
  return out;
}

std::string joined(const SplitFrame& f) { return f.head + f.bulk; }

TEST(BulkFrame, SplitFrameIsAValidFrameOfTheSameMessage) {
  for (wire::Envelope env : samples(300000)) {
    wire::Envelope expected = env;
    expected.set_protocol_version(kProtocolVersion);
    const SplitFrame f = encodeSplitFrame(std::move(env));
    EXPECT_EQ(f.bulk.size(), expected.algo().data().size());
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
  fill(small.mutable_algo(), 1000, 1);
  const std::string plain = encodeFrame(small);
  SplitFrame f = encodeSplitFrame(std::move(small));
  EXPECT_TRUE(f.bulk.empty());
  EXPECT_EQ(f.head, plain);

  wire::Envelope state;  // weights, but not a bulk body: stays one buffer
  auto* t = state.mutable_state_reply()->mutable_state()->add_tensors();
  t->mutable_tensor()->set_data(pattern(200000, 5));
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
    EXPECT_EQ(body.size() - layout->data_offset, expected.algo().data().size());
    std::string data(body.substr(layout->data_offset));
    auto assembled = assembleBulk(body.substr(0, layout->data_offset), *layout, std::move(data));
    ASSERT_TRUE(assembled) << assembled.status().message();
    EXPECT_EQ(assembled->SerializeAsString(), expected.SerializeAsString());
  }
}

TEST(BulkFrame, FieldsAfterTheDataFallBackToAPlainParse) {
  // Canonical encoding puts the data (field 15) last, so protobuf's own frames split too...
  wire::Envelope env = samples(300000)[1];
  const std::string frame = encodeFrame(env);
  const std::string_view body = std::string_view(frame).substr(kFrameHeaderBytes);
  EXPECT_TRUE(findBulkLayout(body.substr(0, kBulkProbeBytes), body.size()).has_value());
  // ...but a frame where anything follows the data (here an unknown envelope field 99) does not
  // end with it: the receiver must parse it normally rather than split.
  std::string longer(body);
  longer += std::string(
      "\x9a\x06\x03"
      "abc",
      6);  // field 99, length-delimited, "abc"
  EXPECT_FALSE(findBulkLayout(std::string_view(longer).substr(0, kBulkProbeBytes), longer.size())
                   .has_value());
  auto decoded = decodeBody(longer);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->algo().data(), env.algo().data());
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
