// The agent's dispatch and its checks on what a controller asks of the agent itself: each
// limit at its edge and one step past it, each refusal naming the field and its range.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "core/agent/agent_dispatch.h"
#include "core/agent/probe_receiver.h"
#include "core/experiment/fault_limits.h"

namespace edgerig {
namespace {

wire::FaultCommand fault(wire::FaultCommand::Kind kind) {
  wire::FaultCommand f;
  f.set_kind(kind);
  return f;
}

std::string refusal(const wire::FaultCommand& f) {
  const Status st = checkFault(f);
  return st.isOk() ? "accepted" : st.message();
}

bool has(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(AgentDispatch, EachSideMayOnlySendItsOwnMessages) {
  wire::Envelope env;
  env.mutable_fault()->set_kind(wire::FaultCommand::KIND_CLEAR);
  EXPECT_EQ(controllerAction(env), AgentAction::kFault);
  EXPECT_EQ(peerAction(env), AgentAction::kRefuse) << "a peer cannot inject faults";
  env.mutable_worker_start();
  EXPECT_EQ(controllerAction(env), AgentAction::kStartWorker);
  EXPECT_EQ(peerAction(env), AgentAction::kRefuse);
  env.mutable_probe_data();
  EXPECT_EQ(peerAction(env), AgentAction::kProbeData);
  EXPECT_EQ(controllerAction(env), AgentAction::kRefuse);
  env.mutable_algo();
  EXPECT_EQ(peerAction(env), AgentAction::kDeliver);
  EXPECT_EQ(controllerAction(env), AgentAction::kDeliver);
  env.mutable_metrics();  // what an agent sends, never takes
  EXPECT_EQ(controllerAction(env), AgentAction::kRefuse);
  EXPECT_EQ(peerAction(wire::Envelope{}), AgentAction::kRefuse);
}

TEST(AgentDispatch, ASlowdownIsBetweenOneAndTheLimit) {
  auto f = fault(wire::FaultCommand::KIND_SLOWDOWN);
  f.set_slowdown(kMaxSlowdown);
  EXPECT_EQ(refusal(f), "accepted");
  f.set_slowdown(std::nextafter(kMaxSlowdown, 2 * kMaxSlowdown));
  EXPECT_TRUE(has(refusal(f), "slowdown")) << refusal(f);
  EXPECT_TRUE(has(refusal(f), "[1, 1000]")) << refusal(f);
  f.set_slowdown(1e300);
  EXPECT_TRUE(has(refusal(f), "slowdown 1e+300")) << refusal(f);
  f.set_slowdown(std::numeric_limits<double>::quiet_NaN());
  EXPECT_TRUE(has(refusal(f), "slowdown")) << refusal(f);
  f.set_slowdown(0.5);
  EXPECT_TRUE(has(refusal(f), "slowdown 0.5")) << refusal(f);
}

TEST(AgentDispatch, AFreezeIsPositiveAndAtMostTheLimit) {
  auto f = fault(wire::FaultCommand::KIND_FREEZE);
  f.set_freeze_s(kMaxFreezeS);
  EXPECT_EQ(refusal(f), "accepted");
  EXPECT_EQ(freezeLengthOf(f), std::chrono::hours(1));
  f.set_freeze_s(std::nextafter(kMaxFreezeS, 1e9));
  EXPECT_TRUE(has(refusal(f), "freeze_s")) << refusal(f);
  f.set_freeze_s(1e300);  // would overflow the clock the thaw is timed by
  EXPECT_TRUE(has(refusal(f), "freeze_s 1e+300")) << refusal(f);
  f.set_freeze_s(0);
  EXPECT_TRUE(has(refusal(f), "must be above 0")) << refusal(f);
}

TEST(AgentDispatch, ALinkShapeIsWithinItsLimits) {
  auto f = fault(wire::FaultCommand::KIND_LINK);
  f.set_delay_ms(kMaxLinkDelayMs);
  f.set_jitter_ms(kMaxLinkDelayMs);
  f.set_bandwidth_mbps(kMaxBandwidthMbps);
  f.set_drop_probability(std::nextafter(1.0, 0.0));
  EXPECT_EQ(refusal(f), "accepted");
  EXPECT_EQ(linkShapeOf(f).bandwidth_mbps, kMaxBandwidthMbps);
  auto over = f;
  over.set_delay_ms(kMaxLinkDelayMs + 1);
  EXPECT_TRUE(has(refusal(over), "delay_ms")) << refusal(over);
  over = f;
  over.set_jitter_ms(-1);
  EXPECT_TRUE(has(refusal(over), "jitter_ms")) << refusal(over);
  over = f;
  over.set_bandwidth_mbps(kMaxBandwidthMbps * 2);
  EXPECT_TRUE(has(refusal(over), "bandwidth_mbps")) << refusal(over);
  over = f;
  over.set_bandwidth_mbps(kMinBandwidthMbps);
  EXPECT_EQ(refusal(over), "accepted");
  over.set_bandwidth_mbps(std::nextafter(kMinBandwidthMbps, 0.0));
  EXPECT_TRUE(has(refusal(over), "below the smallest cap")) << refusal(over);
  over.set_bandwidth_mbps(1e-300);  // 64 MiB would take longer than the clock can count
  EXPECT_TRUE(has(refusal(over), "bandwidth_mbps 1e-300")) << refusal(over);
  over = f;
  over.set_drop_probability(1);
  EXPECT_TRUE(has(refusal(over), "drop_probability 1")) << refusal(over);
}

TEST(AgentDispatch, AnUnknownFaultKindIsRefused) {
  wire::FaultCommand f;
  f.set_kind(static_cast<wire::FaultCommand::Kind>(99));
  EXPECT_TRUE(has(refusal(f), "unknown kind 99")) << refusal(f);
  EXPECT_EQ(refusal(fault(wire::FaultCommand::KIND_CRASH)), "accepted");
  EXPECT_EQ(refusal(fault(wire::FaultCommand::KIND_CLEAR)), "accepted");
}

TEST(AgentDispatch, AProbeBurstIsAtMostTheLimitAndGoesToEachOtherDeviceOnce) {
  wire::ProbeRequest p;
  p.set_device(0);
  for (int d = 0; d < 3; ++d) p.add_peers("127.0.0.1:" + std::to_string(4000 + d));
  p.add_targets(1);
  p.add_targets(2);
  p.set_chunks(kMaxProbeChunks);
  p.set_chunk_bytes(static_cast<uint32_t>(kMaxProbeBurstBytes / kMaxProbeChunks));
  EXPECT_TRUE(checkProbeRequest(p).isOk()) << checkProbeRequest(p).message();
  auto over = p;
  over.set_chunk_bytes(over.chunk_bytes() + 1);
  EXPECT_TRUE(has(checkProbeRequest(over).message(), "a burst of 16778240 bytes"))
      << checkProbeRequest(over).message();
  over = p;
  over.add_targets(1);
  EXPECT_TRUE(has(checkProbeRequest(over).message(), "target device 1")) << "twice";
  over = p;
  over.add_targets(0);
  EXPECT_TRUE(has(checkProbeRequest(over).message(), "target device 0")) << "itself";
  over = p;
  over.add_targets(3);
  EXPECT_TRUE(has(checkProbeRequest(over).message(), "target device 3 of 3"));
  over = p;
  over.set_chunks(1);
  EXPECT_TRUE(has(checkProbeRequest(over).message(), "1 chunks"));
}

}  // namespace
}  // namespace edgerig
