// What a broken or hostile peer can send a gossip worker, against the real sparse-push worker in
// a real WorkerHost (driven on this thread): every share is checked on arrival, before it waits
// for its round, and what waits stays bounded. Each refusal reaches the controller as a run
// error that names the sender and what was wrong.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/algorithms/algo_message.h"
#include "core/algorithms/decentralized/sparse_push/sparse_share_check.h"
#include "core/model/tensor_codec.h"
#include "decentralized.pb.h"
#include "tests/support/gossip_device.h"

namespace edgerig {
namespace {

constexpr int kDevices = testsupport::GossipDevice::kDevices;

class OneGossipDevice : public testsupport::GossipDevice {
 protected:
  void SetUp() override { startWorker("sparse-push"); }

  // A share as sparse-push's worker builds it: `indices` into the flat model, one value each.
  wire::AlgoMessage share(int from, int64_t iteration, std::vector<int32_t> indices,
                          double weight = 0.25, int values = -1) {
    decentralized::SparseShare body;
    body.set_iteration(iteration);
    body.set_graph_epoch(1);
    body.set_weight(weight);
    wire::AlgoMessage m = algoMessage(bridge::TrafficKind::kGossip, body);
    m.set_from(from);
    m.set_generation(1);
    const auto n = static_cast<int64_t>(indices.size());
    appendTensor(m, torch::tensor(indices, torch::kInt32));
    appendTensor(m, torch::ones({values < 0 ? n : values}));
    return m;
  }
};

TEST_F(OneGossipDevice, AShareOfTheNextRoundWaitsWithoutAnError) {
  deliver(share(1, 0, {0, 5, 9}));
  EXPECT_EQ(lastError(), "");
}

TEST_F(OneGossipDevice, AnIndexOutsideTheModelIsRefusedOnArrival) {
  // The last parameter is fine; one past it is not, and the error names sender and index.
  deliver(share(1, 0, {0, static_cast<int32_t>(parameters_ - 1)}));
  EXPECT_EQ(lastError(), "");
  deliver(share(2, 0, {3, static_cast<int32_t>(parameters_)}));
  const std::string e = lastError();
  EXPECT_NE(e.find("device 2"), std::string::npos) << e;
  EXPECT_NE(e.find("index " + std::to_string(parameters_)), std::string::npos) << e;
}

TEST_F(OneGossipDevice, AWeightThatCannotDivideIsRefused) {
  for (double w : {0.0, -0.5, std::numeric_limits<double>::quiet_NaN(),
                   std::numeric_limits<double>::infinity()}) {
    to_controller_.clear();
    deliver(share(1, 0, {1}, w));
    EXPECT_NE(lastError().find("push-sum weight"), std::string::npos) << w << ": " << lastError();
  }
}

TEST_F(OneGossipDevice, IndicesAndValuesMustPairUp) {
  deliver(share(1, 0, {1, 2, 3}, 0.25, 2));
  EXPECT_NE(lastError().find("3 indices but 2 values"), std::string::npos) << lastError();
}

TEST_F(OneGossipDevice, ASenderOutsideTheGraphIsRefused) {
  deliver(share(kDevices, 0, {1}));
  EXPECT_NE(lastError().find("not a member"), std::string::npos) << lastError();
}

TEST_F(OneGossipDevice, SharesWaitingForTheirRoundAreBoundedAtTwoRounds) {
  // Two rounds' worth (2 × 4 members) may wait; the next distinct one is refused, however
  // many a flooding peer sends, and the error says it is ahead of every round.
  for (int64_t it = 0; it < 2 * kDevices; ++it) deliver(share(1, it, {1}));
  EXPECT_EQ(lastError(), "") << "two rounds' shares are what an honest graph can send";
  deliver(share(1, 2 * kDevices, {1}));
  const std::string e = lastError();
  EXPECT_NE(e.find("ahead of every round"), std::string::npos) << e;
  EXPECT_NE(e.find("device 1"), std::string::npos) << e;
}

// A compact share (decentralized.proto, SparseShare): varint gaps and float16 values, no tensors.
wire::AlgoMessage compactShare(const std::string& gaps, const std::string& halves, int from = 1) {
  decentralized::SparseShare body;
  body.set_weight(0.5);
  body.set_graph_epoch(1);
  body.set_gaps(gaps);
  body.set_halves(halves);
  wire::AlgoMessage m = algoMessage(bridge::TrafficKind::kGossip, body);
  m.set_from(from);
  m.set_generation(1);
  return m;
}

std::string ones(int n) {  // n float16 1.0s, little-endian
  std::string s;
  for (int i = 0; i < n; ++i) s += std::string("\x00\x3c", 2);
  return s;
}

TEST_F(OneGossipDevice, ACompactShareIsTakenAndABadOneRefusedOnArrival) {
  const int32_t last = static_cast<int32_t>(parameters_ - 1);
  const int32_t offsets[] = {0, 5, last};
  deliver(compactShare(encodeOffsetGaps(offsets, 3), ones(3)));
  EXPECT_EQ(lastError(), "");
  const int32_t past[] = {0, static_cast<int32_t>(parameters_)};
  deliver(compactShare(encodeOffsetGaps(past, 2), ones(2), 2));
  const std::string e = lastError();
  EXPECT_NE(e.find("device 2"), std::string::npos) << e;
  EXPECT_NE(e.find("offset " + std::to_string(parameters_)), std::string::npos) << e;
}

TEST(SparseShareCheck, ACompactShareIsDecodedAndEveryBadFieldNamed) {
  // Offsets 0, 5, 205: gaps 1, 5 and 200 (a two-byte varint).
  const int32_t offsets[] = {0, 5, 205};
  const std::string gaps = encodeOffsetGaps(offsets, 3);
  EXPECT_EQ(gaps, std::string("\x01\x05\xc8\x01", 4));
  auto good = checkSparseShare(compactShare(gaps, ones(3)), 206);
  ASSERT_TRUE(good.isOk()) << good.status().message();
  EXPECT_TRUE(good->compact);
  EXPECT_EQ(good->offsets, (std::vector<int32_t>{0, 5, 205}));
  EXPECT_EQ(good->halves, (std::vector<uint16_t>{0x3c00, 0x3c00, 0x3c00}));

  const auto refused = [](const wire::AlgoMessage& m, int64_t parameters, const std::string& why) {
    auto r = checkSparseShare(m, parameters);
    ASSERT_FALSE(r.isOk()) << why;
    EXPECT_NE(r.status().message().find(why), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("from device 1"), std::string::npos);
  };
  refused(compactShare(gaps, ones(3)), 205, "has offset 205 at entry 2; this model has 205");
  refused(compactShare(std::string("\x01\x00", 2), ones(2)), 100, "repeats offset 0");
  refused(compactShare("\x01\x80", ones(2)), 100, "cut off at byte 2");
  refused(compactShare("\x81\x80\x80\x80\x80\x01", ones(1)), 100, "longer than five bytes");
  refused(compactShare("\x01\x01", ones(2) + "x"), 100, "5 bytes of float16 values, an odd count");
  refused(compactShare("\x01\x01", ones(3)), 100, "has 3 values but only 2 bytes of offset gaps");
  refused(compactShare("\x01\x01\x01", ones(2)), 100, "more offsets than its 2 values");
  refused(compactShare("\x01\x81\x01", ones(3)), 1000, "has 2 offsets but 3 values");
  refused(compactShare(std::string(11, '\x01'), ones(11)), 10, "has 11 entries; this model has 10");
  wire::AlgoMessage both = compactShare("\x01", ones(1));
  appendTensor(both, torch::tensor(std::vector<int32_t>{0}, torch::kInt32));
  appendTensor(both, torch::ones({1}));
  refused(both, 100, "carries both compact entries and 2 tensors");
}

TEST(SparseShareCheck, TheMessageLayoutIsCheckedBeforeAnyTensorIsMade) {
  decentralized::SparseShare body;
  body.set_weight(0.5);
  wire::AlgoMessage m = algoMessage(bridge::TrafficKind::kGossip, body);
  auto* idx = m.add_tensors();
  idx->set_dtype(wire::DTYPE_INT32);
  idx->add_shape(int64_t{1} << 40);  // 4 TiB of indices announced, 8 bytes sent
  auto* val = m.add_tensors();
  val->set_dtype(wire::DTYPE_FLOAT32);
  val->add_shape(1);
  m.set_data(std::string(8, '\0'));
  auto r = checkSparseShare(m, 100);
  ASSERT_FALSE(r.isOk());
  EXPECT_NE(r.status().message().find("truncated"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace edgerig
