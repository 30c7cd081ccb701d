// Framing and traffic classification: round trips, version stamping, garbage bodies.
#include <gtest/gtest.h>

#include <random>

#include "device_bridge/frame.h"
#include "device_bridge/protocol.h"
#include "device_bridge/traffic.h"

namespace edgerig::bridge {
namespace {

wire::Envelope bigPayload(size_t bytes, uint32_t seed) {
  wire::Envelope env;
  auto* t = env.mutable_algo()->add_tensors();
  t->add_shape(static_cast<int64_t>(bytes / 4));
  t->set_dtype(wire::DTYPE_FLOAT32);
  std::string data(bytes, '\0');
  std::mt19937 rng(seed);
  for (auto& c : data) c = static_cast<char>(rng() & 0xff);
  env.mutable_algo()->set_data(std::move(data));
  return env;
}

TEST(Frame, RoundTripStampsVersionAndKeepsContent) {
  wire::Envelope env;
  env.mutable_metrics()->set_iteration(42);
  env.mutable_metrics()->add_traffic()->set_peer("dev7");
  const std::string frame = encodeFrame(env);
  ASSERT_GE(frame.size(), kFrameHeaderBytes);
  EXPECT_EQ(decodeLength(reinterpret_cast<const uint8_t*>(frame.data())),
            frame.size() - kFrameHeaderBytes);
  auto decoded = decodeBody(std::string_view(frame).substr(kFrameHeaderBytes));
  ASSERT_TRUE(decoded) << decoded.status().message();
  EXPECT_EQ(decoded->protocol_version(), kProtocolVersion);
  EXPECT_EQ(decoded->metrics().iteration(), 42);
  EXPECT_EQ(decoded->metrics().traffic(0).peer(), "dev7");
  // Prepending the version must give the same bytes as serializing a stamped copy.
  wire::Envelope stamped = env;
  stamped.set_protocol_version(kProtocolVersion);
  EXPECT_EQ(frame.substr(kFrameHeaderBytes), stamped.SerializeAsString());
}

TEST(Frame, ExplicitVersionIsKept) {
  wire::Envelope env;
  env.set_protocol_version(205);
  env.mutable_fetch_state();
  const std::string frame = encodeFrame(env);
  auto decoded = decodeBody(std::string_view(frame).substr(kFrameHeaderBytes));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->protocol_version(), 205u);
}

TEST(Frame, SixteenMiBTensorRoundTrip) {
  const size_t bytes = 16u << 20;
  const wire::Envelope env = bigPayload(bytes, 3);
  const std::string frame = encodeFrame(env);
  EXPECT_GT(frame.size(), bytes);
  auto decoded = decodeBody(std::string_view(frame).substr(kFrameHeaderBytes));
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->algo().data(), env.algo().data());
  EXPECT_EQ(decoded->algo().tensors(0).shape(0), static_cast<int64_t>(bytes / 4));
}

TEST(Frame, DecodeLengthIsBigEndian) {
  const uint8_t header[4] = {0x01, 0x02, 0x03, 0x04};
  EXPECT_EQ(decodeLength(header), 0x01020304u);
  const uint8_t max[4] = {0xff, 0xff, 0xff, 0xff};
  EXPECT_EQ(decodeLength(max), 0xffffffffu);
}

TEST(Frame, GarbageBodyIsAnErrorThatSaysWhat) {
  const std::string garbage(16, '\xff');
  auto decoded = decodeBody(garbage);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(decoded.status().message().find("16 bytes"), std::string::npos);
  EXPECT_NE(decoded.status().message().find("not a valid edgerig Envelope"), std::string::npos);
}

TEST(Frame, EmptyBodyDecodesToEnvelopeWithoutBody) {
  auto decoded = decodeBody("");
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->body_case(), wire::Envelope::BODY_NOT_SET);
}

TEST(Traffic, KindOfIsWhatTheSenderStamped) {
  wire::Envelope e;
  for (size_t k = 0; k < kTrafficKindCount; ++k) {
    e.mutable_algo()->set_kind(static_cast<uint32_t>(k));
    // A heartbeat or a probe burst is the bridge's own; no algorithm message can claim to be one.
    const TrafficKind want =
        TrafficKind(k) == TrafficKind::kHeartbeat || TrafficKind(k) == TrafficKind::kProbe
            ? TrafficKind::kControl
            : TrafficKind(k);
    EXPECT_EQ(kindOf(e), want) << k;
  }
  e.mutable_algo()->set_kind(999);  // out of range: control, never an out-of-bounds index
  EXPECT_EQ(kindOf(e), TrafficKind::kControl);
  e.mutable_state_reply();
  EXPECT_EQ(kindOf(e), TrafficKind::kWeights);
  e.mutable_heartbeat();
  EXPECT_EQ(kindOf(e), TrafficKind::kHeartbeat);
  e.mutable_heartbeat_ack();
  EXPECT_EQ(kindOf(e), TrafficKind::kHeartbeat);
  e.mutable_probe_data()->set_seq(1);
  EXPECT_EQ(kindOf(e), TrafficKind::kProbe);
  e.mutable_worker_start()->set_device(1);
  EXPECT_EQ(kindOf(e), TrafficKind::kControl);
  e.mutable_worker_start()->mutable_initial_state()->add_tensors()->set_name("w");
  EXPECT_EQ(kindOf(e), TrafficKind::kWeights);
  e.mutable_fetch_state();
  EXPECT_EQ(kindOf(e), TrafficKind::kControl);
  e.mutable_hello();
  EXPECT_EQ(kindOf(e), TrafficKind::kControl);
  EXPECT_EQ(kindOf(wire::Envelope{}), TrafficKind::kControl);
}

TEST(Traffic, KindNamesAreTheOneList) {
  EXPECT_EQ(trafficKindName(TrafficKind::kControl), "control");
  EXPECT_EQ(trafficKindName(TrafficKind::kActivation), "activation");
  EXPECT_EQ(trafficKindName(TrafficKind::kGradient), "gradient");
  EXPECT_EQ(trafficKindName(TrafficKind::kWeights), "weights");
  EXPECT_EQ(trafficKindName(TrafficKind::kGossip), "gossip");
  EXPECT_EQ(trafficKindName(TrafficKind::kReplica), "replica");
  EXPECT_EQ(trafficKindName(TrafficKind::kHeartbeat), "heartbeat");
  EXPECT_EQ(trafficKindName(TrafficKind::kProbe), "probe");
  for (size_t k = 0; k < kTrafficKindCount; ++k) {
    EXPECT_EQ(trafficKindFromName(kTrafficKindNames[k]), TrafficKind(k));
  }
  EXPECT_FALSE(trafficKindFromName("activations").has_value());
}

TEST(Traffic, CountersAddUp) {
  TrafficCounters a, b;
  a.sent[0] = 10;
  a.received[2] = 5;
  b.sent[0] = 1;
  b.sent[4] = 2;
  b.received[1] = 7;
  a += b;
  EXPECT_EQ(a.sent[0], 11u);
  EXPECT_EQ(a.totalSent(), 13u);
  EXPECT_EQ(a.totalReceived(), 12u);
}

}  // namespace
}  // namespace edgerig::bridge
